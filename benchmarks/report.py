"""Aggregation of paired seeds, shared by every benchmark's report.

A result frame has one row per run (an open set of metric columns) and an optional
``error`` column. Failed runs are counted, never averaged. Within a group of runs a
metric must be present in every run or in none (a model without white-box attacks);
a metric that is NaN in some runs only is a bug or a broken run, and raises.
"""

import numpy as np
import pandas as pd


class MissingValueError(ValueError):
    """A metric is NaN in some runs of a group and not in others."""


def succeeded(frame: pd.DataFrame) -> pd.DataFrame:
    """The runs without an error."""
    if 'error' not in frame:
        return frame
    return frame[frame['error'].isna() | (frame['error'] == '')]


def values(group: pd.DataFrame, metric: str, where: str = '') -> pd.Series:
    """The metric over the group's successful runs: all of them, or empty if it does not
    apply to this group; NaN in some runs only raises ``MissingValueError``."""
    group = succeeded(group)
    if metric not in group:
        return pd.Series(dtype=float)
    column = group[metric]
    missing = column.isna()
    if missing.all():
        return pd.Series(dtype=float)
    if missing.any():
        seeds = group.loc[missing, 'seed'].tolist() if 'seed' in group else missing.sum()
        raise MissingValueError(
            f'{metric} is NaN in {int(missing.sum())} of {len(column)} runs of '
            f'{where or "a group"} (seeds {seeds}); fix or rerun them instead of averaging '
            'the rest.')
    return column.astype(float)


def mean_sd(series: pd.Series) -> tuple:
    """(mean, sample sd, n); sd is NaN for one run, everything NaN for none."""
    n = len(series)
    if n == 0:
        return np.nan, np.nan, 0
    return float(series.mean()), float(series.std()) if n > 1 else np.nan, n


def _indexed(group: pd.DataFrame, metric: str, on: str, where: str) -> pd.Series:
    series = values(group, metric, where)
    keys = succeeded(group)[on].to_numpy() if len(series) else []
    if len(set(keys)) < len(keys):
        raise MissingValueError(f'{where}: several runs share one {on}; cannot pair them.')
    return pd.Series(series.to_numpy(), index=keys, dtype=float)


def paired_delta(group: pd.DataFrame, base: pd.DataFrame, metric: str, *,
                 on: str = 'seed', where: str = '') -> tuple:
    """Mean and standard error of ``group - base`` paired on ``on`` (same seeds, same
    splits), and the number of pairs; no baseline runs give NaN. A run of ``group``
    whose seed the baseline lacks raises: an unpaired mean would not be a paired delta."""
    here, there = _indexed(group, metric, on, where), _indexed(base, metric, on, where)
    if here.empty or there.empty:
        return np.nan, np.nan, 0
    unpaired = sorted(set(here.index) - set(there.index))
    if unpaired:
        raise MissingValueError(f'{where}: {on} {unpaired} have no baseline run to pair with.')
    delta = here - there.loc[here.index].to_numpy()
    n = len(delta)
    return float(delta.mean()), float(delta.std() / np.sqrt(n)) if n > 1 else np.nan, n


def format_mean_sd(series: pd.Series, digits: int = 3) -> str:
    """``'0.604 ± 0.031'``, ``'0.604'`` for one run, ``'-'`` for none."""
    mean, sd, n = mean_sd(series)
    if n == 0:
        return '-'
    return f'{mean:.{digits}f} ± {sd:.{digits}f}' if n > 1 else f'{mean:.{digits}f}'


def format_delta(delta: tuple, digits: int = 3) -> str:
    """``'-0.056 ± 0.010'`` for two or more pairs, ``'-'`` otherwise."""
    mean, se, n = delta
    return f'{mean:+.{digits}f} ± {se:.{digits}f}' if n > 1 else '-'


def to_markdown(frame: pd.DataFrame) -> str:
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
