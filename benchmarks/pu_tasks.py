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
    rows_per_target: Optional[int] = None   # the attacker who holds the file draws these
    latent: bool = False                     # and runs the latent-reconstruction attack

    @property
    def key(self) -> tuple:
        return cell_key(self.phase, self.table.name, self.regime.name, self.model.name,
                        self.seed)

    def describe(self) -> dict:
        return {'phase': self.phase, 'table': self.table.name,
                'regime': self.regime.describe(), 'model': self.model.describe(),
                'seed': self.seed, 'regularizer': REGULARIZERS[self.regularizer],
                'device': self.device, 'n_synthetic': self.n_synthetic,
                'rows_per_target': self.rows_per_target, 'latent': self.latent}


def cell_key(phase, table, setting, model, seed) -> tuple:
    """A run's key (its file under the run folder), from names."""
    return phase, table, setting, model, f'seed{int(seed)}'


def grid(phase, tables, regimes, models, seeds, **options) -> list:
    """Every (table, regime, model, seed) as a ``Cell``, seeds outermost."""
    return [Cell(phase, table, regime, model, seed, **options)
            for table in tables for regime in regimes for seed in seeds for model in models]


def max_members(n_rows: int) -> int:
    """Most members a table of ``n_rows`` rows gives beside the split's holdout and
    reference (a quarter each)."""
    return n_rows - 2 * round(n_rows * 0.25)


# ------------------------------------------------------------------------ one run
def make_split(table: Table, n_members: int, seed: int):
    from sdv_privgan.evaluation import split_for_evaluation

    data, metadata = table.load()
    n_members = min(n_members, max_members(len(data)))
    train, holdout, reference = split_for_evaluation(data, n_members=n_members, seed=seed)
    used = train.index.union(holdout.index).union(reference.index)
    return data, metadata, train, holdout, reference, data.drop(index=used)


#: Attack groups of the records: the synthetic table (black box), the rows the holder of
#: the saved file draws, the latent reconstruction through its generators, the training
#: state (white box).
GROUPS = {'bb': lambda name: not name.startswith(('drawn_', 'latent_', 'white_box_')),
          'drawn': lambda name: name.startswith('drawn_'),
          'latent': lambda name: name.startswith('latent_'),
          'wb': lambda name: name.startswith('white_box_')}


def membership_metrics(ctx, synthetic, synthesizer) -> dict:
    """Every attack's AUC (with its interval) and TPR at 1 % FPR, the maxima per group of
    attacks, the noise floor and the calibrated verdict over all of them."""
    from sdv_privgan.evaluation import run_membership_inference
    from sdv_privgan.evaluation.membership import has_white_box
    from sdv_privgan.evaluation.model_access import generator_access

    latent = ctx.latent
    if latent:
        try:
            generator_access(synthesizer)
        except (TypeError, ValueError):
            latent = False  # a model without released generators (the floor, DP baselines)
    table_dict = ctx.metadata.to_dict()['tables'][ctx.table]
    with_model = has_white_box(synthesizer) or ctx.rows_per_target or latent
    result = run_membership_inference(
        ctx.train, ctx.holdout, synthetic, ctx.reference, metadata=table_dict,
        synthesizer=synthesizer if with_model else None, seed=ctx.seed,
        rows_per_target=ctx.rows_per_target, latent_attack=latent)
    verdict = result.get_verdict()
    record = {'n_candidates': len(result.is_member), 'max_auc': verdict['max_auc'],
              'max_auc_low': verdict['max_auc_low'], 'max_auc_high': verdict['max_auc_high'],
              'best_attack': verdict['best_attack'], 'floor_auc': verdict['floor_max_auc'],
              'p_value': verdict['p_value'], 'leakage_detected': verdict['leakage_detected'],
              'excess_auc': verdict['excess_auc']}
    for attack, metric in result.metrics.items():
        record[f'auc_{attack}'] = metric['auc']
        record[f'tpr1_{attack}'] = metric['tpr_at_1pct_fpr']
    for group, member in GROUPS.items():
        names = [name for name in result.metrics if member(name)]
        record[f'max_auc_{group}'] = max(
            (result.metrics[name]['auc'] for name in names), default=np.nan)
        record[f'tpr1_{group}'] = max(
            (result.metrics[name]['tpr_at_1pct_fpr'] for name in names), default=np.nan)
    record['tpr1_max'] = max(m['tpr_at_1pct_fpr'] for m in result.metrics.values())
    record.update(holder_verdict(result))
    return record


def holder_verdict(result) -> dict:
    """The verdict over the attacks open to whoever holds the saved model (every attack
    but the white-box ones, whose critics or encoder the release drops)."""
    from sdv_privgan.evaluation.result import MembershipInferenceResult

    scores = {name: values for name, values in result.scores.items()
              if not GROUPS['wb'](name)}
    if len(scores) < len(result.scores):
        result = MembershipInferenceResult(
            scores, result.is_member, floor_scores=result.floor_scores,
            oriented=result.oriented, alpha=result.alpha, n_bootstrap=0,
            n_permutations=result.n_permutations, seed=result.seed, info=result.info)
    verdict = result.get_verdict()
    return {'holder_p_value': verdict['p_value'],
            'holder_leakage_detected': verdict['leakage_detected']}


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
                     cell.n_synthetic, cell.dp_python, cell.threads,
                     # the file's holder draws from models that release one (not the floor's
                     # real rows; DP baselines sample once, in their own interpreter)
                     cell.rows_per_target if cell.model.trains and cell.model.kind != 'dp'
                     else None, cell.latent)
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
    keys = ('fit_seconds', 'max_auc', 'best_attack', 'max_auc_bb', 'floor_auc', 'p_value',
            'max_auc_drawn', 'max_auc_latent', 'tpr1_max', 'tstr_auc', 'quality',
            'posthoc_auc', 'error')
    values = {k: record.get(k) for k in keys}
    return ' '.join(f'{k}={v:.3f}' if isinstance(v, float) else f'{k}={v}'
                    for k, v in values.items() if v is not None
                    and not (isinstance(v, float) and np.isnan(v)))
