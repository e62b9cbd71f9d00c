"""Any number of synthetic rows with constant memory: in chunks, to files, on many workers.

A request for ``num_rows`` rows is cut into chunks of ``batch_size`` rows; chunk ``i`` is
always drawn with the seed ``derived_seed(seed, i)`` (the model's noise and mixture draws,
and the random parts of SDV's reverse transformation), so chunk ``i`` holds the same rows
whichever process draws it and in whatever order. Chunks are yielded one at a time
(``iter_chunks``), appended to one Parquet or CSV file (``write_chunks``), or drawn by a
Dask cluster, each worker writing its chunks as parts of a Parquet dataset
(``sample_parallel``): the same seed gives the same rows with any number of workers.

Launch on one machine (Dask's local process pool)::

    python -m sdv_privgan.sampling synthesizer.pkl 10000000 out/ --workers 8 --seed 0

or on a cluster: ``dask scheduler`` on one host, ``dask worker tcp://HOST:8786
--nworkers 8 --nthreads 1`` on each (with ``sdv_privgan`` installed and the
synthesizer file readable there), then the command above with
``--scheduler tcp://HOST:8786``.
"""

import argparse
import copy
import functools
import os
from pathlib import Path

import numpy as np
import torch
from sdv.single_table.base import FIXED_RNG_SEED  # what SDV seeds its first sample with
from tqdm import tqdm

from sdv_privgan._compat import field_transformers
from sdv_privgan.config import POSITIVE_INT, invalid
from sdv_privgan.game import derived_seed, seeded

#: Rows per chunk by default: a few hundred MB at most for a wide table.
BATCH_SIZE = 100_000
FILE_FORMATS = ('parquet', 'csv')


def chunk_plan(num_rows, batch_size=BATCH_SIZE):
    """``[(i, rows), ...]``: chunk ``i`` of ``rows`` rows; all but the last full."""
    num_rows = POSITIVE_INT('num_rows', num_rows)
    batch_size = POSITIVE_INT('batch_size', batch_size)
    return [(i, min(batch_size, num_rows - start))
            for i, start in enumerate(range(0, num_rows, batch_size))]


def default_seed(synthesizer):
    """A seed drawn from the synthesizer's own sampling state (seeded as SDV seeds it
    before a first sample): reproducible after ``fit`` or ``reset_sampling``, and new on
    every call."""
    if not synthesizer._random_state_set:
        synthesizer._set_random_state(FIXED_RNG_SEED)
    return int(synthesizer._model.random_states[0].randint(2**31))


def sample_chunk(synthesizer, index, num_rows, seed, max_tries_per_batch=100):
    """Chunk ``index`` of a request seeded ``seed``: ``num_rows`` rows, a DataFrame."""
    chunk_seed = derived_seed(seed, index) % 2**32
    with seeded(chunk_seed, synthesizer._model._device):
        synthesizer._set_random_state(chunk_seed)
        for position, transformer in enumerate(_transformers(synthesizer)):
            transformer.set_random_state(
                np.random.RandomState(derived_seed(chunk_seed, position) % 2**32),
                'reverse_transform')
        frame = synthesizer.sample(num_rows, max_tries_per_batch=max_tries_per_batch)
    return frame[synthesizer._table_name].reset_index(drop=True)


def iter_chunks(synthesizer, num_rows, *, batch_size=BATCH_SIZE, seed=None,
                max_tries_per_batch=100):
    """Yield the chunks of ``num_rows`` rows one by one (DataFrames of ``batch_size``
    rows, the last one shorter). The synthesizer's own sampling state is restored once
    the iteration ends, except for the draw of a default ``seed``."""
    plan = chunk_plan(num_rows, batch_size)
    seed = default_seed(synthesizer) if seed is None else seed
    saved = _sampling_state(synthesizer)
    try:
        for index, rows in plan:
            yield sample_chunk(synthesizer, index, rows, seed, max_tries_per_batch)
    finally:
        _restore_sampling_state(synthesizer, saved)


def _transformers(synthesizer):
    return [transformer for transformer in field_transformers(synthesizer).values()
            if transformer is not None and hasattr(transformer, 'random_states')]


def _sampling_state(synthesizer):
    return (synthesizer._random_state_set, copy.deepcopy(synthesizer._model.random_states),
            [copy.deepcopy(t.random_states['reverse_transform'])
             for t in _transformers(synthesizer)])


def _restore_sampling_state(synthesizer, saved):
    was_set, model_states, transformer_states = saved
    synthesizer._model.random_states = model_states
    synthesizer._random_state_set = was_set
    for transformer, state in zip(_transformers(synthesizer), transformer_states):
        transformer.set_random_state(state, 'reverse_transform')


def output_path(output_folder_path, table_name, file_format):
    """``<folder>/<table>.<format>`` as SDV names its output, the folder created; an
    existing file is an error, never overwritten."""
    if file_format not in FILE_FORMATS:
        invalid('file_format', file_format, f'one of {FILE_FORMATS}')
    folder = Path(output_folder_path)
    path = folder / f'{table_name}.{file_format}'
    if path.exists():
        raise FileExistsError(f'{path} already exists: choose another output_folder_path or '
                              'remove the file.')
    folder.mkdir(parents=True, exist_ok=True)
    return path


