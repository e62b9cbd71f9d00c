"""Plotly figures for the reports (the same library SDMetrics' reports use)."""

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sdv_privgan.evaluation.attacks import attack_label

_MEMBER_COLOR = '#d62728'
_NON_MEMBER_COLOR = '#1f77b4'


def roc_figure(result, log_scale=False):
    """ROC curve of every attack, with chance as a dashed diagonal.

    Args:
        result (MembershipInferenceResult): From ``run_membership_inference``.
        log_scale (bool): Log axes, to read the low-FPR region that matters most.
    """
    figure = go.Figure()
    floor = 1.0 / (2 * len(result.is_member))
    for name, (fpr, tpr) in result.curves.items():
        auc = result.metrics[name]['auc']
        if log_scale:  # log axes cannot show 0; pin it just below the smallest step
            fpr, tpr = np.maximum(fpr, floor), np.maximum(tpr, floor)
        figure.add_trace(
            go.Scatter(
                x=fpr, y=tpr, mode='lines', name=f'{attack_label(name)} (AUC {auc:.3f})'
            )
        )
    diagonal = [floor, 1] if log_scale else [0, 1]
    figure.add_trace(
        go.Scatter(
            x=diagonal, y=diagonal, mode='lines', name='Chance',
            line={'dash': 'dash', 'color': 'gray'},
        )
    )
    axis_type = 'log' if log_scale else 'linear'
    figure.update_layout(
        title=f'Membership inference: ROC curves ({_verdict_title(result)})',
        xaxis={'title': 'False positive rate', 'type': axis_type},
        yaxis={'title': 'True positive rate', 'type': axis_type},
        legend={'yanchor': 'bottom', 'y': 0.02, 'xanchor': 'right', 'x': 0.98},
        template='plotly_white',
    )
    return figure


def _verdict_title(result):
    verdict = result.verdict
    outcome = 'leakage detected' if verdict['leakage_detected'] else 'no leakage detected'
    floor = verdict['floor_max_auc']
    floor_text = f', floor {floor:.3f}' if np.isfinite(floor) else ''
    return (f"max AUC {verdict['max_auc']:.3f}{floor_text}, p = {verdict['p_value']:.3f}: "
            f'{outcome}')


def auc_interval_figure(result):
    """Each attack's AUC with its 95 % interval, beside the noise floor's, titled with the verdict.

    Args:
        result (MembershipInferenceResult): From ``run_membership_inference``.
    """
    names = list(result.metrics)
    labels = [attack_label(name) for name in names]
    figure = go.Figure()
    for title, metrics, color in (('Synthetic data', result.metrics, _MEMBER_COLOR),
                                  ('Noise floor (real non-members)', result.floor_metrics,
                                   _NON_MEMBER_COLOR)):
        shown = [name for name in names if name in metrics]
        if not shown:
            continue
        auc = np.array([metrics[name]['auc'] for name in shown])
        low = np.array([metrics[name].get('auc_low', np.nan) for name in shown])
        high = np.array([metrics[name].get('auc_high', np.nan) for name in shown])
        figure.add_trace(go.Scatter(
            x=auc, y=[labels[names.index(name)] for name in shown], mode='markers', name=title,
            marker={'color': color, 'size': 9},
            error_x={'type': 'data', 'symmetric': False, 'array': high - auc,
                     'arrayminus': auc - low}))
    figure.add_vline(x=0.5, line={'dash': 'dash', 'color': 'gray'})
    figure.update_layout(
        title=f'Membership inference: AUC with 95 % intervals ({_verdict_title(result)})',
        xaxis={'title': 'ROC AUC (0.5 = chance)'}, yaxis={'autorange': 'reversed'},
        template='plotly_white', height=140 + 40 * len(names))
    return figure


def score_histograms(result, attacks=None, bins=40):
    """One panel per attack: histogram of its scores for members and non-members."""
    names = list(attacks or result.scores)
    unknown = [name for name in names if name not in result.scores]
    if unknown:
        raise ValueError(f'No scores for the attacks {unknown}; have {list(result.scores)}.')
    columns = min(len(names), 3)
    rows = math.ceil(len(names) / columns)
    figure = make_subplots(
        rows=rows, cols=columns,
        subplot_titles=[attack_label(name) for name in names],
    )
    for position, name in enumerate(names):
        scores = np.asarray(result.scores[name], dtype=float)
        finite = np.isfinite(scores)
        edges = np.histogram_bin_edges(scores[finite], bins=bins)
        bin_spec = {'start': edges[0], 'end': edges[-1], 'size': edges[1] - edges[0] or 1.0}
        for label, mask, color in (
            ('Members', result.is_member, _MEMBER_COLOR),
            ('Non-members', ~result.is_member, _NON_MEMBER_COLOR),
        ):
            figure.add_trace(
                go.Histogram(
                    x=scores[mask & finite], name=label, marker_color=color, opacity=0.6,
                    xbins=bin_spec, legendgroup=label, showlegend=position == 0,
                ),
                row=position // columns + 1, col=position % columns + 1,
            )
    figure.update_layout(
        barmode='overlay', template='plotly_white',
        title='Attack scores: members vs non-members (higher = judged more likely a member)',
        height=320 * rows,
    )
    return figure


def bar_figure(frame, x, y, title, color=None):
    """A plain bar chart for a details table (e.g. DCR shares, ML efficacy)."""
    figure = go.Figure()
    if color is None:
        figure.add_trace(go.Bar(x=frame[x], y=frame[y], text=frame[y].round(3)))
    else:
        for key, group in frame.groupby(color, sort=False):
            figure.add_trace(go.Bar(x=group[x], y=group[y], name=str(key), text=group[y].round(3)))
    figure.update_layout(
        title=title, barmode='group', template='plotly_white')
    return figure
