"""Tables and figures of the privacy-utility benchmark."""

import numpy as np
import pandas as pd

from pu_config import LEAK_AUC, LEAK_TPR, MODELS

def to_markdown(frame):
    """A GitHub markdown table (pandas' to_markdown needs tabulate, not installed)."""
    def cell(value):
        if isinstance(value, float):
            return '-' if np.isnan(value) else f'{value:.3f}'
        return str(value)
    lines = ['| ' + ' | '.join(map(str, frame.columns)) + ' |',
             '|' + '---|' * len(frame.columns)]
    lines += ['| ' + ' | '.join(cell(v) for v in row) + ' |'
              for row in frame.itertuples(index=False)]
    return '\n'.join(lines)



# ------------------------------------------------------------------------ reporting
SUMMARY_COLUMNS = {
    'max_auc': 'max AUC (all attacks)', 'max_auc_bb': 'max AUC black-box',
    'max_auc_wb': 'max AUC white-box', 'tpr1_max': 'TPR@1%FPR (max)',
    'tstr_accuracy': 'TSTR acc.', 'tstr_auc': 'TSTR AUC', 'quality': 'Quality',
    'fit_seconds': 'fit s', 'posthoc_auc': 'post-hoc comp. AUC',
}


def summarize(frame):
    grid = frame[frame['phase'] == 'grid']
    if grid.empty:
        return pd.DataFrame()
    rows = []
    order = list(MODELS)
    for (table, setting, model), group in grid.groupby(['table', 'setting', 'model']):
        row = {'table': table, 'setting': setting, 'model': model, 'runs': len(group)}
        for column, label in SUMMARY_COLUMNS.items():
            if column in group and group[column].notna().any():
                values = group[column].dropna()
                row[label] = (f'{values.mean():.3f} ± {values.std():.3f}' if len(values) > 1
                              else f'{values.mean():.3f}')
                if column == 'fit_seconds':
                    row[label] = f'{values.mean():.0f}'
            else:
                row[label] = '-'
        # Paired changes (same seeds, same splits) of the strongest black-box attack's AUC:
        # against CTGAN (k1), and for a regularized model against lambda=0 at the same K.
        here = grid[(grid['table'] == table) & (grid['setting'] == setting)]
        spec = MODELS[model]
        references = {'Δ bb AUC vs k1 (± s.e.)': 'k1'}
        if spec['kind'] == 'privctgan' and spec['privacy_weight'] > 0:
            references['Δ bb AUC vs λ=0 (± s.e.)'] = f"k{spec['n_partitions']}_l0"
        for name in ('Δ bb AUC vs k1 (± s.e.)', 'Δ bb AUC vs λ=0 (± s.e.)'):
            row[name] = '-'
            if name not in references or references[name] == model:
                continue
            base = here[here['model'] == references[name]].set_index('seed')['max_auc_bb']
            paired = (group.set_index('seed')['max_auc_bb'] - base).dropna()
            if len(paired) > 1:
                row[name] = f'{paired.mean():+.3f} ± {paired.std() / np.sqrt(len(paired)):.3f}'
        if 'error' in group and group['error'].notna().any():
            row['runs'] = f"{len(group)} ({group['error'].notna().sum()} failed)"
        rows.append(row)
    summary = pd.DataFrame(rows)
    summary['_order'] = summary['model'].map({m: i for i, m in enumerate(order)})
    return summary.sort_values(['table', 'setting', '_order']).drop(columns='_order')


def sweep_table(frame):
    sweep = frame[frame['phase'] == 'sweep']
    if sweep.empty:
        return pd.DataFrame()
    columns = ['table', 'setting', 'n_members', 'steps', 'batch_size', 'epochs', 'fit_seconds',
               'max_auc', 'best_attack', 'max_auc_bb', 'max_auc_wb', 'tpr1_max', 'tstr_auc',
               'quality']
    floor = sweep[sweep['model'] == 'real'].set_index(['table', 'setting'])
    table = sweep[sweep['model'] == 'k1'][[c for c in columns if c in sweep]].copy()
    keys = list(zip(table['table'], table['setting']))
    table['floor_max_auc'] = [floor['max_auc'].get(key, np.nan) for key in keys]
    table['floor_tpr1_max'] = [floor['tpr1_max'].get(key, np.nan) for key in keys]
    table['leaks'] = (table['max_auc'] >= LEAK_AUC) | (table['tpr1_max'] >= LEAK_TPR)
    return table.round(3)


LABELS = {'real': 'real rows (floor)', 'ctgan': 'SDV CTGAN', 'k1': 'CTGAN (K=1, critic kept)'}


