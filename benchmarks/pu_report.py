"""Tables and figures of the privacy-utility benchmark, from its result frame.

``METRICS`` lists the summary's columns: add ``(column, label, style)`` to show a new
metric of the records (``style`` 'mean_sd' or 'seconds'). Paired deltas are taken on
the same seeds (same splits) against a named baseline model and, for a regularized
model, against its ``ablation`` (the same K without the regularizer).
"""

import numpy as np
import pandas as pd

from benchmarks.models import MODELS
from benchmarks.report import format_delta, format_mean_sd, paired_delta, succeeded, values

LEAK_AUC, LEAK_TPR = 0.60, 0.03

METRICS = [
    ('max_auc', 'max AUC (all attacks)', 'mean_sd'),
    ('max_auc_bb', 'max AUC black-box', 'mean_sd'),
    ('floor_auc', 'floor AUC', 'mean_sd'),
    ('max_auc_drawn', 'max AUC, drawn rows', 'mean_sd'),
    ('max_auc_latent', 'latent reconstruction AUC', 'mean_sd'),
    ('max_auc_wb', 'max AUC white-box', 'mean_sd'),
    ('leakage_detected', 'leakage detected (share of runs)', 'mean_sd'),
    ('tpr1_max', 'TPR@1%FPR (max)', 'mean_sd'),
    ('tstr_accuracy', 'TSTR acc.', 'mean_sd'),
    ('tstr_auc', 'TSTR AUC', 'mean_sd'),
    ('quality', 'Quality', 'mean_sd'),
    ('fit_seconds', 'fit s', 'seconds'),
    ('posthoc_auc', 'post-hoc comp. AUC', 'mean_sd'),
]
DELTA_METRIC = 'max_auc_bb'


def _order(model):
    names = list(MODELS)
    return names.index(model) if model in names else len(names)


def _cell(group, column, style, where):
    series = values(group, column, where)
    if series.empty:
        return '-'
    return f'{series.mean():.0f}' if style == 'seconds' else format_mean_sd(series)


def summarize(frame: pd.DataFrame, baseline: str = 'k1') -> pd.DataFrame:
    """The grid: mean ± sd over seeds per (table, setting, model), with paired deltas of
    the strongest black-box attack against ``baseline`` and the model's ablation."""
    grid = frame[frame['phase'] == 'grid']
    if grid.empty:
        return pd.DataFrame()
    against_baseline = f'Δ bb AUC vs {baseline} (± s.e.)'
    against_ablation = 'Δ bb AUC vs λ=0 (± s.e.)'
    rows = []
    for (table, setting, model), group in grid.groupby(['table', 'setting', 'model']):
        where = f'{table}/{setting}/{model}'
        row = {'table': table, 'setting': setting, 'model': model, 'runs': len(group)}
        for column, label, style in METRICS:
            row[label] = _cell(group, column, style, where)
        here = grid[(grid['table'] == table) & (grid['setting'] == setting)]
        ablation = MODELS[model].ablation if model in MODELS else None
        for name, reference in ((against_baseline, baseline), (against_ablation, ablation)):
            row[name] = '-'
            if reference and reference != model:
                delta = paired_delta(group, here[here['model'] == reference], DELTA_METRIC,
                                     where=f'{where} vs {reference}')
                row[name] = format_delta(delta)
        failed = len(group) - len(succeeded(group))
        if failed:
            row['runs'] = f'{len(group)} ({failed} failed)'
        rows.append(row)
    summary = pd.DataFrame(rows)
    summary['_order'] = summary['model'].map(_order)
    return summary.sort_values(['table', 'setting', '_order']).drop(columns='_order')


