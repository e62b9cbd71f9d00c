"""Does the regularizer make the components indistinguishable? Measured post hoc.

For each configuration and seed: fit ``PrivCTGANSynthesizer`` on a small real table for
many steps, then train a fresh classifier on held-out samples of each component
(``get_component_distinguishability``) and record its AUC, accuracy and JSD, beside the
last training-time JSD estimate and the SDMetrics quality score.

    python -m benchmarks.distinguishability                       # default grid, ~15 min
    python -m benchmarks.distinguishability --configs lambda0 uniform --seeds 0 1 2

One JSON file per (configuration, seed) under ``benchmarks/results/runs/<out>/``;
finished runs are skipped when a command is repeated. ``--out`` gets the CSV of every
finished run of that folder (so several commands with one ``--out`` add up),
``<out>_losses.csv`` their loss curves (rebuilt, not committed).
"""

import argparse
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from benchmarks.common import quiet, seed_everything, set_threads
from benchmarks.regimes import epochs_for
from benchmarks.runner import add_run_options, open_runner, results_path
from benchmarks.tables import load_table

# Every configuration spells out its game settings, so results do not move when the
# library's defaults do. BASE is the naive game; STRONG the classifier that keeps up.
# ``same_rows``: each component trains on a full copy of the table (no membership
# difference at all), which separates GAN training noise from memorization.
BASE = {'privacy_weight': 1.0, 'privacy_loss': 'uniform', 'classifier_steps': 1,
        'classifier_lr': 2e-4, 'replay_size': 0, 'classifier_dim': (256, 256),
        'ema_decay': 0.0}
STRONG = {'classifier_steps': 5, 'classifier_lr': 1e-3, 'replay_size': 500}
JSD = {**STRONG, 'privacy_loss': 'jsd'}
EMA = {**JSD, 'replay_size': 0, 'ema_decay': 0.995}
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
    'jsd_strong': JSD,
    'jsd_strong_w3': {**JSD, 'privacy_weight': 3.0},
    'fast_w3': {**STRONG, 'classifier_steps': 2, 'privacy_weight': 3.0},
    'jsd_fast': {**JSD, 'classifier_steps': 2},
    'jsd_c3': {**JSD, 'classifier_steps': 3},
    # a smaller classifier, and fewer classifier steps:
    'jsd_strong_small': {**JSD, 'classifier_dim': (128, 128)},
    'jsd_small_c1': {**JSD, 'classifier_dim': (128, 128), 'classifier_steps': 1},
    'jsd_strong_pac5': {**JSD, 'classifier_pac': 5},
    'jsd_strong_noreplay': {**JSD, 'replay_size': 0},
    'jsd_noreplay_w3': {**JSD, 'replay_size': 0, 'privacy_weight': 3.0},
    'jsd_noreplay_c10': {**JSD, 'replay_size': 0, 'classifier_steps': 10},
    # the released generators as a moving average of their weights (ema_decay):
    'lambda0_ema': {'privacy_weight': 0.0, 'ema_decay': 0.995},
    'jsd_c5_ema': EMA,
    'jsd_c2_ema': {**EMA, 'classifier_steps': 2},
    'jsd_c1_ema': {**EMA, 'classifier_steps': 1},
    'jsd_strong_ema': {**JSD, 'ema_decay': 0.995},
    'jsd_c1_replay_ema': {**JSD, 'ema_decay': 0.995, 'classifier_steps': 1},
    'lambda0_default': {**JSD, 'ema_decay': 0.995, 'classifier_steps': 1,
                        'privacy_weight': 0.0},
    'same_rows_lambda0_ema': {'privacy_weight': 0.0, 'same_rows': True, 'ema_decay': 0.995},
    'same_rows_lambda0': {'privacy_weight': 0.0, 'same_rows': True},
}.items()}


@dataclass(frozen=True)
class Setting:
    """What every configuration of one command shares."""

    table: str = 'penguins'
    rows: int = 300
    steps: int = 3000
    batch_size: int = 100
    partitions: int = 2
    rows_per_component: int = 2000


@dataclass(frozen=True)
class DistinguishabilityRun:
    config: str
    seed: int
    setting: Setting

    @property
    def key(self):
        return (self.config, f'seed{self.seed}')

    def describe(self):
        return {'config': CONFIGS[self.config], 'seed': self.seed,
                'setting': vars(self.setting)}


