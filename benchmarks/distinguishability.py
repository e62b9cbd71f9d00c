"""Does the regularizer make the components indistinguishable? Measured post hoc.

For each configuration and seed: fit ``PrivCTGANSynthesizer`` on a small real table for
many steps, then train a fresh classifier on held-out samples of each component
(``get_component_distinguishability``) and record its AUC, accuracy and JSD, beside the
last training-time JSD estimate and the SDMetrics quality score.

    python benchmarks/distinguishability.py                       # default grid, ~15 min
    python benchmarks/distinguishability.py --configs lambda0 uniform --seeds 0 1 2
"""

import argparse
import time
from pathlib import Path

from unittest.mock import patch

import pandas as pd
import torch

from _common import epochs_for, load_table, quiet, single_thread

# Every configuration spells out its game settings, so results do not move when the
# library's defaults do. BASE is the naive game; STRONG the classifier that keeps up.
BASE = {'privacy_weight': 1.0, 'privacy_loss': 'uniform', 'classifier_steps': 1,
        'classifier_lr': 2e-4, 'replay_size': 0, 'classifier_dim': (256, 256),
        'ema_decay': 0.0}
STRONG = {'classifier_steps': 5, 'classifier_lr': 1e-3, 'replay_size': 500}
CONFIGS = {name: {**BASE, **overrides} for name, overrides in {
    'lambda0': {'privacy_weight': 0.0},
    'uniform': {},
    'jsd': {'privacy_loss': 'jsd'},
    'uniform_c5': {'classifier_steps': 5},
    'uniform_w3': {'privacy_weight': 3.0},
    'jsd_c5': {'privacy_loss': 'jsd', 'classifier_steps': 5},
    'uniform_replay': {'replay_size': 500},
    'strong': STRONG,
    'strong_w3': {**STRONG, 'privacy_weight': 3.0},
    'strong_w10': {**STRONG, 'privacy_weight': 10.0},
    'jsd_strong': {**STRONG, 'privacy_loss': 'jsd'},
    'jsd_strong_w3': {**STRONG, 'privacy_loss': 'jsd', 'privacy_weight': 3.0},
    'fast_w3': {**STRONG, 'classifier_steps': 2, 'privacy_weight': 3.0},
    'jsd_fast': {**STRONG, 'privacy_loss': 'jsd', 'classifier_steps': 2},
    'jsd_c3': {**STRONG, 'privacy_loss': 'jsd', 'classifier_steps': 3},
    # jsd_strong is the default; a smaller classifier, and fewer classifier steps:
    'jsd_strong_small': {**STRONG, 'privacy_loss': 'jsd', 'classifier_dim': (128, 128)},
    'jsd_small_c1': {**STRONG, 'privacy_loss': 'jsd', 'classifier_dim': (128, 128),
                     'classifier_steps': 1},
    'jsd_strong_pac5': {**STRONG, 'privacy_loss': 'jsd', 'classifier_pac': 5},
    'jsd_strong_noreplay': {**STRONG, 'privacy_loss': 'jsd', 'replay_size': 0},
    'jsd_noreplay_w3': {**STRONG, 'privacy_loss': 'jsd', 'replay_size': 0,
                        'privacy_weight': 3.0},
    'jsd_noreplay_c10': {**STRONG, 'privacy_loss': 'jsd', 'replay_size': 0,
                         'classifier_steps': 10},
    # The released generators as a moving average of their weights (ema_decay):
    'lambda0_ema': {'privacy_weight': 0.0, 'ema_decay': 0.995},
    'jsd_c5_ema': {**STRONG, 'privacy_loss': 'jsd', 'replay_size': 0, 'ema_decay': 0.995},
    'jsd_c2_ema': {**STRONG, 'privacy_loss': 'jsd', 'replay_size': 0, 'ema_decay': 0.995,
                   'classifier_steps': 2},
    'jsd_c1_ema': {**STRONG, 'privacy_loss': 'jsd', 'replay_size': 0, 'ema_decay': 0.995,
                   'classifier_steps': 1},
    'jsd_strong_ema': {**STRONG, 'privacy_loss': 'jsd', 'ema_decay': 0.995},
    'jsd_c1_replay_ema': {**STRONG, 'privacy_loss': 'jsd', 'ema_decay': 0.995,
                          'classifier_steps': 1},
    'lambda0_default': {**STRONG, 'privacy_loss': 'jsd', 'ema_decay': 0.995,
                        'classifier_steps': 1, 'privacy_weight': 0.0},
    'same_rows_lambda0_ema': {'privacy_weight': 0.0, 'same_rows': True, 'ema_decay': 0.995},
    # Reference: two components trained on the SAME rows (no membership difference at
    # all), to separate GAN training noise from memorization.
    'same_rows_lambda0': {'privacy_weight': 0.0, 'same_rows': True},
}.items()}