def sweep_table(frame: pd.DataFrame, probe: str = 'k1', floor: str = 'real') -> pd.DataFrame:
    """The sweep: the unregularized ``probe`` per setting, beside the noise floor."""
    sweep = frame[frame['phase'] == 'sweep']
    if sweep.empty:
        return pd.DataFrame()
    columns = ['table', 'setting', 'n_members', 'steps', 'batch_size', 'epochs', 'fit_seconds',
               'max_auc', 'best_attack', 'max_auc_bb', 'max_auc_wb', 'tpr1_max', 'tstr_auc',
               'quality']
    floors = sweep[sweep['model'] == floor].set_index(['table', 'setting'])
    table = sweep[sweep['model'] == probe][[c for c in columns if c in sweep]].copy()
    keys = list(zip(table['table'], table['setting']))
    table['floor_max_auc'] = [floors['max_auc'].get(key, np.nan) for key in keys]
    table['floor_tpr1_max'] = [floors['tpr1_max'].get(key, np.nan) for key in keys]
    table['leaks'] = leaks(table)
    return table.round(3)


def leaks(runs: pd.DataFrame) -> pd.Series:
    """Whether each run leaks: best attack AUC >= ``LEAK_AUC`` or TPR >= ``LEAK_TPR``."""
    return (runs['max_auc'] >= LEAK_AUC) | (runs['tpr1_max'] >= LEAK_TPR)


def leaky_settings(sweep: pd.DataFrame, keep: int) -> list:
    """The ``keep`` leakiest settings of one table's sweep rows: ``[(setting, leaks)]``;
    when nothing leaks, the leakiest one, flagged ``False``."""
    ranked = sweep.sort_values(['max_auc', 'steps'], ascending=[False, True])
    leaking = leaks(ranked)
    chosen = ranked[leaking].head(keep)
    if chosen.empty:
        chosen = ranked.head(1)
    return [(row.setting, bool(leak))
            for (_, row), leak in zip(chosen.iterrows(), leaking.loc[chosen.index])]


# ------------------------------------------------------------------------ figures
def label(model: str) -> str:
    return MODELS[model].label if model in MODELS else model


def _params(model):
    return MODELS[model].params if model in MODELS else {}


def _kind(model):
    return MODELS[model].kind if model in MODELS else 'other'


def color(model: str) -> str:
    kind, params = _kind(model), _params(model)
    if kind in ('real', 'ctgan'):
        return {'real': 'black', 'ctgan': 'tab:gray'}[kind]
    if kind == 'dp':
        return {'dpctgan': 'tab:red', 'patectgan': 'tab:orange', 'mst': 'tab:purple'}[
            params['method']]
    if kind == 'privctgan' and params['n_partitions'] == 1:
        return 'tab:brown'
    return {2: 'tab:blue', 4: 'tab:green', 8: 'tab:cyan'}.get(params.get('n_partitions'),
                                                              'tab:olive')


def marker(model: str) -> str:
    kind, params = _kind(model), _params(model)
    if kind != 'privctgan' or params['n_partitions'] == 1:
        return {'real': '*', 'ctgan': 's', 'dp': 'D', 'privctgan': 's'}.get(kind, 'X')
    return {0.0: 'o', 0.3: 'v', 1.0: '^', 3.0: 'P'}.get(params['privacy_weight'], 'X')


def _pyplot():
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    return plt


