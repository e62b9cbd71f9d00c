"""The differentially private baselines as synthesizers: the driver side of
``dp_baselines`` (which runs in smartnoise-synth's own interpreter).

smartnoise-synth pins opacus < 0.15 and pulls jax, so it cannot share the project's
environment. ``SmartnoiseSynthesizer.fit`` writes the members and a job file, runs
``python -m benchmarks.dp_baselines JOB`` with that interpreter (``--dp-python``) and
``sample`` returns its rows with the real table's dtypes and categories.
"""

import json
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.common import ROOT


def align(synthetic, real):
    """Give DP output the real table's dtypes and category values."""
    synthetic = synthetic[real.columns].copy()
    for column in real.columns:
        if pd.api.types.is_numeric_dtype(real[column]) and real[column].nunique() > 10:
            synthetic[column] = pd.to_numeric(synthetic[column], errors='coerce')
            continue
        lookup = {str(value): value for value in real[column].dropna().unique()}
        lookup.update({str(float(v)): v for v in real[column].dropna().unique()
                       if isinstance(v, (int, np.integer, float))})
        synthetic[column] = synthetic[column].map(
            lambda value: lookup.get(str(value), np.nan) if pd.notna(value) else np.nan)
    return synthetic


def job_spec(ctx, train_csv, jobs):
    """The job file: columns, public bounds (the population's, not the members'), jobs."""
    data, train = ctx.population, ctx.train
    table_dict = ctx.metadata.to_dict()['tables'][ctx.table]
    continuous = [c for c, m in table_dict['columns'].items() if m['sdtype'] == 'numerical']
    return {
        'train_csv': str(train_csv), 'columns': list(train.columns),
        'categorical': [c for c in train.columns if c not in continuous],
        'continuous': continuous,
        'bounds': {c: [float(data[c].min()), float(data[c].max())] for c in continuous},
        'nullable': {c: bool(data[c].isna().any()) for c in train.columns},
        'integer': [c for c in continuous
                    if pd.api.types.is_integer_dtype(data[c].dropna().convert_dtypes())],
        'threads': ctx.threads, 'jobs': jobs}


class SmartnoiseSynthesizer:
    """DP-CTGAN, PATE-CTGAN or MST fitted by ``dp_baselines`` in its own interpreter.

    ``benchmark_fields`` holds what smartnoise reports (its own fit seconds, the epsilon
    spent, the epochs DP-CTGAN ran before its budget ran out), also after a failure.
    """

    def __init__(self, ctx, *, method, epsilon, delta):
        if not ctx.dp_python:
            raise ValueError('The DP baselines need the smartnoise-synth interpreter: '
                             'pass --dp-python (see benchmarks/README.md).')
        self.ctx, self.method, self.epsilon, self.delta = ctx, method, epsilon, delta
        self.benchmark_fields = {'fit_seconds': np.nan, 'dp_epsilon': epsilon,
                                 'dp_delta': delta, 'dp_epsilon_spent': np.nan,
                                 'dp_epochs_run': np.nan}
        self._rows = None

    def _params(self):
        if self.method not in ('dpctgan', 'patectgan'):
            return {}
        network = self.ctx.regime.network
        params = {'epochs': self.ctx.epochs, 'batch_size': self.ctx.regime.batch_size}
        params.update({k: list(v) if isinstance(v, tuple) else v for k, v in network.items()
                       if k in ('pac', 'embedding_dim', 'generator_dim', 'discriminator_dim')})
        return params

    def fit(self, data):
        (train,) = data.values()
        with tempfile.TemporaryDirectory(prefix='privgan_dp_') as folder:
            train_csv, out_csv = Path(folder) / 'train.csv', Path(folder) / 'synthetic.csv'
            train.to_csv(train_csv, index=False)
            job = {'method': self.method, 'epsilon': self.epsilon, 'delta': self.delta,
                   'seed': self.ctx.seed, 'n_samples': self.ctx.n_synthetic,
                   'out_csv': str(out_csv), 'params': self._params()}
            job_file = Path(folder) / 'job.json'
            job_file.write_text(json.dumps(job_spec(self.ctx, train_csv, [job])))
            process = subprocess.run(
                [self.ctx.dp_python, '-m', 'benchmarks.dp_baselines', str(job_file)],
                capture_output=True, text=True, cwd=ROOT)
            outcome = next((json.loads(line[len('RESULT '):])
                            for line in process.stdout.splitlines()
                            if line.startswith('RESULT ')), None)
            if outcome is None:
                raise RuntimeError(f'no result (exit {process.returncode}): '
                                   f'{process.stderr[-300:]}')
            self.benchmark_fields.update(
                fit_seconds=outcome.get('fit_seconds', np.nan),
                dp_delta=outcome.get('delta', self.delta),
                dp_epsilon_spent=outcome.get('epsilon_spent', np.nan),
                dp_epochs_run=outcome.get('epochs_run', np.nan))
            if 'error' in outcome:
                raise RuntimeError(outcome['error'])
            self._rows = align(pd.read_csv(out_csv), train)
        return self

    def sample(self, num_rows):
        if self._rows is None:
            raise ValueError('Fit the DP baseline before sampling.')
        if num_rows != len(self._rows):
            raise ValueError(f'The DP baseline drew {len(self._rows)} rows at fit time; '
                             f'asked for {num_rows}.')
        return {self.ctx.table: self._rows}