CURVES = []


def run(config, seed, table, metadata, args):
    from sdmetrics.reports import QualityReport

    from sdv_privgan import PrivCTGANSynthesizer

    options = dict(CONFIGS[config])
    same_rows = options.pop('same_rows', False)
    train = pd.concat([table] * args.partitions, ignore_index=True) if same_rows else table
    synthesizer = PrivCTGANSynthesizer(
        metadata, epochs=epochs_for(len(train), args.steps, args.batch_size),
        batch_size=args.batch_size,
        n_partitions=args.partitions, seed=seed, **options)
    start = time.perf_counter()
    if same_rows:  # copy k of the table is partition k
        with patch('sdv_privgan.tabular.model.partition_rows',
                   lambda n, k: torch.arange(n) // (n // k)):
            synthesizer.fit({args.table: train})
    else:
        synthesizer.fit({args.table: train})
    seconds = time.perf_counter() - start
    gauge = synthesizer.get_component_distinguishability(args.rows_per_component)
    synthetic = synthesizer.sample(len(table))
    report = QualityReport()
    report.generate({args.table: table}, synthetic, metadata.to_dict(), verbose=False)
    losses = synthesizer.get_loss_values()
    CURVES.append(losses.assign(model=config, seed=seed))
    return {
        'config': config, 'seed': seed, 'fit_seconds': round(seconds, 1),
        'posthoc_auc': gauge['auc'], 'posthoc_accuracy': gauge['accuracy'],
        'posthoc_jsd': gauge['jsd'],
        'train_jsd_last50': losses['JSD Estimate'].tail(50).mean(),
        'quality': report.get_score(),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--table', default='penguins')
    parser.add_argument('--rows', type=int, default=300)
    parser.add_argument('--steps', type=int, default=3000)
    parser.add_argument('--batch-size', type=int, default=100)
    parser.add_argument('--partitions', type=int, default=2)
    parser.add_argument('--rows-per-component', type=int, default=2000)
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1])
    parser.add_argument('--configs', nargs='+', default=['lambda0', 'uniform', 'jsd'])
    parser.add_argument('--out', default='benchmarks/results/distinguishability.csv')
    args = parser.parse_args()
    single_thread()
    quiet()
    table, metadata = load_table(args.table, args.rows, seed=0)
    rows = []
    for config in args.configs:
        for seed in args.seeds:
            rows.append(run(config, seed, table, metadata, args))
            print(pd.DataFrame(rows[-1:]).to_string(index=False, header=len(rows) == 1),
                  flush=True)
    frame = pd.DataFrame(rows)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out, index=False)
    pd.concat(CURVES).to_csv(Path(args.out).with_name(Path(args.out).stem + '_losses.csv'),
                             index=False)
    summary = frame.groupby('config', sort=False).agg(['mean', 'std']).drop(columns='seed')
    print(summary.round(3).to_string())


if __name__ == '__main__':
    main()
