"""Privacy-utility benchmark of PrivImageSynthesizer on scikit-learn's 8x8 digits.

For each seed: a random set of members (the training images) and all other digits as
non-members (also the downstream test set). Models: the plain conditional DCGAN
(n_partitions=1, privacy_weight=0), then K in {2, 4} x lambda in {0, 0.5, 1, 2}, all with
the same architecture and the same number of steps. Reported per model, mean +- sd over
seeds: white-box (LOGAN critic, component classifier) and Monte-Carlo attack ROC AUC on
balanced sets, privGAN's top-members accuracy on the whole pool, downstream accuracy of
a CNN trained on synthetic images (and on the real members), the post-hoc component
distinguishability, and fit time.

    OMP_NUM_THREADS=1 python benchmarks/image_privacy.py            # ~15 min on one core
    python benchmarks/image_privacy.py --full                       # GPU: 5 seeds, longer

Rows are appended to a CSV as they finish, so an interrupted run still leaves results.
"""

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from sdv_privgan.image import PrivImageSynthesizer
from sdv_privgan.image.demo import split_digits
from sdv_privgan.image.evaluation import evaluate_image_synthesizer

COLUMNS = {
    'white_box_critic_auc': 'LOGAN AUC',
    'white_box_critic_top_members_accuracy': 'LOGAN top-members acc.',
    'white_box_classifier_auc': 'Classifier AUC',
    'monte_carlo_auc': 'MC AUC',
    'monte_carlo_top_members_accuracy': 'MC top-members acc.',
    'downstream_accuracy': 'Downstream acc. (synthetic)',
    'distinguishability_auc': 'Components distinguishable (AUC)',
    'fit_seconds': 'Fit (s)',
}


def configurations(partitions, weights):
    yield 'plain GAN', 1, 0.0
    for k in partitions:
        for weight in weights:
            yield f'K={k}, lambda={weight:g}', k, weight


def run(args):
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    done = pd.read_csv(out) if out.exists() and args.resume else pd.DataFrame()
    for seed in args.seeds:
        members, labels, others, other_labels = split_digits(args.n_members, seed)
        for name, k, weight in configurations(args.partitions, args.weights):
            if len(done) and ((done['model'] == name) & (done['seed'] == seed)).any():
                continue
            start = time.perf_counter()
            model = PrivImageSynthesizer(
                n_partitions=k, privacy_weight=weight, epochs=args.epochs,
                batch_size=args.batch_size, keep_training_state=True, seed=seed,
                device=args.device, **({} if args.ema_decay is None else
                                       {'ema_decay': args.ema_decay}))
            model.fit(members, labels)
            fit_seconds = time.perf_counter() - start
            result = evaluate_image_synthesizer(
                model, members, labels, others, other_labels, n_synthetic=args.n_synthetic,
                cnn_epochs=args.cnn_epochs, seed=seed, real_baseline=(k == 1))
            row = {'model': name, 'n_partitions': k, 'privacy_weight': weight, 'seed': seed,
                   'fit_seconds': fit_seconds, **result}
            print(f"seed {seed} {name:18s} fit {fit_seconds:5.0f}s  LOGAN "
                  f"{row['white_box_critic_auc']:.3f}  MC {row['monte_carlo_auc']:.3f}  "
                  f"downstream {row.get('downstream_accuracy', np.nan):.3f}", flush=True)
            done = pd.concat([done, pd.DataFrame([row])], ignore_index=True)
            done.to_csv(out, index=False)
    return done


def table(results):
    """Markdown: mean +- sd over seeds per model, in the order the models were run."""
    order = list(dict.fromkeys(results['model']))
    lines = ['| model | ' + ' | '.join(COLUMNS.values()) + ' |',
             '|---|' + '---|' * len(COLUMNS)]
    for name in order:
        rows = results[results['model'] == name]
        cells = []
        for column in COLUMNS:
            values = rows[column].dropna() if column in rows else pd.Series(dtype=float)
            if values.empty:
                cells.append('-')
            elif column == 'fit_seconds':
                cells.append(f'{values.mean():.0f}')
            else:
                cells.append(f'{values.mean():.3f} +- {values.std(ddof=1) if len(values) > 1 else 0:.3f}')
        lines.append(f'| {name} | ' + ' | '.join(cells) + ' |')
    real = results['downstream_accuracy_real'].dropna() if 'downstream_accuracy_real' in results else []
    if len(real):
        lines.append('')
        lines.append(f'Downstream accuracy of the same CNN trained on the real members: '
                     f'{real.mean():.3f} +- {real.std(ddof=1) if len(real) > 1 else 0:.3f}. '
                     f'Top-members chance level: {results["monte_carlo_top_members_chance"].iloc[0]:.3f}. '
                     f'Seeds: {sorted(results["seed"].unique().tolist())}.')
    return '\n'.join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--full', action='store_true',
                        help='5 seeds, 3000 epochs, 500 members (meant for a GPU)')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1])
    parser.add_argument('--n-members', type=int, default=200)
    parser.add_argument('--epochs', type=int, default=600)
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--n-synthetic', type=int, default=1000)
    parser.add_argument('--cnn-epochs', type=int, default=20)
    parser.add_argument('--partitions', type=int, nargs='+', default=[2, 4])
    parser.add_argument('--weights', type=float, nargs='+', default=[0.0, 0.5, 1.0, 2.0])
    parser.add_argument('--device', default=None)
    parser.add_argument('--ema-decay', type=float, default=None,
                        help="the synthesizer's ema_decay (default: the library's)")
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--out', default='benchmarks/results/image_privacy.csv')
    parser.add_argument('--resume', action='store_true', help='skip rows already in --out')
    args = parser.parse_args()
    if args.full:
        args.seeds, args.epochs, args.n_members = [0, 1, 2, 3, 4], 3000, 500
    os.environ.setdefault('OMP_NUM_THREADS', str(args.threads))
    torch.set_num_threads(args.threads)
    results = run(args)
    print()
    print(table(results))


if __name__ == '__main__':
    main()