def write_chunks(chunks, path, num_rows, *, file_format='parquet', show_progress_bar=True):
    """Append DataFrames to one Parquet file (one row group each) or CSV file as they
    come; only one chunk is in memory at a time. Returns the number of rows written."""
    written, writer = 0, None
    with tqdm(total=num_rows, disable=not show_progress_bar, desc='Sampling rows') as bar:
        try:
            for frame in chunks:
                if file_format == 'csv':
                    frame.to_csv(path, mode='a' if written else 'w', header=not written,
                                 index=False)
                else:
                    writer = _append_parquet(writer, path, frame)
                written += len(frame)
                bar.update(len(frame))
        finally:
            if writer is not None:
                writer.close()
    return written


def _append_parquet(writer, path, frame):
    import pyarrow as pa
    import pyarrow.parquet as pq

    if writer is None:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        writer = pq.ParquetWriter(path, table.schema)
    else:
        try:
            table = pa.Table.from_pandas(frame, schema=writer.schema, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
            raise ValueError(
                f'A chunk of rows does not fit the Parquet schema of the first chunk '
                f'({error}); sample with a larger batch_size or to CSV.') from error
    writer.write_table(table)
    return writer


# ---------------------------------------------------------------------- many workers
def sample_parallel(filepath, num_rows, output_folder_path, *, batch_size=BATCH_SIZE,
                    seed=None, num_workers=None, scheduler=None, threads_per_worker=1,
                    max_tries_per_batch=100):
    """Sample a saved synthesizer on a Dask cluster or a local process pool.

    Each worker loads ``filepath`` once and draws chunks (``chunk_plan``), writing chunk
    ``i`` to ``<output_folder_path>/<table>/part-<i>.parquet``; ``pandas.read_parquet`` of
    that folder reads the rows in order. With the same ``seed`` the rows are those
    ``iter_chunks`` draws in one process, whatever the number of workers (``seed=None``:
    the seed a freshly loaded synthesizer draws). ``scheduler``: a Dask scheduler
    (``'processes'``, ``'synchronous'``, a ``distributed.Client`` or its address); by
    default the active Dask client, else a local pool of ``num_workers`` processes.
    Returns the folder of parts.
    """
    import dask
    from sdv.utils import load_synthesizer

    synthesizer = load_synthesizer(str(filepath))  # a fresh copy: its default seed
    table = synthesizer._table_name
    key = synthesizer.metadata.tables[table].primary_key
    if key is not None:
        raise ValueError(
            f"The table has a primary key '{key}': workers would generate the same keys. "
            'Sample it in one process (sample_to_folder), or drop the primary key.')
    plan = chunk_plan(num_rows, batch_size)
    seed = default_seed(synthesizer) if seed is None else seed
    folder = Path(output_folder_path) / table
    if folder.exists() and any(folder.iterdir()):
        raise FileExistsError(f'{folder} is not empty: choose another output_folder_path.')
    folder.mkdir(parents=True, exist_ok=True)
    tasks = [dask.delayed(_write_part, pure=False)(
        str(filepath), index, rows, seed, str(folder), threads_per_worker, max_tries_per_batch)
        for index, rows in plan]
    dask.compute(*tasks, **_scheduler(scheduler, num_workers))
    return folder


def _scheduler(scheduler, num_workers):
    if isinstance(scheduler, str) and '://' in scheduler:
        from distributed import Client

        return {'scheduler': Client(scheduler)}
    if scheduler is None:
        try:
            from distributed import default_client

            return {'scheduler': default_client()}
        except (ImportError, ValueError):
            scheduler = 'processes'
    options = {'scheduler': scheduler}
    if num_workers is not None:
        options['num_workers'] = num_workers
    return options


@functools.lru_cache(maxsize=2)
def _load(filepath, mtime):
    from sdv.utils import load_synthesizer

    return load_synthesizer(filepath)


def _write_part(filepath, index, rows, seed, folder, threads, max_tries):
    torch.set_num_threads(threads)
    synthesizer = _load(filepath, os.path.getmtime(filepath))
    frame = sample_chunk(synthesizer, index, rows, seed, max_tries)
    frame.to_parquet(Path(folder) / f'part-{index:05d}.parquet', index=False)
    return len(frame)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='python -m sdv_privgan.sampling',
        description='Sample a saved synthesizer on many workers into a Parquet dataset.')
    parser.add_argument('synthesizer', help='a file written by synthesizer.save')
    parser.add_argument('num_rows', type=int)
    parser.add_argument('output_folder', help='receives <table>/part-*.parquet')
    parser.add_argument('--batch-size', type=int, default=BATCH_SIZE)
    parser.add_argument('--seed', type=int, default=None)
    parser.add_argument('--workers', type=int, default=None, help='local processes')
    parser.add_argument('--scheduler', default=None,
                        help='a Dask scheduler address (tcp://HOST:8786)')
    args = parser.parse_args(argv)
    folder = sample_parallel(args.synthesizer, args.num_rows, args.output_folder,
                             batch_size=args.batch_size, seed=args.seed,
                             num_workers=args.workers, scheduler=args.scheduler)
    print(folder)


if __name__ == '__main__':
    main()
