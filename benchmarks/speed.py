"""Seconds per training epoch of PrivCTGAN relative to SDV's CTGANSynthesizer, one run.

Each model is fitted twice, for ``--short`` and ``--long`` epochs, on the same data and
batch size; the difference divided by the extra epochs is the cost of an epoch without
the fixed set-up (data transformer, first-call overheads). Models are interleaved over
``--repeats`` rounds; the ratio is of the process's CPU time per epoch (median over the
rounds), which other jobs on a shared machine disturb far less than wall time. On a GPU
(``--device cuda``) read the wall-time column.

    python benchmarks/speed.py                 # CPU, one thread (the 2-core default)
    python benchmarks/speed.py --device cuda   # GPU when present
"""

import argparse
import time
from pathlib import Path

import pandas as pd

from _common import load_table, quiet, single_thread


def epoch_seconds(make, table, name, short, long):
    """(wall, CPU) seconds of one epoch: the difference between a long and a short fit."""
    wall, cpu = [], []
    for epochs in (short, long):
        synthesizer = make(epochs)
        start, start_cpu = time.perf_counter(), time.process_time()
        synthesizer.fit({name: table})  # warnings silenced by quiet()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return (wall[1] - wall[0]) / (long - short), (cpu[1] - cpu[0]) / (long - short)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--table', default='credit')
    parser.add_argument('--rows', type=int, default=4000)
    parser.add_argument('--batch-size', type=int, default=400)
    parser.add_argument('--short', type=int, default=2)
    parser.add_argument('--long', type=int, default=12)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--partitions', type=int, nargs='+', default=[1, 2, 4])
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--variants', nargs='*', default=['classifier_steps=5', 'ema_decay=0'],
                        help='K=2 models with arguments changed, e.g. replay_size=0 or '
                             'classifier_steps=5,replay_size=500')
    parser.add_argument('--out', default='benchmarks/results/speed.csv')
    args = parser.parse_args()
    if args.device == 'cpu':
        single_thread()
    quiet()
    from sdv.single_table import CTGANSynthesizer

    from sdv_privgan import PrivCTGANSynthesizer

    table, metadata = load_table(args.table, args.rows)
    gpu = args.device != 'cpu'
    models = {'SDV CTGANSynthesizer': lambda e: CTGANSynthesizer(
        metadata, epochs=e, batch_size=args.batch_size, enable_gpu=gpu)}
    for k in args.partitions:
        weight = 0.0 if k == 1 else 1.0
        models[f'PrivCTGAN K={k}, lambda={weight:g}'] = (
            lambda e, k=k, weight=weight: PrivCTGANSynthesizer(
                metadata, epochs=e, batch_size=args.batch_size, n_partitions=k,
                privacy_weight=weight, device=args.device, seed=0))
    for variant in args.variants:  # K=2 with some settings changed
        changes = {name: float(value) if '.' in value else int(value)
                   for name, value in (item.split('=') for item in variant.split(','))}
        models[f'PrivCTGAN K=2, lambda=1, {variant}'] = (
            lambda e, changes=changes: PrivCTGANSynthesizer(
                metadata, epochs=e, batch_size=args.batch_size, n_partitions=2,
                device=args.device, seed=0, **changes))
    rows = []
    for repeat in range(args.repeats):  # interleaved, so load bursts hit every model
        for label, make in models.items():
            wall, cpu = epoch_seconds(make, table, args.table, args.short, args.long)
            rows.append({'model': label, 'repeat': repeat, 'wall_seconds_per_epoch': wall,
                         'cpu_seconds_per_epoch': cpu})
            print(rows[-1], flush=True)
    # CPU time of this single-threaded process is what other jobs on a shared machine
    # disturb least; wall time is reported beside it. Median over the repeats.
    frame = pd.DataFrame(rows).groupby('model', sort=False).median().drop(columns='repeat')
    frame = frame.reset_index()
    basis = 'wall_seconds_per_epoch' if gpu else 'cpu_seconds_per_epoch'
    frame['ratio_to_ctgan'] = frame[basis] / frame[basis].iloc[0]
    frame.insert(0, 'device', args.device)
    frame.insert(1, 'rows', len(table))
    frame.insert(2, 'batch_size', args.batch_size)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out, index=False)
    print(frame.round(3).to_string(index=False))


if __name__ == '__main__':
    main()
