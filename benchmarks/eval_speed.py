"""How long PrivacyReport and UtilityReport take on 10k and 100k rows x 15 mixed columns.

Run on one thread (the shared CPU boxes are 2 cores; ``--threads`` to change)::

    python -m benchmarks.eval_speed --rows 10000 100000 --full-dcr

Synthetic data here is another sample of the same generator (so no model is
trained: only the evaluation is timed). ``--full-dcr`` also times the
distance-to-closest-record attack on *all* training rows against all synthetic
rows, which shows that the nearest-neighbour search never holds an n x m matrix.
"""

import argparse
import resource
import time
import warnings

import numpy as np
import pandas as pd
from sdv.metadata import Metadata

from benchmarks.common import set_threads
from sdv_privgan.evaluation import (
    PrivacyReport,
    TabularEncoder,
    UtilityReport,
    distance_to_closest_record,
)


def make_table(n_rows, seed):
    """15 columns: 7 numerical (2 with NaN), 5 categorical (one rare-heavy), a boolean,
    a datetime and a constant."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=n_rows)
    table = {f'num_{i}': latent * (i % 3) + rng.normal(size=n_rows) * (i + 1) for i in range(7)}
    for i in (0, 1):
        table[f'num_{i}'][rng.random(n_rows) < 0.05] = np.nan
    for i, n_categories in enumerate((3, 5, 8, 20, 200)):
        table[f'cat_{i}'] = np.char.add('c', rng.zipf(1.6, n_rows).clip(max=n_categories).astype(str))
    table['cat_0'] = np.where(latent > 0.5, 'high', table['cat_0'])
    table['flag'] = latent + rng.normal(size=n_rows) > 0
    table['date'] = pd.Timestamp('2015-01-01') + pd.to_timedelta(rng.integers(0, 3000, n_rows), 'D')
    table['constant'] = 'same'
    return pd.DataFrame(table)


def _peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(n_rows, full_dcr):
    train = make_table(n_rows, seed=1)
    synthetic = make_table(n_rows, seed=2)
    holdout = make_table(max(n_rows // 4, 1000), seed=3)
    reference = make_table(max(n_rows // 4, 1000), seed=4)
    metadata = Metadata.detect_from_dataframes({'table': train.iloc[:5000]})
    timings = {}
    started = time.perf_counter()
    privacy = PrivacyReport(seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        privacy.generate(train, synthetic, metadata, real_holdout_data=holdout,
                         real_reference_data=reference, known_column_names=['cat_1', 'num_2'],
                         sensitive_column_names=['flag'], verbose=False)
    timings['PrivacyReport'] = time.perf_counter() - started
    started = time.perf_counter()
    utility = UtilityReport(seed=0)
    utility.generate(train, synthetic, metadata, real_holdout_data=holdout, target='flag',
                     verbose=False)
    timings['UtilityReport'] = time.perf_counter() - started
    if full_dcr:
        encoder = TabularEncoder(metadata).fit(train)
        started = time.perf_counter()
        distance_to_closest_record(encoder.transform(train), encoder.transform(synthetic))
        timings[f'DCR attack, all {n_rows:,} x {n_rows:,} rows'] = time.perf_counter() - started
    print(f'\n## {n_rows:,} rows x {train.shape[1]} columns')
    for name, seconds in timings.items():
        print(f'- {name}: {seconds:.1f} s')
    print(f'- peak resident memory so far: {_peak_rss_mb():.0f} MB')
    print(privacy.get_properties().round(3).to_string(index=False))
    print(privacy.get_details('Membership Inference')[['Attack', 'AUC']].round(3).to_string(index=False))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--rows', type=int, nargs='+', default=[10_000, 100_000])
    parser.add_argument('--full-dcr', action='store_true')
    parser.add_argument('--threads', type=int, default=1, help='torch and BLAS threads')
    arguments = parser.parse_args()
    set_threads(arguments.threads)
    for n_rows in arguments.rows:
        run(n_rows, arguments.full_dcr)


if __name__ == '__main__':
    main()
