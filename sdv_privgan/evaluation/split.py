"""Split one table into the three disjoint sets an evaluation needs.

- ``train``: the members, what the synthesizer is fitted on;
- ``holdout``: non-members of the same population, the other half of the
  balanced attack set (and the test set of train-on-synthetic / test-on-real);
- ``reference``: a further sample of the population, which calibrated attacks
  use to tell "typical of the population" from "memorised".

Evaluating a synthesizer is then three lines::

    train, holdout, reference = split_for_evaluation(data, seed=0)
    synthesizer.fit({'table': train})
    PrivacyReport().generate(train, synthesizer.sample(len(train))['table'], metadata,
                             real_holdout_data=holdout, real_reference_data=reference)
"""

from typing import NamedTuple

import numpy as np
import pandas as pd


class EvaluationSplit(NamedTuple):
    """Three disjoint DataFrames; unpacks as ``train, holdout, reference``."""

    train: pd.DataFrame
    holdout: pd.DataFrame
    reference: pd.DataFrame


def _check_fraction(value, name):
    if not 0 < value < 1:
        raise ValueError(f'{name} must be strictly between 0 and 1; got {value}.')


def split_for_evaluation(
    data, n_members=None, holdout_fraction=0.25, reference_fraction=0.25, seed=0
):
    """Shuffle ``data`` with ``seed`` and cut it into train, holdout and reference sets.

    Args:
        data (pandas.DataFrame): The whole table; it is not modified.
        n_members (int or None): Training rows to keep. ``None`` keeps all rows
            left after the holdout and reference; a smaller number leaves the
            remainder unused (useful to study small-data leakage).
        holdout_fraction (float): Share of ``data`` for the holdout.
        reference_fraction (float): Share of ``data`` for the reference.
        seed (int): The same seed and data always give the same split.

    Returns:
        EvaluationSplit: ``(train, holdout, reference)``, each keeping the
        original index so rows can be traced back to ``data``.
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f'data must be a pandas DataFrame; got {type(data).__name__}.')
    _check_fraction(holdout_fraction, 'holdout_fraction')
    _check_fraction(reference_fraction, 'reference_fraction')
    if holdout_fraction + reference_fraction >= 1:
        raise ValueError(
            'holdout_fraction + reference_fraction must be below 1 so that rows remain for '
            f'training; got {holdout_fraction} + {reference_fraction}.'
        )
    n_rows = len(data)
    n_holdout = int(round(n_rows * holdout_fraction))
    n_reference = int(round(n_rows * reference_fraction))
    n_available = n_rows - n_holdout - n_reference
    if min(n_holdout, n_reference, n_available) < 1:
        raise ValueError(f'data has {n_rows} rows, too few to split into three non-empty sets.')
    if n_members is None:
        n_members = n_available
    elif not 1 <= n_members <= n_available:
        raise ValueError(
            f'n_members must be between 1 and {n_available} (rows left after the holdout and '
            f'reference); got {n_members}.'
        )
    order = np.random.default_rng(seed).permutation(n_rows)
    holdout = order[:n_holdout]
    reference = order[n_holdout : n_holdout + n_reference]
    train = order[n_holdout + n_reference : n_holdout + n_reference + n_members]
    return EvaluationSplit(
        train=data.iloc[np.sort(train)].copy(),
        holdout=data.iloc[np.sort(holdout)].copy(),
        reference=data.iloc[np.sort(reference)].copy(),
    )
