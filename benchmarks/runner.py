"""Resumable runs: one JSON result file per run, worker processes with explicit threads.

A *run* is any object with ``key`` (a tuple of strings: its path under the run folder)
and ``describe()`` (a JSON-able dict of everything that determines its result). An
``execute(run)`` function returns ``{'record': {...}, 'curves': [...]}``: the record is
an open dict of metrics, so new metrics need no change here. ``Runner.run`` skips runs
whose file exists with the same description, refuses to mix a file made with another
description (say ``--fresh`` or choose another output), and retries failed runs.
"""

import json
import math
import multiprocessing
import os
import shutil
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Callable, Iterable, Optional

from benchmarks.common import ROOT, quiet, set_threads

IMPORTED = 'imported from an earlier CSV'


class StaleRunError(RuntimeError):
    """A result file exists for this key but was made with other settings."""


def _jsonable(value):
    if hasattr(value, 'item'):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _init_worker(threads):
    set_threads(threads)
    quiet()


def _execute(execute, run):
    """Run one task, turning an exception into a failed result (printed, retried later)."""
    start = time.perf_counter()
    try:
        result = execute(run)
    except Exception as error:  # noqa: BLE001 - reported loudly and kept as a failure
        result = {'record': {'error': f'{type(error).__name__}: {error}'[:500]},
                  'curves': [], 'traceback': traceback.format_exc()}
    result['seconds'] = time.perf_counter() - start
    return result


def add_run_options(parser, out=None):
    """The options every resumable benchmark shares: ``--out`` (the CSV of every run),
    ``--jobs``, ``--threads`` and ``--fresh``."""
    parser.add_argument('--out', default=out, help='CSV of every run')
    parser.add_argument('--jobs', type=int, default=1, help='parallel worker processes')
    parser.add_argument('--threads', type=int, default=1, help='torch threads per process')
    parser.add_argument('--fresh', action='store_true', help='delete earlier run files')


def results_path(out) -> Path:
    """``out`` as given when absolute, else under the repository root."""
    out = Path(out)
    return out if out.is_absolute() else ROOT / out


def run_folder(out) -> Path:
    """Where the run files of the CSV ``out`` live: ``runs/<its stem>`` beside it."""
    return out.parent / 'runs' / out.stem


def open_runner(out, args) -> 'Runner':
    """The ``Runner`` of the CSV ``out`` with ``add_run_options``' ``args``; ``--fresh``
    deletes the earlier run files first."""
    folder = run_folder(out)
    if args.fresh and folder.exists():
        shutil.rmtree(folder)
    return Runner(folder, jobs=args.jobs, threads=args.threads)


class Runner:
    """Executes runs into ``folder``, ``jobs`` processes of ``threads`` threads each."""

    def __init__(self, folder, *, jobs: int = 1, threads: int = 1):
        if jobs < 1 or threads < 1:
            raise ValueError(f'jobs and threads must be at least 1; got {jobs}, {threads}.')
        self.folder, self.jobs, self.threads = Path(folder), jobs, threads

    def path(self, key) -> Path:
        return self.folder.joinpath(*key[:-1], f'{key[-1]}.json')

    def stored(self, run) -> Optional[dict]:
        """The finished result of ``run``, or None; a result of other settings raises."""
        path = self.path(run.key)
        if not path.exists():
            return None
        result = json.loads(path.read_text())
        if result['record'].get('error'):
            return None
        description = _jsonable(run.describe())
        if result['config'] not in (description, IMPORTED):
            raise StaleRunError(
                f'{path} was made with other settings:\n  stored {result["config"]}\n  '
                f'now    {description}\nUse --fresh to start over or choose another --out.')
        return result

    def write(self, key, config, result) -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        result = {'key': list(key), 'config': _jsonable(config),
                  'finished': time.time(), **result}
        temporary = path.with_suffix('.tmp')
        temporary.write_text(json.dumps(_jsonable(result), indent=1))
        os.replace(temporary, path)

    def run(self, runs: Iterable, execute: Callable,
            show: Callable = lambda record: '') -> int:
        """Execute the runs not yet finished; returns how many failed."""
        runs = list(runs)
        pending = [run for run in runs if self.stored(run) is None]
        print(f'{len(pending)} of {len(runs)} runs to do, results in {self.folder}', flush=True)
        failures = 0

        def finish(run, result):
            nonlocal failures
            self.write(run.key, run.describe(), result)
            error = result['record'].get('error')
            if error:
                failures += 1
                print(f'FAILED {"/".join(run.key)}: {error}\n{result.get("traceback", "")}',
                      flush=True)
            else:
                print(f'{"/".join(run.key)}  {show(result["record"])}', flush=True)

        if self.jobs == 1:
            _init_worker(self.threads)
            for run in pending:
                finish(run, _execute(execute, run))
            return failures
        context = multiprocessing.get_context('spawn')  # no fork of a threaded torch
        with ProcessPoolExecutor(self.jobs, mp_context=context, initializer=_init_worker,
                                 initargs=(self.threads,)) as pool:
            futures = {pool.submit(_execute, execute, run): run for run in pending}
            for future in as_completed(futures):
                finish(futures[future], future.result())
        return failures

    def results(self) -> list:
        """Every stored result under the folder (failed ones too), oldest first."""
        if not self.folder.exists():
            return []
        results = [json.loads(path.read_text()) for path in self.folder.rglob('*.json')]
        return sorted(results, key=lambda result: (result['finished'], result['key']))
