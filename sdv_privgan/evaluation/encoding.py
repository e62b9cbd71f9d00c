"""One float encoding of mixed-type rows, shared by every distance and density attack.

Attacks compare rows by Euclidean distance, so the encoding decides what
"close" means. It is built so that every column weighs about the same:
numericals and datetimes are standardised (one standard deviation = 1), and a
categorical mismatch also costs 1 (one-hot columns are scaled by 1/sqrt(2),
because a mismatch differs in two of them). Missing values get an indicator
column, so "missing" is a value that can match or differ like any other.

Fit it on real rows only, without looking at who is a member: it then cannot
leak the labels it is used to predict.
"""

import numpy as np
import pandas as pd

from sdv_privgan._checks import parse
from sdv_privgan.evaluation._inputs import get_table_metadata

#: sdtypes that carry no distributional signal (identifiers, free text, PII);
#: they would make every row equally far from every other, so they are dropped.
_SKIPPED_SDTYPES = {'id', 'text', 'unknown'}
_ONE_HOT_WEIGHT = 1.0 / np.sqrt(2.0)
_OTHER = '__other__'
_MISSING = '__missing__'


def _infer_sdtype(series):
    if pd.api.types.is_bool_dtype(series):
        return 'boolean'
    if pd.api.types.is_datetime64_any_dtype(series):
        return 'datetime'
    if pd.api.types.is_numeric_dtype(series):
        return 'numerical'
    return 'categorical'


def _to_float(series, sdtype, datetime_format=None):
    """Numbers (datetimes as seconds since the epoch) with NaN for anything missing; a
    ``ValueError`` naming the column for values that are neither missing nor of its kind."""
    series, message = parse(series, sdtype, datetime_format)
    if message:
        raise ValueError(message)
    if sdtype == 'datetime':
        if getattr(series.dt, 'tz', None) is not None:
            series = series.dt.tz_convert('UTC').dt.tz_localize(None)
        values = series.astype('datetime64[ns]').to_numpy()
        out = values.astype('int64').astype(float) / 1e9
        out[np.isnat(values)] = np.nan
        return out
    return pd.to_numeric(series, errors='coerce').to_numpy(dtype=float, na_value=np.nan)


def _categorical_keys(series):
    # Compare categories as strings: a bool column may arrive as True / 'True' /
    # numpy.bool_ depending on who produced it (a synthesizer, a CSV round trip).
    # None and NaN both become one "missing" category.
    keys = series.astype(object).map(str).to_numpy(dtype=object)
    keys[series.isna().to_numpy()] = _MISSING
    return keys


class TabularEncoder:
    """Encode a table into a float32 matrix on which Euclidean distance is meaningful.

    Args:
        metadata (sdv.metadata.Metadata, dict or None):
            Used to read each column's sdtype (and datetime format). Without it
            the sdtypes are inferred from the pandas dtypes.
        max_categories (int):
            Most frequent categories kept per column; rarer ones share an
            "other" column so that a high-cardinality column cannot dominate.
    """

    def __init__(self, metadata=None, max_categories=50):
        if max_categories < 1:
            raise ValueError(f'max_categories must be at least 1; got {max_categories}.')
        self.metadata = metadata
        self.max_categories = max_categories
        self._columns = None
        self.feature_names_ = None

    def _column_specs(self, data):
        table_metadata = get_table_metadata(self.metadata) if self.metadata else None
        specs = []
        for column in data.columns:
            column_metadata = (table_metadata or {}).get('columns', {}).get(column)
            if column_metadata is None:
                sdtype, datetime_format = _infer_sdtype(data[column]), None
            else:
                sdtype = column_metadata.get('sdtype', 'unknown')
                datetime_format = column_metadata.get('datetime_format')
            if sdtype == 'ordinal':
                sdtype = 'categorical'  # an order without spacing: one-hot is the safe choice
            elif sdtype in _SKIPPED_SDTYPES or sdtype not in (
                'numerical', 'datetime', 'categorical', 'boolean'
            ):
                continue
            specs.append({'name': column, 'sdtype': sdtype, 'datetime_format': datetime_format})
        if not specs:
            raise ValueError(
                'None of the columns can be encoded for the attacks: they need at least one '
                'numerical, datetime, categorical or boolean column.'
            )
        return specs

    def fit(self, data):
        """Learn scales and category lists from ``data`` (a DataFrame of real rows)."""
        if not isinstance(data, pd.DataFrame) or data.empty:
            raise ValueError('TabularEncoder.fit needs a non-empty pandas DataFrame.')
        self._columns = []
        names = []
        for spec in self._column_specs(data):
            column = data[spec['name']]
            if spec['sdtype'] in ('numerical', 'datetime'):
                values = _to_float(column, spec['sdtype'], spec['datetime_format'])
                finite = values[np.isfinite(values)]
                center = float(np.median(finite)) if finite.size else 0.0
                scale = float(np.std(finite)) if finite.size > 1 else 0.0
                # A constant column must not divide by zero; it then adds nothing.
                spec.update(center=center, scale=scale if scale > 0 else 1.0)
                spec['has_missing'] = bool(np.isnan(values).any())
                names.append(spec['name'])
                if spec['has_missing']:
                    names.append(f"{spec['name']}#missing")
            else:
                counts = pd.Series(_categorical_keys(column)).value_counts()
                categories = list(counts.index[: self.max_categories])
                spec['categories'] = pd.Index(categories, dtype=object)
                spec['has_other'] = len(counts) > self.max_categories
                names.extend(f"{spec['name']}={category}" for category in categories)
                if spec['has_other']:
                    names.append(f"{spec['name']}={_OTHER}")
            self._columns.append(spec)
        self.feature_names_ = names
        return self

    def transform(self, data):
        """Encode ``data`` (same columns as at fit) into a float32 array of shape (n_rows, n_features)."""
        if self._columns is None:
            raise ValueError('This TabularEncoder is not fitted yet; call fit first.')
        missing = [spec['name'] for spec in self._columns if spec['name'] not in data.columns]
        if missing:
            raise ValueError(f'The data is missing the columns {missing} seen at fit.')
        blocks = []
        for spec in self._columns:
            column = data[spec['name']]
            if spec['sdtype'] in ('numerical', 'datetime'):
                values = _to_float(column, spec['sdtype'], spec['datetime_format'])
                is_missing = ~np.isfinite(values)
                scaled = (values - spec['center']) / spec['scale']
                scaled[is_missing] = 0.0
                blocks.append(scaled[:, None])
                if spec['has_missing']:
                    blocks.append(is_missing[:, None].astype(float))
            else:
                codes = spec['categories'].get_indexer(_categorical_keys(column))
                width = len(spec['categories']) + int(spec['has_other'])
                one_hot = np.zeros((len(data), width), dtype=np.float32)
                rows = np.arange(len(data))
                known = codes >= 0
                one_hot[rows[known], codes[known]] = _ONE_HOT_WEIGHT
                if spec['has_other']:
                    one_hot[rows[~known], width - 1] = _ONE_HOT_WEIGHT
                # Without an "other" column an unseen category encodes as all
                # zeros: equally far from every known one, which is what we want.
                blocks.append(one_hot)
        return np.hstack(blocks).astype(np.float32, copy=False)

    def fit_transform(self, data):
        """Fit on ``data`` and return its encoding."""
        return self.fit(data).transform(data)
