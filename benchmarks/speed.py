"""Seconds per training epoch of PrivCTGAN relative to SDV's CTGANSynthesizer, one run.

Each model is fitted twice, for ``--short`` and ``--long`` epochs, on the same data and
batch size; the difference divided by the extra epochs is the cost of an epoch without
the fixed set-up (data transformer, first-call overheads). Models are interleaved over
``--repeats`` rounds; the ratio is of the process's CPU time per epoch (median over the
rounds), which other jobs on a shared machine disturb far less than wall time. On a GPU
(``--device cuda``) read the wall-time column.

    python -m benchmarks.speed --out benchmarks/results/speed_cpu.csv   # CPU, one thread
    python -m benchmarks.speed --device cuda --out speed_gpu.csv        # GPU when present

``--family`` picks the pair compared (``FAMILIES``: SDV's synthesizer and ours); add a
``Family`` entry to time another pair, e.g. TVAE against PrivTVAE.
"""

import argparse
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd

from benchmarks.common import ROOT, parse_assignments, quiet, set_threads
from benchmarks.tables import load_table


def sdv_ctgan(metadata, *, epochs, batch_size, device):
    from sdv.single_table import CTGANSynthesizer

    return CTGANSynthesizer(metadata, epochs=epochs, batch_size=batch_size,
                            enable_gpu=device != 'cpu')


def priv_ctgan(metadata, *, epochs, batch_size, device, **arguments):
    from sdv_privgan import PrivCTGANSynthesizer

    return PrivCTGANSynthesizer(metadata, epochs=epochs, batch_size=batch_size,
                                device=device, seed=0, **arguments)


def sdv_tvae(metadata, *, epochs, batch_size, device):
    from sdv.single_table import TVAESynthesizer

    return TVAESynthesizer(metadata, epochs=epochs, batch_size=batch_size,
                           enable_gpu=device != 'cpu')


def priv_tvae(metadata, *, epochs, batch_size, device, **arguments):
    from sdv_privgan import PrivTVAESynthesizer

    return PrivTVAESynthesizer(metadata, epochs=epochs, batch_size=batch_size,
                               device=device, seed=0, **arguments)


@dataclass(frozen=True)
class Family:
    """SDV's synthesizer (the ratio's denominator) and ours, built alike."""

    baseline_label: str
    baseline: Callable
    private_label: str
    private: Callable


FAMILIES = {'ctgan': Family('SDV CTGANSynthesizer', sdv_ctgan, 'PrivCTGAN', priv_ctgan),
            'tvae': Family('SDV TVAESynthesizer', sdv_tvae, 'PrivTVAE', priv_tvae)}


def epoch_seconds(make, table, name, short, long):
    """(wall, CPU) seconds of one epoch: the difference between a long and a short fit."""
    wall, cpu = [], []
    for epochs in (short, long):
        synthesizer = make(epochs)
        start, start_cpu = time.perf_counter(), time.process_time()
        synthesizer.fit({name: table})
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return (wall[1] - wall[0]) / (long - short), (cpu[1] - cpu[0]) / (long - short)


def models(family, metadata, args):
    """Label -> ``make(epochs)``: the baseline first, then K x lambda, then variants."""
    common = {'batch_size': args.batch_size, 'device': args.device}
    made = {family.baseline_label: lambda e: family.baseline(metadata, epochs=e, **common)}
    for k in args.partitions:
        weight = 0.0 if k == 1 else 1.0
        made[f'{family.private_label} K={k}, lambda={weight:g}'] = (
            lambda e, k=k, weight=weight: family.private(
                metadata, epochs=e, n_partitions=k, privacy_weight=weight, **common))
    for variant in args.variants:  # K=2 with some settings changed
        changes = parse_assignments(variant.split(','))
        made[f'{family.private_label} K=2, lambda=1, {variant}'] = (
            lambda e, changes=changes: family.private(
                metadata, epochs=e, n_partitions=2, **common, **changes))
    return made


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--family', default='ctgan', choices=list(FAMILIES))
    parser.add_argument('--table', default='credit')
    parser.add_argument('--rows', type=int, default=4000)
    parser.add_argument('--batch-size', type=int, default=400)
    parser.add_argument('--short', type=int, default=2)
    parser.add_argument('--long', type=int, default=12)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--threads', type=int, default=1, help='torch threads (CPU)')
    parser.add_argument('--partitions', type=int, nargs='+', default=[1, 2, 4])
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--variants', nargs='*', default=['classifier_steps=5', 'ema_decay=0'],
                        help='K=2 models with arguments changed, e.g. replay_size=0 or '
                             'classifier_steps=5,replay_size=500')
    parser.add_argument('--out', default='benchmarks/results/speed.csv')
    args = parser.parse_args(argv)
    if args.device == 'cpu':
        set_threads(args.threads)
    quiet()
    table, metadata = load_table(args.table, args.rows)
    made = models(FAMILIES[args.family], metadata, args)
    rows = []
    for repeat in range(args.repeats):  # interleaved, so load bursts hit every model
        for label, make in made.items():
            wall, cpu = epoch_seconds(make, table, args.table, args.short, args.long)
            rows.append({'model': label, 'repeat': repeat, 'wall_seconds_per_epoch': wall,
                         'cpu_seconds_per_epoch': cpu})
            print(rows[-1], flush=True)
    # CPU time of this single-threaded process is what other jobs on a shared machine
    # disturb least; wall time is reported beside it. Median over the repeats.
    frame = pd.DataFrame(rows).groupby('model', sort=False).median().drop(columns='repeat')
    frame = frame.reset_index()
    basis = 'wall_seconds_per_epoch' if args.device != 'cpu' else 'cpu_seconds_per_epoch'
    frame[f'ratio_to_{args.family}'] = frame[basis] / frame[basis].iloc[0]
    frame.insert(0, 'device', args.device)
    frame.insert(1, 'rows', len(table))
    frame.insert(2, 'batch_size', args.batch_size)
    out = Path(args.out) if Path(args.out).is_absolute() else ROOT / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, index=False)
    print(frame.round(3).to_string(index=False))


if __name__ == '__main__':
    main()
