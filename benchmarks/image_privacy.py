"""Privacy and utility of PrivImageSynthesizer: privGAN's protocol beside ours.

Data: scikit-learn's 8x8 digits (1,797 images, CPU), or Fashion-MNIST (60,000 28x28
training images, ``--full``, meant for a GPU; read from its IDX files, never downloaded).
Per seed, a random 10 % of the images are the members (the training set), the rest the
non-members, as in privGAN (Mukherjee et al. 2021), whose MNIST figures are the anchor:
white-box top-members accuracy GAN 0.538 -> privGAN 0.210 (chance 0.10), downstream
accuracy 0.9704 -> 0.9377.

Models, all with the same networks, settings and number of steps: the plain conditional
DCGAN (K=1, lambda=0); K=2, lambda=0; the same on the *same images* (each component
trained on a copy of all members, lambda=0: a control for what tells two GANs apart when
neither saw an image the other did not); then K in ``--partitions`` x lambda in
``--weights`` (default: K=2, lambda=3, the library's defaults). ``--synthesizer-args`` go
to every model (a variant; its runs are kept apart from the defaults' in one ``--out``);
a plain GAN ignores the component game's arguments, so variants that differ only in those
share its runs.

Per model, mean +- sd over seeds:
- privGAN's figures: top-members accuracy (the share of members among the |members|
  top-scored images of the whole pool; chance 0.10) of the white-box LOGAN attack (the
  kept discriminators) and of the Monte-Carlo set attack; downstream accuracy of a CNN
  trained on synthetic images, tested on the real non-members.
- Ours: the same attacks' ROC AUC on balanced member / non-member sets, and the post-hoc
  gauge (a fresh classifier telling the components apart) on three views of the samples:
  pixels, blurred pixels and content features (``sdv_privgan.image.gauges``).

    python -m benchmarks.image_privacy                      # digits, 3 seeds, one CPU thread
    python -m benchmarks.image_privacy --full --device cuda   # Fashion-MNIST: gpu_images.sh

One JSON file per (variant, model, seed) under ``benchmarks/results/runs/<out>/``: an
interrupted run resumes, and commands with one ``--out`` add up.
"""

import argparse
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from benchmarks.common import parse_assignments, quiet, seed_everything, set_threads
from benchmarks.runner import add_run_options, open_runner, results_path

#: The columns of the earlier table in docs/images.md (``doc_tables.image_benchmark``).
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
#: The tables this command prints: privGAN's figures, then ours.
PRIVGAN_COLUMNS = {
    'white_box_critic_top_members_accuracy': 'white-box top-members acc.',
    'monte_carlo_top_members_accuracy': 'MC set attack top-members acc.',
    'downstream_accuracy': 'downstream acc.',
}
OUR_COLUMNS = {
    'white_box_critic_auc': 'white-box AUC',
    'monte_carlo_auc': 'MC AUC',
    'gauge_pixels_auc': 'gauge: pixels',
    'gauge_blurred_auc': 'gauge: blurred',
    'gauge_features_auc': 'gauge: features',
    'fit_cpu_seconds': 'fit CPU s',
}
SAME_IMAGES = 'K=2, lambda=0, same images'
BASELINES = {'plain': ('plain GAN', 1, 0.0, False), 'lambda0': ('K=2, lambda=0', 2, 0.0, False),
             'same': (SAME_IMAGES, 2, 0.0, True)}
#: Arguments that only the component game reads: a plain GAN (K=1) ignores them, so its
#: runs are shared by every variant that differs in these alone.
GAME_ONLY = {'classifier_lr', 'classifier_steps', 'classifier_width', 'classifier_blur',
             'classifier_spectral_norm', 'privacy_loss', 'replay_size', 'warmup_epochs'}


def variant(arguments):
    return ' '.join(f'{name}={value}' for name, value in arguments)


def plain_arguments(arguments):
    return tuple((name, value) for name, value in arguments if name not in GAME_ONLY)


