"""One privacy-utility run: split, fit, sample, evaluate; and the grid of runs.

Every run uses a seeded members / holdout / reference split (``split_for_evaluation``)
and the same evaluation. The evaluators are a list of functions
``evaluator(ctx, synthetic, synthesizer) -> dict`` whose dicts are merged into the
run's record; append one to ``EVALUATORS`` to add metrics to every run (the report
shows a metric once ``pu_report.METRICS`` names it).
"""

import time
import traceback
from dataclasses import dataclass
from typing import Optional

import numpy as np

from benchmarks.common import seed_everything
from benchmarks.models import REGULARIZERS, FitContext, Model
from benchmarks.regimes import Regime
from benchmarks.tables import Table

N_SYNTHETIC = 1000   # rows sampled from every model for the attacks and utility


@dataclass(frozen=True)
class Cell:
    """One run of the privacy-utility grid: phase x table x regime x model x seed."""

    phase: str
    table: Table
    regime: Regime
    model: Model
    seed: int
    regularizer: str = 'averaged'
    device: str = 'cpu'
    n_synthetic: int = N_SYNTHETIC
    dp_python: Optional[str] = None
    threads: int = 1

    @property
    def key(self) -> tuple:
        return (self.phase, self.table.name, self.regime.name, self.model.name,
                f'seed{self.seed}')

    def describe(self) -> dict:
        return {'phase': self.phase, 'table': self.table.name,
                'regime': self.regime.describe(), 'model': self.model.describe(),
                'seed': self.seed, 'regularizer': REGULARIZERS[self.regularizer],
                'device': self.device, 'n_synthetic': self.n_synthetic}


def grid(phase, tables, regimes, models, seeds, **options) -> list:
    """Every (table, regime, model, seed) as a ``Cell``, seeds outermost."""
    return [Cell(phase, table, regime, model, seed, **options)
            for table in tables for regime in regimes for seed in seeds for model in models]


def fits(table: Table, regime: Regime) -> bool:
    """Whether the table has rows enough for the regime's members beside the split."""
    rows = len(table.load()[0])
    return regime.n_members <= rows - 2 * round(rows * 0.25)


# ------------------------------------------------------------------------ one run
def make_split(table: Table, n_members: int, seed: int):
    from sdv_privgan.evaluation import split_for_evaluation

    data, metadata = table.load()
    n_members = min(n_members, len(data) - 2 * round(len(data) * 0.25))
    train, holdout, reference = split_for_evaluation(data, n_members=n_members, seed=seed)
    used = train.index.union(holdout.index).union(reference.index)
    return data, metadata, train, holdout, reference, data.drop(index=used)


def membership_metrics(ctx, synthetic, synthesizer) -> dict:
    """Every attack's AUC and TPR at 1 % FPR, and their maxima (all, black, white box)."""
    from sdv_privgan.evaluation import run_membership_inference
    from sdv_privgan.evaluation.membership import has_white_box

    table_dict = ctx.metadata.to_dict()['tables'][ctx.table]
    result = run_membership_inference(
        ctx.train, ctx.holdout, synthetic, ctx.reference, metadata=table_dict,
        synthesizer=synthesizer if has_white_box(synthesizer) else None, seed=ctx.seed)
    record = {'n_candidates': len(result.is_member)}
    black, white = [], []
    for attack, metric in result.metrics.items():
        record[f'auc_{attack}'] = metric['auc']
        record[f'tpr1_{attack}'] = metric['tpr_at_1pct_fpr']
        (white if attack.startswith('white_box') else black).append(attack)
    aucs = {attack: metric['auc'] for attack, metric in result.metrics.items()}
    record['max_auc'], record['best_attack'] = result.max_auc, result.best_attack
    record['max_auc_bb'] = max(aucs[a] for a in black)
    record['max_auc_wb'] = max(aucs[a] for a in white) if white else np.nan
    record['tpr1_max'] = max(m['tpr_at_1pct_fpr'] for m in result.metrics.values())
    record['tpr1_bb'] = max(result.metrics[a]['tpr_at_1pct_fpr'] for a in black)
    return record


