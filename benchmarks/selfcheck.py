"""Fast checks of the benchmark package itself (no benchmark is run), for a test to call.

    python -m benchmarks.selfcheck        # ~15 s on one core; exit status 1 on a failure

Builds every registered model, table, regime and configuration, runs the report on a
small synthetic result set with known answers (means, paired deltas, failed runs, the
NaN checks), exercises the runner (skip, stale settings, failures, worker processes),
checks the doc checker on good and bad figures and the docs against the committed
results, and verifies the partition assumption behind the same-rows control.
"""

import contextlib
import io
import sys
import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd


def _raises(error, function, *args, **kwargs):
    try:
        function(*args, **kwargs)
    except error as raised:
        return raised
    raise AssertionError(f'{function.__name__} did not raise {error.__name__}')


def check_registries():
    from benchmarks.distinguishability import CONFIGS
    from benchmarks.models import MODELS, REGULARIZERS, FitContext
    from benchmarks.pu_tasks import grid, make_split
    from benchmarks.regimes import REGIMES, Regime, get_regime
    from benchmarks.speed import FAMILIES
    from benchmarks.tables import TABLES
    from sdv.errors import SynthesizerInputError
    from sdv_privgan import PrivCTGANSynthesizer
    from sdv_privgan.datasets import TARGETS

    assert {name: table.target for name, table in TABLES.items()} == TARGETS
    assert get_regime('100,2000,40').name == 'n100_s2000_b40' == REGIMES['ctgan_leaky'].name
    assert get_regime('100,2000,40').with_network(pac=5).name == 'n100_s2000_b40_pac5'
    assert Regime(100, 40, steps=2000).epochs_for(100) == 1000
    _raises(ValueError, Regime, 100, 40)                    # neither steps nor epochs
    _raises(ValueError, Regime, 100, 0, steps=10)
    table = TABLES['penguins']
    data, metadata, train, holdout, reference, unused = make_split(table, 100, seed=0)
    assert len(train) == 100 and not set(train.index) & set(unused.index)
    unsupported = set()
    for regime_name, regime in REGIMES.items():
        for name in REGULARIZERS:
            ctx = FitContext('penguins', metadata, train, holdout, reference, unused, data,
                             regime, seed=0, regularizer=REGULARIZERS[name])
            for model in MODELS.values():
                if model.kind == 'dp':  # needs smartnoise's interpreter: a clear error
                    error = _raises(ValueError, model.build, ctx, **model.params)
                    assert '--dp-python' in str(error)
                    continue
                try:
                    assert hasattr(model.build(ctx, **model.params), 'sample'), model.name
                except SynthesizerInputError as error:
                    # SDV's batch of 500 is no even multiple of pac=10 x K for K >= 4.
                    assert "'batch_size'" in str(error) and regime_name != 'ctgan_leaky'
                    unsupported.add((regime_name, model.name))
    print(f'  regime x model pairs that the library rejects (batch size): {sorted(unsupported)}')
    cells = grid('grid', list(TABLES.values()), list(REGIMES.values()), list(MODELS.values()),
                 [1, 2])
    assert len({cell.key for cell in cells}) == len(cells)
    for config, options in CONFIGS.items():
        options = {k: v for k, v in options.items() if k != 'same_rows'}
        PrivCTGANSynthesizer(metadata, epochs=1, batch_size=100, **options)
    from benchmarks.privacy_utility import PROFILES
    from benchmarks.regimes import parse_setting
    from benchmarks.tables import get_table

    for profile in PROFILES.values():
        for name in profile.models + (profile.probe, profile.floor, profile.baseline):
            assert name in MODELS, name
        [get_table(name) for name in profile.tables]
        [parse_setting(text) for text in profile.sweep]
    for family in FAMILIES.values():
        family.baseline(metadata, epochs=1, batch_size=100, device='cpu')
        family.private(metadata, epochs=1, batch_size=100, device='cpu', n_partitions=2)


