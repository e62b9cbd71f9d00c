"""Data checks whose errors name the column, shared by the synthesizers and the reports."""

import pandas as pd


def parse(series, sdtype='numerical', datetime_format=None):
    """``(parsed, message)``: ``series`` as numbers (or, for ``sdtype='datetime'``, dates),
    and a message naming its column if some values are neither missing nor of that kind
    (else ``None``)."""
    if sdtype == 'datetime':
        if pd.api.types.is_datetime64_any_dtype(series):
            return series, None
        parsed = pd.to_datetime(series, format=datetime_format, errors='coerce')
        what = 'dates' + (f' in the format {datetime_format!r}' if datetime_format else '')
    else:
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            return series, None
        parsed = pd.to_numeric(series, errors='coerce')
        what = 'numbers'
    bad = series.notna() & parsed.isna()
    if not bad.any():
        return parsed, None
    first = bad.idxmax()
    return parsed, (f'Column {series.name!r} is {sdtype} but {int(bad.sum())} of its values '
                    f'are not {what} (e.g. {series[first]!r} at index {first!r}); fix or drop '
                    'them, or describe the column as categorical in the metadata.')


def column_errors(data, columns):
    """Messages for every column of ``data`` named in ``columns`` (``{name: metadata dict}``)
    whose values do not fit its numerical or datetime sdtype."""
    errors = []
    for name, spec in columns.items():
        if name in data.columns and spec.get('sdtype') in ('numerical', 'datetime'):
            _, message = parse(data[name], spec['sdtype'], spec.get('datetime_format'))
            if message:
                errors.append(message)
    return errors
