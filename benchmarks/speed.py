"""Seconds per training epoch of PrivCTGAN relative to SDV's CTGANSynthesizer, one run.

Each model is fitted twice, for ``--short`` and ``--long`` epochs, on the same data and
batch size; the difference divided by the extra epochs is the cost of an epoch without
the fixed set-up (data transformer, first-call overheads). Ratios are taken within one
run because these machines are noisy.

    python benchmarks/speed.py                 # CPU, one thread (the 2-core default)
    python benchmarks/speed.py --device cuda   # GPU when present
"""

import argparse
import time
import warnings
from pathlib import Path

import pandas as pd

from _common import load_table, quiet, single_thread


def epoch_seconds(make, table, name, short, long):
    times = []
    for epochs in (short, long):
        synthesizer = make(epochs)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            synthesizer.fit({name: table})
        times.append(time.perf_counter() - start)
    return (times[1] - times[0]) / (long - short), times[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--table', default='credit')
    parser.add_argument('--rows', type=int, default=4000)
    parser.add_argument('--batch-size', type=int, default=400)
    parser.add_argument('--short', type=int, default=2)
    parser.add_argument('--long', type=int, default=12)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--partitions', type=int, nargs='+', default=[1, 2, 4])
    parser.add_argument('--fast-classifier', action='store_true',
                        help='also time K=2 with one classifier step per generator step')
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
    if args.fast_classifier:
        models['PrivCTGAN K=2, lambda=1, classifier_steps=1'] = lambda e: PrivCTGANSynthesizer(
            metadata, epochs=e, batch_size=args.batch_size, n_partitions=2,
            classifier_steps=1, device=args.device, seed=0)
    rows = []
    for label, make in models.items():
        per_epoch, total = epoch_seconds(make, table, args.table, args.short, args.long)
        rows.append({'model': label, 'seconds_per_epoch': per_epoch,
                     f'fit_seconds_{args.long}_epochs': total})
        print(rows[-1], flush=True)
    frame = pd.DataFrame(rows)
    frame['ratio_to_ctgan'] = frame['seconds_per_epoch'] / frame['seconds_per_epoch'].iloc[0]
    frame.insert(0, 'device', args.device)
    frame.insert(1, 'rows', len(table))
    frame.insert(2, 'batch_size', args.batch_size)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out, index=False)
    print(frame.round(3).to_string(index=False))


if __name__ == '__main__':
    main()
