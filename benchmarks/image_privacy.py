"""Privacy-utility benchmark of PrivImageSynthesizer on scikit-learn's 8x8 digits.

For each seed: a random set of members (the training images) and all other digits as
non-members (also the downstream test set). Models: the plain conditional DCGAN
(n_partitions=1, privacy_weight=0), then K in {2, 4} x lambda in {0, 0.5, 1, 2}, all with
the same architecture and the same number of steps. Reported per model, mean +- sd over
seeds: white-box (LOGAN critic, component classifier) and Monte-Carlo attack ROC AUC on
balanced sets, privGAN's top-members accuracy on the whole pool, downstream accuracy of
a CNN trained on synthetic images (and on the real members), the post-hoc component
distinguishability, and fit time.

    python -m benchmarks.image_privacy            # ~15 min on one core
    python -m benchmarks.image_privacy --full     # GPU: 5 seeds, longer

One JSON file per (model, seed) under ``benchmarks/results/runs/<out>/``, so an
interrupted run resumes where it stopped; ``--out`` gets every run of that folder.
"""

import argparse
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.common import ROOT, parse_assignments, quiet, seed_everything, set_threads
from benchmarks.runner import IMPORTED, Runner

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


@dataclass(frozen=True)
class ImageRun:
    name: str
    n_partitions: int
    privacy_weight: float
    seed: int
    n_members: int = 200
    epochs: int = 600
    batch_size: int = 32
    n_synthetic: int = 1000
    cnn_epochs: int = 20
    device: str = None
    ema_decay: float = None     # None: the library's default
    arguments: tuple = ()       # more (name, value) pairs for PrivImageSynthesizer

    @property
    def key(self):
        name = self.name.replace(' ', '').replace(',', '_')
        if self.ema_decay is not None:  # runs of several ema_decay values can share --out
            name += f'_ema{self.ema_decay:g}'
        return (name, f'seed{self.seed}')

    def describe(self):
        return {**vars(self), 'arguments': dict(self.arguments)}


def configurations(partitions, weights):
    yield 'plain GAN', 1, 0.0
    for k in partitions:
        for weight in weights:
            yield f'K={k}, lambda={weight:g}', k, weight


def execute(run: ImageRun) -> dict:
    from sdv_privgan.image import PrivImageSynthesizer
    from sdv_privgan.image.demo import split_digits
    from sdv_privgan.image.evaluation import evaluate_image_synthesizer

    seed_everything(run.seed)
    members, labels, others, other_labels = split_digits(run.n_members, run.seed)
    start = time.perf_counter()
    model = PrivImageSynthesizer(
        n_partitions=run.n_partitions, privacy_weight=run.privacy_weight, epochs=run.epochs,
        batch_size=run.batch_size, keep_training_state=True, seed=run.seed, device=run.device,
        **({} if run.ema_decay is None else {'ema_decay': run.ema_decay}),
        **dict(run.arguments))
    model.fit(members, labels)
    fit_seconds = time.perf_counter() - start
    result = evaluate_image_synthesizer(
        model, members, labels, others, other_labels, n_synthetic=run.n_synthetic,
        cnn_epochs=run.cnn_epochs, seed=run.seed, real_baseline=(run.n_partitions == 1))
    record = {'model': run.name, 'n_partitions': run.n_partitions,
              'privacy_weight': run.privacy_weight, 'seed': run.seed,
              'ema_decay': run.ema_decay, 'fit_seconds': fit_seconds, **result}
    return {'record': record, 'curves': []}


def show(record):
    return (f"fit {record['fit_seconds']:5.0f}s  LOGAN {record['white_box_critic_auc']:.3f}  "
            f"MC {record['monte_carlo_auc']:.3f}  "
            f"downstream {record.get('downstream_accuracy', np.nan):.3f}")


def _mean_sd(values):
    return f'{values.mean():.3f} +- {values.std(ddof=1) if len(values) > 1 else 0:.3f}'


def table(results: pd.DataFrame) -> str:
    """Markdown: mean +- sd over seeds per model, in the order the models were run."""
    from benchmarks.report import values

    lines = ['| model | ' + ' | '.join(COLUMNS.values()) + ' |',
             '|---|' + '---|' * len(COLUMNS)]
    for name in dict.fromkeys(results['model']):
        rows = results[results['model'] == name]
        cells = []
        for column in COLUMNS:
            series = values(rows, column, where=name)
            if series.empty:
                cells.append('-')
            else:
                cells.append(f'{series.mean():.0f}' if column == 'fit_seconds'
                             else _mean_sd(series))
        lines.append(f'| {name} | ' + ' | '.join(cells) + ' |')
    plain = results[results['n_partitions'] == 1]
    real = values(plain, 'downstream_accuracy_real', where='the plain GAN')
    if len(real):
        chance = results['monte_carlo_top_members_chance'].iloc[0]
        lines += ['', f'Downstream accuracy of the same CNN trained on the real members: '
                      f'{_mean_sd(real)}. Top-members chance level: {chance:.3f}. '
                      f'Seeds: {sorted(results["seed"].unique().tolist())}.']
    return '\n'.join(lines)


def main(argv=None):
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
    parser.add_argument('--synthesizer-args', nargs='+', default=[], metavar='NAME=VALUE',
                        help='more PrivImageSynthesizer arguments, e.g. privacy_loss=jsd '
                             'classifier_steps=5 classifier_lr=0.001')
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--jobs', type=int, default=1, help='parallel worker processes')
    parser.add_argument('--out', default='benchmarks/results/image_privacy.csv')
    parser.add_argument('--resume', action='store_true',
                        help='also count the rows of an existing --out CSV as finished')
    parser.add_argument('--fresh', action='store_true', help='delete earlier run files')
    args = parser.parse_args(argv)
    if args.full:
        args.seeds, args.epochs, args.n_members = [0, 1, 2, 3, 4], 3000, 500
    set_threads(args.threads)
    quiet()
    out = Path(args.out) if Path(args.out).is_absolute() else ROOT / args.out
    folder = out.parent / 'runs' / out.stem
    if args.fresh and folder.exists():
        shutil.rmtree(folder)
    runner = Runner(folder, jobs=args.jobs, threads=args.threads)
    settings = dict(n_members=args.n_members, epochs=args.epochs, batch_size=args.batch_size,
                    n_synthetic=args.n_synthetic, cnn_epochs=args.cnn_epochs,
                    device=args.device, ema_decay=args.ema_decay,
                    arguments=tuple(sorted(parse_assignments(args.synthesizer_args).items())))
    runs = [ImageRun(name, k, weight, seed, **settings) for seed in args.seeds
            for name, k, weight in configurations(args.partitions, args.weights)]
    if args.resume and out.exists():
        for record in pd.read_csv(out).to_dict('records'):
            ema = record.get('ema_decay', np.nan)
            run = ImageRun(record['model'], int(record['n_partitions']),
                           float(record['privacy_weight']), int(record['seed']),
                           **{**settings, 'ema_decay': None if pd.isna(ema) else float(ema)})
            if not runner.path(run.key).exists():
                runner.write(run.key, IMPORTED, {'record': record, 'curves': []})
    failures = runner.run(runs, execute, show)
    results = pd.DataFrame([result['record'] for result in runner.results()])
    out.parent.mkdir(parents=True, exist_ok=True)
    results.to_csv(out, index=False)
    print()
    print(table(results))
    if failures:
        raise SystemExit(f'{failures} runs failed (see FAILED above); rerun to retry them.')


if __name__ == '__main__':
    main()