def utility_metrics(ctx, synthetic, synthesizer) -> dict:
    """SDMetrics quality and train-on-synthetic / test-on-real accuracy and ROC AUC."""
    from benchmarks.tables import get_table
    from sdv_privgan.evaluation import UtilityReport

    report = UtilityReport(seed=0)
    report.generate(ctx.train, synthetic, ctx.metadata, real_holdout_data=ctx.holdout,
                    target=get_table(ctx.table).target, verbose=False)
    properties = report.get_properties().set_index('Property')['Score']
    record = {'quality': float(np.mean([properties['Column Shapes'],
                                        properties['Column Pair Trends']]))}
    efficacy = report.get_details('ML Efficacy')
    if 'Metric' in efficacy:
        efficacy = efficacy.set_index('Metric')
        record['tstr_accuracy'] = efficacy.loc['Accuracy', 'Train on synthetic']
        record['tstr_auc'] = efficacy.loc['ROC AUC', 'Train on synthetic']
        record['trtr_accuracy'] = efficacy.loc['Accuracy', 'Train on real']
        record['trtr_auc'] = efficacy.loc['ROC AUC', 'Train on real']
    return record


EVALUATORS = [membership_metrics, utility_metrics]


def base_record(cell: Cell, n_train: int) -> dict:
    regime, model, network = cell.regime, cell.model, cell.regime.network
    return {'phase': cell.phase, 'table': cell.table.name, 'setting': regime.name,
            'n_members': n_train, 'steps': regime.steps, 'batch_size': regime.batch_size,
            'epochs': regime.epochs_for(n_train) if model.trains else 0,
            'model': model.name, 'kind': model.kind,
            'n_partitions': model.params.get('n_partitions', 1),
            'privacy_weight': model.params.get('privacy_weight', np.nan), 'seed': cell.seed,
            'pac': network.get('pac'), 'dim': network.get('generator_dim', (None,))[0],
            'regularizer': cell.regularizer}


def execute(cell: Cell) -> dict:
    """Fit, sample and evaluate one cell; a failure is kept in the record's ``error``."""
    seed_everything(cell.seed)
    data, metadata, train, holdout, reference, unused = make_split(
        cell.table, cell.regime.n_members, cell.seed)
    ctx = FitContext(cell.table.name, metadata, train, holdout, reference, unused, data,
                     cell.regime, cell.seed, cell.device, REGULARIZERS[cell.regularizer],
                     cell.n_synthetic, cell.dp_python, cell.threads)
    record, curves, failure = base_record(cell, len(train)), [], None
    synthesizer = None
    try:
        synthesizer = cell.model.build(ctx, **cell.model.params)
        record['fit_seconds'] = 0.0
        if cell.model.trains:
            start = time.perf_counter()
            synthesizer.fit({cell.table.name: train})
            record['fit_seconds'] = time.perf_counter() - start
        record.update(getattr(synthesizer, 'benchmark_fields', {}))
        synthetic = synthesizer.sample(cell.n_synthetic)[cell.table.name]
        for evaluator in EVALUATORS:
            record.update(evaluator(ctx, synthetic, synthesizer))
        if cell.model.inspect is not None:
            metrics, curves = cell.model.inspect(synthesizer, ctx)
            record.update(metrics)
    except Exception as error:  # noqa: BLE001 - kept in the record, reported by the runner
        record.update(getattr(synthesizer, 'benchmark_fields', {}))
        record['error'] = f'{type(error).__name__}: {error}'[:500]
        failure = traceback.format_exc()
    curves = [{'table': cell.table.name, 'setting': cell.regime.name,
               'model': cell.model.name, 'seed': cell.seed, **point} for point in curves]
    result = {'record': record, 'curves': curves}
    if failure:
        result['traceback'] = failure
    return result


def show(record: dict) -> str:
    """The console line of one finished run."""
    keys = ('fit_seconds', 'max_auc', 'best_attack', 'max_auc_bb', 'tpr1_max', 'tstr_auc',
            'quality', 'posthoc_auc', 'error')
    values = {k: record.get(k) for k in keys}
    return ' '.join(f'{k}={v:.3f}' if isinstance(v, float) else f'{k}={v}'
                    for k, v in values.items() if v is not None
                    and not (isinstance(v, float) and np.isnan(v)))