def label(model):
    if model in LABELS:
        return LABELS[model]
    if model.startswith('k'):
        k, weight = model[1:].split('_l')
        return f'K={k}, λ={weight}'
    method, epsilon = model.rsplit('_e', 1)
    names = {'dpctgan': 'DP-CTGAN', 'patectgan': 'PATE-CTGAN', 'mst': 'MST'}
    return f'{names[method]} ε={epsilon}'


def _color(model):
    spec = MODELS[model]
    if spec['kind'] == 'real':
        return 'black'
    if spec['kind'] == 'ctgan':
        return 'tab:gray'
    if spec['kind'] == 'dp':
        return {'dpctgan': 'tab:red', 'patectgan': 'tab:orange', 'mst': 'tab:purple'}[
            spec['method']]
    if spec['n_partitions'] == 1:
        return 'tab:brown'
    return {2: 'tab:blue', 4: 'tab:green', 8: 'tab:cyan'}[spec['n_partitions']]


def _marker(model):
    spec = MODELS[model]
    if spec['kind'] != 'privctgan' or spec['n_partitions'] == 1:
        return {'real': '*', 'ctgan': 's', 'dp': 'D', 'privctgan': 's'}[spec['kind']]
    return {0.0: 'o', 0.3: 'v', 1.0: '^', 3.0: 'P'}[spec['privacy_weight']]


def plot_frontier(frame, path):
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    grid = frame[(frame['phase'] == 'grid') & frame['max_auc'].notna()]
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
                              yerr=point['tstr_sd'],
                              fmt=_marker(model), color=_color(model), ms=8, capsize=2,
                              label=label(model))
                axis.annotate(label(model), (point['auc'], point['tstr']), fontsize=7,
                              xytext=(4, 3), textcoords='offset points')
            real_fit = group['trtr_auc'].mean()
            axis.axhline(real_fit, color='k', lw=0.8, ls=':')
            axis.axvline(0.5, color='k', lw=0.8, ls=':')
            axis.set_xlabel(f'max ROC AUC of membership attacks ({title}); lower = more private')
            axis.set_ylabel('train-synthetic / test-real ROC AUC; higher = more useful')
            axis.set_title(f'{table}, {setting} (dotted: train on real / chance)', fontsize=10)
            axis.grid(alpha=0.3)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    order = sorted(range(len(labels)), key=lambda i: list(map(label, MODELS)).index(labels[i]))
    figure.legend([handles[i] for i in order], [labels[i] for i in order], fontsize=8,
                  loc='lower center', ncol=6, frameon=False)
    figure.suptitle('Privacy-utility frontier (mean ± sd over seeds)')
    figure.tight_layout(rect=(0, 0.09 if len(panels) == 1 else 0.05, 1, 1))
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_jsd(curves, frame, path):
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    if curves.empty:
        return
    grid = frame[frame['phase'] == 'grid']
    panels = list(curves.groupby(['table', 'setting']))
    figure, axes = plt.subplots(1, len(panels), figsize=(7 * len(panels), 4.8), squeeze=False)
    for axis, ((table, setting), group) in zip(axes[0], panels):
        models = sorted(group['model'].unique(), key=list(MODELS).index)
        for model, runs in ((m, group[group['model'] == m]) for m in models):
            mean = runs.groupby('epoch')['jsd_estimate'].mean()
            smooth = mean.rolling(5, min_periods=1, center=True).mean()
            axis.plot(smooth.index, smooth.values, color=_color(model),
                      ls={0.0: ':', 0.3: '-.', 1.0: '-', 3.0: '--'}[
                          MODELS[model]['privacy_weight']],
                      label=f'{label(model)} (max log K = '
                            f"{np.log(MODELS[model]['n_partitions']):.2f})")
            final = grid[(grid['table'] == table) & (grid['setting'] == setting)
                         & (grid['model'] == model)]
            if 'posthoc_jsd' in final and final['posthoc_jsd'].notna().any():
                axis.plot([mean.index.max()], [final['posthoc_jsd'].mean()],
                          _marker(model), color=_color(model), ms=9, mec='k')
        axis.set_xlabel('epoch')
        axis.set_ylabel('JSD between components (nats)')
        axis.set_title(f'{table}, {setting}: lines = running estimate from the online '
                       'classifier;\nmarkers at the end = fresh post-hoc classifier', fontsize=9)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write_plotly(frame, path):
    """The frontier as interactive plotly HTML (PNG export needs Chrome, absent offline)."""
    import plotly.express as px

    grid = frame[(frame['phase'] == 'grid') & frame['max_auc'].notna()].copy()
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