def plot_frontier(frame: pd.DataFrame, path) -> None:
    """TSTR ROC AUC against the strongest attack, one panel per table and setting."""
    plt = _pyplot()
    grid = succeeded(frame[frame['phase'] == 'grid'])
    grid = grid[grid['max_auc'].notna()]
    panels = list(grid.groupby(['table', 'setting']))
    if not panels:
        return
    figure, axes = plt.subplots(len(panels), 2, figsize=(13, 5.2 * len(panels)), squeeze=False)
    for row, ((table, setting), group) in enumerate(panels):
        for col, (metric, title) in enumerate([('max_auc', 'all attacks incl. white-box'),
                                               ('max_auc_bb', 'black-box attacks only')]):
            axis = axes[row, col]
            stats = group.groupby('model').agg(
                auc=(metric, 'mean'), auc_sd=(metric, 'std'), tstr=('tstr_auc', 'mean'),
                tstr_sd=('tstr_auc', 'std')).fillna(0.0)
            for model, point in stats.iterrows():
                axis.errorbar(point['auc'], point['tstr'], xerr=point['auc_sd'],
                              yerr=point['tstr_sd'], fmt=marker(model), color=color(model),
                              ms=8, capsize=2, label=label(model))
                axis.annotate(label(model), (point['auc'], point['tstr']), fontsize=7,
                              xytext=(4, 3), textcoords='offset points')
            axis.axhline(group['trtr_auc'].mean(), color='k', lw=0.8, ls=':')
            axis.axvline(0.5, color='k', lw=0.8, ls=':')
            axis.set_xlabel(f'max ROC AUC of membership attacks ({title}); lower = more private')
            axis.set_ylabel('train-synthetic / test-real ROC AUC; higher = more useful')
            axis.set_title(f'{table}, {setting} (dotted: train on real / chance)', fontsize=10)
            axis.grid(alpha=0.3)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    names = [label(m) for m in MODELS]
    order = sorted(range(len(labels)),
                   key=lambda i: names.index(labels[i]) if labels[i] in names else len(names))
    figure.legend([handles[i] for i in order], [labels[i] for i in order], fontsize=8,
                  loc='lower center', ncol=6, frameon=False)
    figure.suptitle('Privacy-utility frontier (mean ± sd over seeds)')
    figure.tight_layout(rect=(0, 0.09 if len(panels) == 1 else 0.05, 1, 1))
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_jsd(curves: pd.DataFrame, frame: pd.DataFrame, path) -> None:
    """The online classifier's JSD estimate per epoch, and the fresh classifier's."""
    if curves.empty:
        return
    plt = _pyplot()
    grid = succeeded(frame[frame['phase'] == 'grid'])
    panels = list(curves.groupby(['table', 'setting']))
    figure, axes = plt.subplots(1, len(panels), figsize=(7 * len(panels), 4.8), squeeze=False)
    for axis, ((table, setting), group) in zip(axes[0], panels):
        for model in sorted(group['model'].unique(), key=_order):
            runs = group[group['model'] == model]
            mean = runs.groupby('epoch')['jsd_estimate'].mean()
            smooth = mean.rolling(5, min_periods=1, center=True).mean()
            params = _params(model)
            axis.plot(smooth.index, smooth.values, color=color(model),
                      ls={0.0: ':', 0.3: '-.', 1.0: '-', 3.0: '--'}.get(
                          params.get('privacy_weight'), '-'),
                      label=f'{label(model)} (max log K = '
                            f"{np.log(params.get('n_partitions', 1)):.2f})")
            final = grid[(grid['table'] == table) & (grid['setting'] == setting)
                         & (grid['model'] == model)]
            if 'posthoc_jsd' in final and final['posthoc_jsd'].notna().any():
                axis.plot([mean.index.max()], [final['posthoc_jsd'].mean()],
                          marker(model), color=color(model), ms=9, mec='k')
        axis.set_xlabel('epoch')
        axis.set_ylabel('JSD between components (nats)')
        axis.set_title(f'{table}, {setting}: lines = running estimate from the online '
                       'classifier;\nmarkers at the end = fresh post-hoc classifier', fontsize=9)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write_plotly(frame: pd.DataFrame, path) -> None:
    """The frontier as interactive plotly HTML (PNG export needs Chrome, absent offline)."""
    import plotly.express as px

    grid = succeeded(frame[frame['phase'] == 'grid'])
    grid = grid[grid['max_auc'].notna()].copy()
    if grid.empty:
        return
    stats = grid.groupby(['table', 'setting', 'model'], as_index=False).agg(
        max_auc=('max_auc', 'mean'), max_auc_bb=('max_auc_bb', 'mean'),
        tstr_auc=('tstr_auc', 'mean'), quality=('quality', 'mean'))
    stats['label'] = stats['model'].map(label)
    figure = px.scatter(stats, x='max_auc', y='tstr_auc', color='label', facet_row='table',
                        hover_data=['setting', 'max_auc_bb', 'quality'], text='label',
                        title='Privacy-utility frontier (mean over seeds)')
    figure.update_traces(textposition='top center', textfont_size=8)
    figure.write_html(path, include_plotlyjs='cdn')
