import os
import warnings

os.environ.setdefault('OMP_NUM_THREADS', '1')

import joblib  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)
# ctgan's DataTransformer starts joblib worker processes (~15 s on this machine);
# threads do the same work here without the start-up cost.
joblib.parallel_config(backend='threading')


def make_mixed_table(num_rows=240, seed=0):
    """A table with the shapes real data has: numerical with missing values, categorical
    with a rare category and categories of one row, boolean, datetime, a constant
    column and non-ASCII column names."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 90, num_rows).astype(float)
    age[rng.random(num_rows) < 0.1] = np.nan
    region = rng.choice(['nord', 'sud', 'est'], num_rows, p=[0.5, 0.3, 0.2]).astype(object)
    region[0] = 'île'  # a rare category: one row
    grade = np.array([f'g{i % 8}' for i in range(num_rows)], dtype=object)
    grade[-5:] = ['solo1', 'solo2', 'solo3', 'solo4', 'solo5']  # one row per category
    income = np.round(rng.lognormal(10, 0.5, num_rows), 2)
    return pd.DataFrame({
        'âge': age,
        'revenu €': income,
        'région': region,
        'grade': grade,
        'member': rng.random(num_rows) < 0.3,
        'signup': pd.Timestamp('2020-01-01') + pd.to_timedelta(
            rng.integers(0, 1000, num_rows), unit='D'),
        'constant': 7,
        '名前': rng.choice(['愛', '優', '蓮'], num_rows),
    })


def fit_quietly(synthesizer, table, name='people'):
    """``synthesizer`` fitted on ``{name: table}`` without SDV's notices, returned."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        synthesizer.fit({name: table})
    return synthesizer


def mixed_metadata(table, name='people'):
    from sdv.metadata import Metadata

    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        metadata = Metadata.detect_from_dataframes({name: table})
        for column, sdtype in [('âge', 'numerical'), ('revenu €', 'numerical'),
                               ('région', 'categorical'), ('grade', 'categorical'),
                               ('member', 'boolean'), ('constant', 'numerical'),
                               ('名前', 'categorical')]:
            metadata.update_column(column, table_name=name, sdtype=sdtype)
        metadata.update_column('signup', table_name=name, sdtype='datetime')
    return metadata


@pytest.fixture(scope='session')
def mixed_table():
    return make_mixed_table()


@pytest.fixture(scope='session')
def metadata(mixed_table):
    return mixed_metadata(mixed_table)