@dataclass(frozen=True)
class ImageRun:
    name: str
    n_partitions: int
    privacy_weight: float
    seed: int
    same_images: bool = False
    data: str = 'digits'
    data_dir: str = None
    member_share: float = 0.1
    epochs: int = 600
    batch_size: int = 32
    n_synthetic: int = 1000
    cnn_epochs: int = 20
    gauge_samples: int = 500
    device: str = None
    arguments: tuple = ()       # (name, value) pairs for PrivImageSynthesizer

    @property
    def key(self):
        tag = '_'.join(f'{name}{value}' for name, value in self.arguments) or 'defaults'
        name = self.name.replace(' ', '').replace(',', '_')
        return (tag, name, f'seed{self.seed}')

    def describe(self):
        return {**vars(self), 'arguments': dict(self.arguments)}


def configurations(partitions, weights, baselines=tuple(BASELINES)):
    """``(name, K, lambda, same_images)`` of the baselines, then of the grid."""
    chosen = [BASELINES[name] for name in baselines]
    yield from chosen
    for k in partitions:
        for weight in weights:
            name = f'K={k}, lambda={weight:g}'
            if all(name != other for other, *_ in chosen):
                yield name, k, weight, False


def load_split(run):
    """``(members, member_labels, others, other_labels)``: a random ``member_share`` of
    the images as members, the rest as non-members."""
    if run.data == 'digits':
        from sdv_privgan.image.demo import load_digits_images
        images, labels = load_digits_images()
    elif run.data == 'fashion':
        from sdv_privgan.image.loading import load_fashion_mnist
        images, labels = load_fashion_mnist(run.data_dir, 'train')
    else:
        raise ValueError(f"data must be 'digits' or 'fashion'; got {run.data!r}.")
    order = np.random.default_rng(run.seed).permutation(len(images))
    n = int(round(run.member_share * len(images)))
    members, others = order[:n], order[n:]
    return images[members], labels[members], images[others], labels[others]


def copies_as_partitions(n_images, k, seed):
    """Indices of ``n_images`` images ``k`` times, ordered so that the synthesizer's
    partition ``c`` (drawn first from its seed) is exactly one copy of all of them
    (``tests/test_image_synthesizer.py`` checks that the fit draws them so)."""
    from benchmarks.distinguishability import copies_as_partitions as copies
    return copies(pd.DataFrame({'image': np.arange(n_images)}), k, seed)['image'].to_numpy()


