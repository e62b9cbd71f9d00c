"""Turn what a pandas user passes (DataFrames, Metadata) into what SDMetrics 0.32 accepts.

SDMetrics wants plain dicts for metadata, ``{table: df}`` dicts for reports,
``NaN`` rather than ``None``, and silently drops ``ordinal`` columns from its
DCR metrics. Every report goes through these helpers so that the quirks are
handled once. Nothing here mutates what the caller passed.
"""

import copy

import numpy as np
import pandas as pd

from sdv_privgan._checks import column_errors

DEFAULT_TABLE_NAME = 'table'


def _metadata_to_dict(metadata):
    if hasattr(metadata, 'to_dict') and not isinstance(metadata, dict):
        return metadata.to_dict()
    if isinstance(metadata, dict):
        return copy.deepcopy(metadata)
    raise TypeError(
        'metadata must be an sdv.metadata.Metadata or a metadata dict; '
        f'got {type(metadata).__name__}.'
    )


def resolve_metadata(metadata, table_name=None):
    """Return ``(table_name, table_dict)`` for a single-table Metadata or metadata dict.

    Accepts an ``sdv.metadata.Metadata``, its ``to_dict()`` (with ``'tables'``),
    or a bare table dict (with ``'columns'``). Ordinal columns are relabelled
    categorical because SDMetrics' DCR metrics skip ordinal columns entirely.
    """
    metadata_dict = _metadata_to_dict(metadata)
    if 'tables' in metadata_dict:
        tables = metadata_dict['tables']
        if table_name is None:
            if len(tables) != 1:
                raise ValueError(
                    f'The metadata describes {len(tables)} tables {sorted(tables)}; pass '
                    'table_name to say which one to evaluate.'
                )
            table_name = next(iter(tables))
        if table_name not in tables:
            raise ValueError(f'The metadata has no table named {table_name!r}.')
        table_dict = tables[table_name]
    elif 'columns' in metadata_dict:
        table_name = table_name or DEFAULT_TABLE_NAME
        table_dict = metadata_dict
    else:
        raise ValueError("The metadata dict needs either a 'tables' or a 'columns' entry.")
    for column_metadata in table_dict.get('columns', {}).values():
        if column_metadata.get('sdtype') == 'ordinal':
            column_metadata['sdtype'] = 'categorical'
            # Ordinal-only keys would fail SDMetrics' categorical checks.
            column_metadata.pop('order', None)
            column_metadata.pop('order_by', None)
    return table_name, table_dict


def get_table_metadata(metadata):
    """Only the table dict of ``metadata`` (used by the encoder)."""
    return resolve_metadata(metadata)[1]


def as_sdmetrics_metadata(table_name, table_dict):
    """The multi-table-shaped dict that SDMetrics' reports require."""
    return {'tables': {table_name: table_dict}, 'METADATA_SPEC_VERSION': 'V2'}


def normalize_missing(data):
    """A copy of ``data`` where every missing value is ``NaN`` (or NaT), never ``None``.

    Real data read from a database has ``None`` in object columns while
    synthesizers return ``NaN``; SDMetrics' one-hot encoders then treat ``None``
    as an unknown category and fail.
    """
    data = data.copy()
    for column in data.columns:
        if data[column].dtype == object:
            data[column] = data[column].where(data[column].notna(), np.nan)
    return data


def check_table(data, argument, table_dict=None, expected_columns=None):
    """Validate one table argument; raise a ValueError that names the argument and columns.

    ``expected_columns`` (those of the training data) is checked when given, else the
    columns that ``table_dict`` describes; the values always against ``table_dict``."""
    if isinstance(data, dict):
        if len(data) != 1:
            raise ValueError(f'{argument} must be a DataFrame or a dict with exactly one table.')
        data = next(iter(data.values()))
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f'{argument} must be a pandas DataFrame; got {type(data).__name__}.')
    if data.empty:
        raise ValueError(f'{argument} is empty.')
    if expected_columns is not None:
        missing = [column for column in expected_columns if column not in data.columns]
        extra = [column for column in data.columns if column not in set(expected_columns)]
        if missing or extra:
            raise ValueError(
                f'{argument} must have the same columns as real_training_data; '
                f'missing {missing}, unexpected {extra}.'
            )
    elif table_dict is not None:
        described = list(table_dict.get('columns', {}))
        missing = [column for column in described if column not in data.columns]
        if missing:
            raise ValueError(f'{argument} lacks the columns {missing} described in the metadata.')
    if table_dict is not None and (errors := column_errors(data, table_dict.get('columns', {}))):
        raise ValueError(f'{argument}: ' + ' '.join(errors))
    return data


def sample_positions(n_rows, n_draw, rng):
    """Positions of at most ``n_draw`` of ``n_rows`` rows, drawn without replacement, in
    order (all of them, without a draw, when there are not more)."""
    if n_rows <= n_draw:
        return np.arange(n_rows)
    return np.sort(rng.choice(n_rows, size=n_draw, replace=False))


def sample_rows(data, n_rows, rng):
    """At most ``n_rows`` rows of ``data``, drawn without replacement, in their order."""
    if len(data) <= n_rows:
        return data
    return data.iloc[sample_positions(len(data), n_rows, rng)]


def aligned(data, columns):
    """``data`` with its columns in the order of ``columns`` (a copy, NaN-normalised)."""
    return normalize_missing(data[list(columns)])
