"""Figures of the distinguishability runs for docs/benchmarks.md, from the CSVs in
benchmarks/results/ (matplotlib: plotly's PNG export needs a browser that this machine
does not have).

    python -m benchmarks.plot_results

``jsd_training.png`` needs the loss curves of the K = 4 run, which are rebuilt rather
than committed: run the ``distinguishability_k4`` command of ``results/MANIFEST.md``
first.
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from benchmarks.common import IMAGES, RESULTS  # noqa: E402
LABELS = {
    'lambda0': 'K=2, lambda=0',
    'same_rows_lambda0': 'K=2, lambda=0, both\ntrained on all rows',
    'uniform': 'uniform',
    'jsd': 'jsd',
    'uniform_c5': 'uniform, 5 steps',
    'uniform_replay': 'uniform, replay',
    'uniform_w3': 'uniform, lambda=3',
    'strong': 'uniform, strong C',
    'strong_w3': 'uniform, strong C,\nlambda=3',
    'strong_w10': 'uniform, strong C,\nlambda=10',
    'jsd_c5': 'jsd, 5 steps',
    'jsd_fast': 'jsd, 2 steps,\nlr 1e-3, replay',
    'fast_w3': 'uniform, 2 steps,\nlambda=3',
    'jsd_strong': 'jsd, strong C',
    'jsd_strong_noreplay': 'jsd, 5 steps,\nno replay\n(previous default)',
    'jsd_noreplay_w3': 'default,\nlambda=3',
    'jsd_noreplay_c10': 'default,\n10 steps',
    'jsd_strong_small': 'jsd, strong C,\n128 wide',
    'jsd_small_c1': 'jsd, 1 step,\n128 wide',
    'jsd_c3': 'jsd, 3 steps',
    'jsd_strong_pac5': 'jsd, strong C,\ngroups of 5',
    'jsd_strong_w3': 'jsd, strong C,\nlambda=3',
}


def distinguishability(images):
    frame = pd.read_csv(RESULTS / 'distinguishability.csv')
    summary = frame.groupby('config', sort=False)['posthoc_auc'].agg(['mean', 'std', 'count'])
    summary = summary.sort_values('mean')
    figure, axis = plt.subplots(figsize=(14, 5.5))
    colors = ['#d62728' if name == 'jsd_strong_noreplay' else
              '#7f7f7f' if 'lambda0' in name else '#1f77b4' for name in summary.index]
    axis.bar(range(len(summary)), summary['mean'], yerr=summary['std'].fillna(0),
             color=colors, capsize=3)
    axis.set_xticks(range(len(summary)))
    axis.set_xticklabels([f"{LABELS.get(n, n)}\n(n={c})" for n, c in
                          zip(summary.index, summary['count'])], rotation=60, ha='right',
                         fontsize=7)
    axis.axhline(0.5, color='black', linewidth=0.8, linestyle=':')
    axis.set_ylim(0.45, 1.0)
    axis.set_ylabel('fresh-classifier AUC between components\n(0.5 = indistinguishable)')
    axis.set_title('Penguins, 300 rows, K=2, 1,500 steps: post-hoc distinguishability')
    figure.tight_layout()
    figure.savefig(images / 'distinguishability.png', dpi=120)


AVERAGED = {  # configuration: (label, CSVs of benchmarks/results it is in)
    'lambda0_default': ('lambda=0,\ndefaults', ['distinguishability_lambda0_default']),
    'lambda0_ema': ('lambda=0,\naverage', ['distinguishability_ema']),
    'same_rows_lambda0_ema': ('lambda=0, both\ntrained on all rows,\naverage', [
        'distinguishability_ema_variants']),
    'jsd_strong_noreplay': ('5 steps,\nlast weights\n(previous default)', [
        'distinguishability_noema']),
    'jsd_c5_ema': ('5 steps,\naverage', ['distinguishability_ema_variants',
                                         'distinguishability_ema_variants34']),
    'jsd_c2_ema': ('2 steps,\naverage', ['distinguishability_ema_variants',
                                         'distinguishability_ema_variants34']),
    'jsd_c1_ema': ('1 step,\naverage', ['distinguishability_ema']),
    'jsd_strong_ema': ('5 steps, replay,\naverage', ['distinguishability_ema_replay']),
    'jsd_c1_replay_ema': ('1 step, replay,\naverage (default)', ['distinguishability_ema_replay']),
}


def averaged(images):
    """Every seed of the weight-average runs (K=2, 1,500 steps): one dot per fit."""
    figure, axis = plt.subplots(figsize=(11, 4.5))
    for x, (config, (label, files)) in enumerate(AVERAGED.items()):
        frame = pd.concat([pd.read_csv(RESULTS / f'{name}.csv') for name in files])
        auc = frame.loc[frame['config'] == config, 'posthoc_auc']
        color = '#7f7f7f' if 'lambda0' in config else '#d62728' if 'noreplay' in config \
            else '#1f77b4'
        axis.scatter([x] * len(auc), auc, color=color, alpha=0.7)
        axis.hlines(auc.mean(), x - 0.3, x + 0.3, color=color, linewidth=2)
    axis.set_xticks(range(len(AVERAGED)))
    axis.set_xticklabels([label for label, _ in AVERAGED.values()], fontsize=8)
    axis.axhline(0.5, color='black', linewidth=0.8, linestyle=':')
    axis.axhline(0.6, color='black', linewidth=0.8, linestyle='--')
    axis.set_ylabel('fresh-classifier AUC between components\n(0.5 = indistinguishable)')
    axis.set_title('Penguins, 300 rows, K=2, 1,500 steps: released weights = last or average\n'
                   '(dots: seeds; bars: means; dashed: the 0.6 target)', fontsize=10)
    figure.tight_layout()
    figure.savefig(images / 'distinguishability_averaged.png', dpi=120)


def loss_curves(images):
    frame = pd.read_csv(RESULTS / 'distinguishability_k4_losses.csv')
    frame = frame[frame['seed'] == 0]
    figure, axis = plt.subplots(figsize=(8, 3.5))
    for name, group in frame.groupby('model', sort=False):
        name = {'lambda0': 'lambda = 0', 'jsd_strong': 'lambda = 1, jsd, strong classifier'
                }.get(name, name)
        axis.plot(group['Epoch'], group['JSD Estimate'].rolling(20, min_periods=1).mean(),
                  label=name)
    axis.axhline(0, color='black', linewidth=0.8, linestyle=':')
    axis.set_xlabel('epoch')
    axis.set_ylabel('training-time JSD estimate (nats)')
    axis.set_title('K=4, seed 0: the online classifier\'s JSD estimate (rolling mean, 20 epochs)')
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(images / 'jsd_training.png', dpi=120)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--images', type=Path, default=IMAGES, help='folder of the figures')
    images = parser.parse_args(argv).images
    images.mkdir(parents=True, exist_ok=True)
    distinguishability(images)
    averaged(images)
    if (RESULTS / 'distinguishability_k4_losses.csv').exists():
        loss_curves(images)
    else:
        print('jsd_training.png not redrawn: distinguishability_k4_losses.csv is rebuilt by '
              'the distinguishability_k4 command of benchmarks/results/MANIFEST.md.')


if __name__ == '__main__':
    main()