def synthetic_results():
    """Grid records with known answers: 3 seeds; k2_l1 is k2_l0 minus 0.05 +- seed noise."""
    rows = []
    for seed in (1, 2, 3):
        for model, auc in (('real', 0.55), ('k1', 0.63), ('k2_l0', 0.62), ('k2_l1', 0.57)):
            rows.append({'phase': 'grid', 'table': 'credit', 'setting': 'n100_s2000_b40',
                         'model': model, 'seed': seed, 'max_auc': auc + 0.01 * seed,
                         'max_auc_bb': auc + (0.01 * seed if model != 'k2_l1' else 0.0),
                         'max_auc_wb': np.nan if model == 'real' else 0.66,
                         'tpr1_max': 0.05, 'tstr_auc': 0.7, 'tstr_accuracy': 0.7,
                         'quality': 0.8, 'fit_seconds': 10.0 * seed, 'trtr_auc': 0.72,
                         'posthoc_auc': np.nan if model in ('real', 'k1') else 0.9,
                         'error': None})
    return pd.DataFrame(rows)


def check_report():
    from benchmarks.pu_report import plot_frontier, summarize
    from benchmarks.report import MissingValueError

    frame = synthetic_results()
    summary = summarize(frame).set_index('model')
    assert list(summary.index) == ['real', 'k1', 'k2_l0', 'k2_l1']       # registry order
    assert summary.loc['k1', 'max AUC (all attacks)'] == '0.650 ± 0.010'
    assert summary.loc['real', 'max AUC white-box'] == '-'
    assert summary.loc['k2_l0', 'fit s'] == '20'
    # k2_l1 - k1 per seed: -0.07, -0.08, -0.09 -> mean -0.08, s.e. 0.01 / sqrt(3)
    assert summary.loc['k2_l1', 'Δ bb AUC vs k1 (± s.e.)'] == '-0.080 ± 0.006'
    assert summary.loc['k2_l1', 'Δ bb AUC vs λ=0 (± s.e.)'] == '-0.070 ± 0.006'
    assert summary.loc['k1', 'Δ bb AUC vs k1 (± s.e.)'] == '-'
    failed = frame.copy()
    failed.loc[3, 'error'] = 'RuntimeError: boom'     # seed 1 of k2_l1
    failed.loc[3, ['max_auc', 'max_auc_bb']] = np.nan
    assert summarize(failed).set_index('model').loc['k2_l1', 'runs'] == '3 (1 failed)'
    broken = frame.copy()
    broken.loc[2, 'tstr_auc'] = np.nan                # k2_l0 seed 1, not marked failed
    error = _raises(MissingValueError, summarize, broken)
    assert 'tstr_auc' in str(error) and 'k2_l0' in str(error)
    unpaired = frame[~((frame['model'] == 'k1') & (frame['seed'] == 3))]
    assert 'no baseline' in str(_raises(MissingValueError, summarize, unpaired))
    with tempfile.TemporaryDirectory() as folder:
        plot_frontier(frame, Path(folder) / 'frontier.png')
        assert (Path(folder) / 'frontier.png').stat().st_size > 10_000


@dataclass(frozen=True)
class ToyRun:
    name: str
    value: float

    @property
    def key(self):
        return ('toy', self.name)

    def describe(self):
        return {'value': self.value}


def toy_execute(run):
    if run.value < 0:
        raise ValueError('negative value')
    return {'record': {'name': run.name, 'double': 2 * run.value}, 'curves': []}


def check_runner():
    from benchmarks.runner import Runner, StaleRunError

    with tempfile.TemporaryDirectory() as folder:
        runner = Runner(folder)
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            assert runner.run([ToyRun('a', 1.0), ToyRun('b', -1.0)], toy_execute) == 1
        assert 'FAILED toy/b: ValueError: negative value' in printed.getvalue()
        assert runner.stored(ToyRun('a', 1.0))['record']['double'] == 2.0
        assert runner.stored(ToyRun('b', -1.0)) is None        # failed: retried next time
        _raises(StaleRunError, runner.stored, ToyRun('a', 5.0))
        parallel = Runner(folder, jobs=2)
        assert parallel.run([ToyRun('a', 1.0), ToyRun('c', 3.0), ToyRun('d', 4.0)],
                            toy_execute) == 0
        records = [result['record'] for result in parallel.results()]
        assert sorted(r['name'] for r in records if 'name' in r) == ['a', 'c', 'd']
        assert sum(1 for r in records if r.get('error')) == 1   # b's failure is kept