def steps_per_epoch(n_images, batch_size):
    return max(1, n_images // batch_size)  # PrivImageSynthesizer.fit's


def execute(run: ImageRun) -> dict:
    from sdv_privgan.image import PrivImageSynthesizer
    from sdv_privgan.image.evaluation import evaluate_image_synthesizer

    seed_everything(run.seed)
    members, labels, others, other_labels = load_split(run)
    train, train_labels, epochs = members, labels, run.epochs
    if run.same_images:  # as many steps as the model on disjoint partitions
        order = copies_as_partitions(len(members), run.n_partitions, run.seed)
        train, train_labels = members[order], labels[order]
        epochs = max(1, round(run.epochs * steps_per_epoch(len(members), run.batch_size)
                              / steps_per_epoch(len(train), run.batch_size)))
    start, cpu = time.perf_counter(), time.process_time()
    model = PrivImageSynthesizer(
        n_partitions=run.n_partitions, privacy_weight=run.privacy_weight, epochs=epochs,
        batch_size=run.batch_size, keep_training_state=True, seed=run.seed, device=run.device,
        **dict(run.arguments))
    model.fit(train, train_labels)
    fit_seconds, fit_cpu = time.perf_counter() - start, time.process_time() - cpu
    result = evaluate_image_synthesizer(
        model, members, labels, others, other_labels, n_synthetic=run.n_synthetic,
        cnn_epochs=run.cnn_epochs, seed=run.seed, real_baseline=(run.n_partitions == 1),
        features=content_features(model, others, other_labels, run),
        gauge_samples=run.gauge_samples)
    record = {'model': run.name, 'variant': variant(run.arguments),
              'baseline_variant': variant(plain_arguments(run.arguments)),
              'n_partitions': run.n_partitions,
              'privacy_weight': run.privacy_weight, 'seed': run.seed, 'data': run.data,
              'n_members': len(members),
              'steps': epochs * steps_per_epoch(len(train), run.batch_size),
              'fit_seconds': fit_seconds, 'fit_cpu_seconds': fit_cpu, **result}
    return {'record': record, 'curves': []}


def content_features(model, others, other_labels, run):
    """The gauge's content view (K > 1): a CNN trained on (at most 5,000) real
    non-members."""
    from sdv_privgan.image.gauges import ContentFeatures

    if run.n_partitions == 1:
        return None
    pick = np.random.default_rng(run.seed).permutation(len(others))[:5000]
    return ContentFeatures(
        model._format.to_model(others[pick]), np.searchsorted(model._classes, other_labels[pick]),
        len(model._classes), epochs=run.cnn_epochs, seed=run.seed, device=run.device or 'cpu')


def show(record):
    text = (f"fit {record['fit_seconds']:4.0f}s  white-box {record['white_box_critic_auc']:.3f}/"
            f"{record['white_box_critic_top_members_accuracy']:.3f}  MC "
            f"{record['monte_carlo_auc']:.3f}/{record['monte_carlo_top_members_accuracy']:.3f}"
            f"  downstream {record['downstream_accuracy']:.3f}")
    if 'gauge_pixels_auc' in record:
        text += '  gauges ' + '/'.join(f"{record[f'gauge_{v}_auc']:.3f}"
                                       for v in ('pixels', 'blurred', 'features'))
    return text


# ------------------------------------------------------------------ report
def _cell(series, column):
    if series.empty:
        return '-'
    if column.endswith('seconds'):
        return f'{series.mean():.0f}'
    return f'{series.mean():.3f} ± {series.std(ddof=1) if len(series) > 1 else 0:.3f}'


def table(results: pd.DataFrame, columns: dict) -> str:
    """Markdown: mean ± sd over seeds per (variant, model), in the order they were run."""
    from benchmarks.report import values

    lines = ['| variant | model | ' + ' | '.join(columns.values()) + ' |',
             '|---|---|' + '---|' * len(columns)]
    for (tag, name), rows in results.groupby(['variant', 'model'], sort=False):
        cells = [_cell(values(rows, column, where=name), column) for column in columns]
        lines.append(f'| {tag or "defaults"} | {name} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def removed(value, plain, chance):
    """The share of the plain GAN's excess over chance that ``value`` removes."""
    return 1 - (value - chance) / (plain - chance)


def targets(results: pd.DataFrame, gauge='gauge_features_auc') -> str:
    """Issue 9's targets for every regularized model against the plain GAN of its
    variant's seeds: gauge AUC <= 0.70; each attack within 0.03 of chance or >= 70 % of
    the plain GAN's excess removed; downstream accuracy within 2 points."""
    lines = ['| variant | model | seeds | gauge AUC | white-box AUC (removed) | white-box '
             'top acc. (removed) | MC AUC (removed) | MC top acc. (removed) | Δ downstream |',
             '|---|---|---|---|---|---|---|---|---|']
    attacks = [('white_box_critic_auc', None), ('white_box_critic_top_members_accuracy', 'top'),
               ('monte_carlo_auc', None), ('monte_carlo_top_members_accuracy', 'top')]
    for (tag, name), rows in results.groupby(['variant', 'model'], sort=False):
        plain = results[(results['variant'] == rows['baseline_variant'].iloc[0])
                        & (results['model'] == 'plain GAN') & results['seed'].isin(rows['seed'])]
        if rows['privacy_weight'].iloc[0] == 0 or len(plain) != len(rows):
            continue
        cells = [f"{rows[gauge].mean():.3f} {'ok' if rows[gauge].mean() <= 0.70 else 'no'}"]
        for column, kind in attacks:
            chance = rows['monte_carlo_top_members_chance'].mean() if kind else 0.5
            value, base = rows[column].mean(), plain[column].mean()
            share = removed(value, base, chance)
            met = abs(value - chance) <= 0.03 or share >= 0.70
            cells.append(f"{value:.3f} ({share:.0%}) {'ok' if met else 'no'}")
        delta = rows['downstream_accuracy'].mean() - plain['downstream_accuracy'].mean()
        cells.append(f"{delta:+.3f} {'ok' if delta >= -0.02 else 'no'}")
        lines.append(f'| {tag or "defaults"} | {name} | {len(rows)} | ' + ' | '.join(cells)
                     + ' |')
    return '\n'.join(lines)


def report(results: pd.DataFrame) -> str:
    plain = results[results['n_partitions'] == 1]
    real = plain['downstream_accuracy_real'].dropna()
    chance = results['monte_carlo_top_members_chance'].iloc[0]
    return '\n\n'.join([
        "privGAN's protocol (top-members accuracy, chance "
        f'{chance:.3f}; downstream CNN trained on synthetic images):',
        table(results, PRIVGAN_COLUMNS),
        'Ours (AUC on balanced sets; post-hoc gauge AUC on three views):',
        table(results, OUR_COLUMNS),
        'Targets on the features gauge:', targets(results),
        f'The same CNN trained on the real members: {real.mean():.3f} ± {real.std():.3f}. '
        f'Seeds: {sorted(results["seed"].unique().tolist())}.'])


#: Each data set's budget where the command line leaves it: Fashion-MNIST's is for a GPU.
DATA_DEFAULTS = {
    'digits': dict(epochs=600, batch_size=32, n_synthetic=1000, cnn_epochs=20,
                   baselines=list(BASELINES)),
    'fashion': dict(epochs=30, batch_size=64, n_synthetic=5000, cnn_epochs=10,
                    baselines=['plain', 'lambda0']),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--full', action='store_true',
                        help='Fashion-MNIST (6,000 members of 60,000), 30 epochs, batch 64, '
                             '5,000 synthetic images, no same-images control (for a GPU)')
    parser.add_argument('--data', choices=list(DATA_DEFAULTS), default='digits',
                        help="the budget defaults follow the data ('fashion': as --full)")
    parser.add_argument('--data-dir', default=None, help='folder of the Fashion-MNIST IDX files')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--member-share', type=float, default=0.1)
    parser.add_argument('--epochs', type=int, default=None, help='default 600 (digits)')
    parser.add_argument('--batch-size', type=int, default=None, help='default 32 (digits)')
    parser.add_argument('--n-synthetic', type=int, default=None, help='default 1000 (digits)')
    parser.add_argument('--cnn-epochs', type=int, default=None, help='default 20 (digits)')
    parser.add_argument('--partitions', type=int, nargs='+', default=[2])
    parser.add_argument('--weights', type=float, nargs='+', default=[3.0])
    parser.add_argument('--baselines', nargs='*', choices=list(BASELINES), default=None,
                        help='plain GAN, K=2 lambda=0, and the same-images control')
    parser.add_argument('--device', default=None)
    parser.add_argument('--synthesizer-args', nargs='+', default=[], metavar='NAME=VALUE',
                        help='more PrivImageSynthesizer arguments for every model, e.g. '
                             'ema_decay=0.999 classifier_blur=2')
    add_run_options(parser, 'benchmarks/results/image_privacy_10pct.csv')
    args = parser.parse_args(argv)
    if args.full:
        args.data = 'fashion'
    for name, value in DATA_DEFAULTS[args.data].items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    set_threads(args.threads)
    quiet()
    out = results_path(args.out)
    runner = open_runner(out, args)
    settings = dict(
        data=args.data, data_dir=args.data_dir, member_share=args.member_share,
        epochs=args.epochs, batch_size=args.batch_size, n_synthetic=args.n_synthetic,
        cnn_epochs=args.cnn_epochs, device=args.device)
    arguments = tuple(sorted(parse_assignments(args.synthesizer_args).items()))
    runs = [ImageRun(name, k, weight, seed, same, **settings,
                     arguments=plain_arguments(arguments) if k == 1 else arguments)
            for seed in args.seeds
            for name, k, weight, same in configurations(args.partitions, args.weights,
                                                        args.baselines)]
    failures = runner.run(runs, execute, show)
    results = pd.DataFrame([result['record'] for result in runner.results()
                            if not result['record'].get('error')])
    if results.empty:
        raise SystemExit(f'All {failures} runs failed (see FAILED above); rerun to retry them.')
    results[['variant', 'baseline_variant']] = results[['variant', 'baseline_variant']].fillna('')
    out.parent.mkdir(parents=True, exist_ok=True)
    results.to_csv(out, index=False)
    print()
    print(report(results))
    if failures:
        raise SystemExit(f'{failures} runs failed (see FAILED above); rerun to retry them.')


if __name__ == '__main__':
    main()