def copies_as_partitions(table: pd.DataFrame, k: int, seed: int) -> pd.DataFrame:
    """The table ``k`` times, ordered so that partition ``c`` is exactly one copy.

    The synthesizer draws its partitions with ``partition_rows`` from a generator seeded
    with its ``seed`` before any other torch draw; the rows are arranged for those
    labels. ``python -m benchmarks.selfcheck`` verifies that assumption on a small fit.
    """
    import torch
    from sdv_privgan.game import partition_rows

    labels = partition_rows(len(table) * k, k, generator=torch.Generator().manual_seed(seed))
    source = np.empty(len(labels), dtype=int)
    for component in range(k):
        source[np.flatnonzero(labels.numpy() == component)] = np.arange(len(table))
    return table.iloc[source].reset_index(drop=True)


def execute(run: DistinguishabilityRun) -> dict:
    from sdmetrics.reports import QualityReport

    from sdv_privgan import PrivCTGANSynthesizer

    setting = run.setting
    seed_everything(run.seed)
    table, metadata = load_table(setting.table, setting.rows, seed=0)
    options = dict(CONFIGS[run.config])
    same_rows = options.pop('same_rows', False)
    k = setting.partitions
    train = copies_as_partitions(table, k, run.seed) if same_rows else table
    synthesizer = PrivCTGANSynthesizer(
        metadata, epochs=epochs_for(len(train), setting.steps, setting.batch_size),
        batch_size=setting.batch_size, n_partitions=k, seed=run.seed, **options)
    start = time.perf_counter()
    synthesizer.fit({setting.table: train})
    seconds = time.perf_counter() - start
    gauge = synthesizer.get_component_distinguishability(setting.rows_per_component)
    synthetic = synthesizer.sample(len(table))
    report = QualityReport()
    report.generate({setting.table: table}, synthetic, metadata.to_dict(), verbose=False)
    losses = synthesizer.get_loss_values()
    record = {'config': run.config, 'seed': run.seed, 'fit_seconds': round(seconds, 1),
              'posthoc_auc': gauge['auc'], 'posthoc_accuracy': gauge['accuracy'],
              'posthoc_jsd': gauge['jsd'],
              'train_jsd_last50': losses['JSD Estimate'].tail(50).mean(),
              'quality': report.get_score()}
    curves = losses.assign(model=run.config, seed=run.seed).to_dict('records')
    return {'record': record, 'curves': curves}


def show(record):
    return ' '.join(f'{k}={v:.3f}' for k, v in record.items()
                    if isinstance(v, float) and k != 'fit_seconds') + \
        f" fit_seconds={record.get('fit_seconds')}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--table', default='penguins')
    parser.add_argument('--rows', type=int, default=300)
    parser.add_argument('--steps', type=int, default=3000)
    parser.add_argument('--batch-size', type=int, default=100)
    parser.add_argument('--partitions', type=int, default=2)
    parser.add_argument('--rows-per-component', type=int, default=2000)
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1])
    parser.add_argument('--configs', nargs='+', default=['lambda0', 'uniform', 'jsd'],
                        choices=list(CONFIGS), metavar='CONFIG')
    add_run_options(parser, 'benchmarks/results/distinguishability.csv')
    args = parser.parse_args(argv)
    set_threads(args.threads)
    quiet()
    out = results_path(args.out)
    setting = Setting(args.table, args.rows, args.steps, args.batch_size, args.partitions,
                      args.rows_per_component)
    runs = [DistinguishabilityRun(config, seed, setting)
            for config in args.configs for seed in args.seeds]
    runner = open_runner(out, args)
    failures = runner.run(runs, execute, show)
    done = [result for result in runner.results() if not result['record'].get('error')]
    frame = pd.DataFrame([result['record'] for result in done])
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, index=False)
    curves = pd.DataFrame([point for result in done for point in result['curves']])
    curves.to_csv(out.with_name(out.stem + '_losses.csv'), index=False)
    if not frame.empty:
        summary = frame.groupby('config', sort=False).agg(['mean', 'std']).drop(columns='seed')
        print(summary.round(3).to_string())
    if failures:
        raise SystemExit(f'{failures} runs failed (see FAILED above); rerun to retry them.')


if __name__ == '__main__':
    main()