def check_committed_summaries():
    """The report rebuilds the committed summaries from their CSVs (to the last digit,
    or one unit off where a mean sits on a rounding tie)."""
    from benchmarks.common import RESULTS
    from benchmarks.doc_check import numbers
    from benchmarks.pu_report import summarize, sweep_table
    from benchmarks.report import to_markdown

    for stem in ('privacy_utility', 'privacy_utility_credit5', 'privacy_utility_churn'):
        frame = pd.read_csv(RESULTS / f'{stem}.csv')
        committed = (RESULTS / f'{stem}_summary.md').read_text().split('\n\n')[2::2]
        rebuilt = [to_markdown(sweep_table(frame)), to_markdown(summarize(frame))]
        assert len(committed) == 2 and all(
            len(a.strip().splitlines()) == len(b.splitlines()) > 2
            for a, b in zip(committed, rebuilt)), stem
        for old_table, new_table in zip(committed, rebuilt):
            for old, new in zip(old_table.strip().splitlines(), new_table.splitlines()):
                if old == new:
                    continue
                pairs = list(zip(numbers(old), numbers(new)))
                assert len(numbers(old)) == len(numbers(new)), (stem, old, new)
                assert all(abs(a - b) <= 1.01 * 10 ** -d for (a, d), (b, _) in pairs), \
                    (stem, old, new)


def check_doc_checker():
    from benchmarks.doc_check import check_cell, main

    assert check_cell('0.706 ± 0.037', (0.70649, 0.0371)) == ''
    assert check_cell('**0.578 ± 0.023**', (0.5776, 0.0234)) == ''
    assert check_cell('−0.012', (-0.0124,)) == ''
    assert check_cell('0.650', (0.6495,)) == ''               # a correct rounding of a tie
    assert check_cell('0.092', (0.092, 0.040)) == ''          # a mean without its sd
    assert check_cell('0.707', (0.7049,)) != ''
    assert check_cell('-', (float('nan'),)) == ''
    assert check_cell('0.5', (float('nan'),)) != ''
    assert check_cell('-', (0.5,)) != ''
    assert check_cell('0.618 → 0.574', (0.618, 0.5741)) == ''
    assert main([]) == 0, 'the docs do not match the committed results (see above)'


def check_same_rows_partitions():
    """Partition c of the same-rows control must be exactly one copy of the table."""
    from unittest.mock import patch

    import sdv_privgan.tabular.model as library
    from benchmarks.distinguishability import copies_as_partitions
    from benchmarks.tables import load_table
    from sdv_privgan import PrivCTGANSynthesizer

    table, metadata = load_table('penguins', 60, seed=0)
    train = copies_as_partitions(table, 2, seed=3)
    seen = []

    def observed(n, k, generator=None):   # observes the library's draw, changes nothing
        labels = library_partition_rows(n, k, generator)
        seen.append(labels)
        return labels

    library_partition_rows = library.partition_rows
    with patch.object(library, 'partition_rows', observed):
        PrivCTGANSynthesizer(metadata, epochs=1, batch_size=20, n_partitions=2, seed=3,
                             privacy_weight=0.0).fit({'penguins': train})
    (labels,) = seen
    for component in (0, 1):
        rows = train[labels.numpy() == component].reset_index(drop=True)
        pd.testing.assert_frame_equal(rows, table.reset_index(drop=True))


CHECKS = [check_registries, check_report, check_runner, check_committed_summaries,
          check_doc_checker,
          check_same_rows_partitions]


def main() -> int:
    from benchmarks.common import quiet, set_threads

    set_threads(1)
    quiet()
    failed = 0
    for check in CHECKS:
        try:
            check()
            print(f'ok      {check.__name__}')
        except Exception:  # noqa: BLE001 - every check reports
            failed += 1
            print(f'FAILED  {check.__name__}\n{traceback.format_exc()}')
    print(f'selfcheck: {len(CHECKS) - failed} of {len(CHECKS)} passed')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
