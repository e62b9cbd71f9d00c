"""Differentially private baselines from smartnoise-synth, run in their own interpreter.

smartnoise-synth 1.0.8 pins opacus < 0.15 and pulls jax, so it cannot share the
project's environment (opacus 1.6). ``pu_dp.SmartnoiseSynthesizer`` writes the training
rows and a job file, then runs this module with the smartnoise venv's Python, from the
repository root; it imports nothing else of the project:

    python3 -m venv benchmarks/.venv-dp && benchmarks/.venv-dp/bin/pip install smartnoise-synth packaging
    benchmarks/.venv-dp/bin/python -m benchmarks.dp_baselines JOB.json

Job file (JSON)::

    {"train_csv": ..., "categorical": [...], "continuous": [...],
     "bounds": {column: [low, high]}, "nullable": {column: bool},
     "integer": [...], "threads": 1,
     "jobs": [{"method": "dpctgan" | "patectgan" | "mst" | "aim", "epsilon": 3.0,
               "delta": 1e-5, "seed": 0, "n_samples": 1000, "out_csv": ...,
               "params": {...}}]}

For each job it writes the synthetic rows to ``out_csv`` and a line of JSON on
stdout: method, epsilon, delta, fit_seconds, and what the method reports it spent.

Public knowledge assumed (as is usual for these libraries, and stated in the docs):
the numeric bounds (taken from the whole population table by the caller, not the
training rows) and the category lists. No privacy budget is spent on either
(``preprocessor_eps=0``). Continuous columns are min-max scaled for the GANs and cut
into ``bins`` equal-width bins for the marginal methods.
"""

import json
import sys
import time
import warnings


def build_transformer(spec, style, bins):
    from snsynth.transform import BinTransformer, MinMaxTransformer
    from snsynth.transform.table import TableTransformer
    from snsynth.transform.type_map import TypeMap

    transformers = []
    for column in spec['columns']:
        nullable = bool(spec['nullable'].get(column, False))
        if column in spec['continuous']:
            low, high = spec['bounds'][column]
            if style == 'cube':
                constraint = BinTransformer(lower=low, upper=high, bins=bins, nullable=nullable)
            else:
                constraint = MinMaxTransformer(lower=low, upper=high, nullable=nullable)
            transformers += TypeMap.get_transformers(
                [column], style=style, nullable=nullable, continuous_columns=[column],
                constraints={column: constraint})
        else:
            transformers += TypeMap.get_transformers(
                [column], style=style, nullable=nullable, categorical_columns=[column])
    return TableTransformer(transformers)


def run_job(data, spec, job):
    import numpy as np
    import torch
    from snsynth import Synthesizer

    seed = int(job.get('seed', 0))
    np.random.seed(seed)
    torch.manual_seed(seed)
    method, epsilon, delta = job['method'], float(job['epsilon']), job.get('delta')
    params = dict(job.get('params', {}))
    bins = int(params.pop('bins', 16))
    style = 'cube' if method in ('mst', 'aim') else 'gan'
    if method in ('dpctgan', 'patectgan'):
        params.setdefault('verbose', False)
        params['cuda'] = False
    if delta is not None:
        params['delta'] = float(delta)
    synthesizer = Synthesizer.create(method, epsilon=epsilon, **params)
    transformer = build_transformer(spec, style, bins)
    start = time.perf_counter()
    synthesizer.fit(data, transformer=transformer, preprocessor_eps=0.0)
    fit_seconds = time.perf_counter() - start
    synthetic = synthesizer.sample(int(job['n_samples']))
    synthetic = synthetic[spec['columns']] if hasattr(synthetic, 'columns') else synthetic
    for column in spec.get('integer', []):
        synthetic[column] = synthetic[column].round()
    synthetic.to_csv(job['out_csv'], index=False)
    result = {'method': method, 'epsilon': epsilon, 'fit_seconds': fit_seconds,
              'delta': getattr(synthesizer, 'delta', delta)}
    spent = getattr(synthesizer, 'epsilon_list', None)
    if spent:  # DP-CTGAN: epsilon after each epoch; it stops before exceeding the budget
        under = [float(value) for value in spent if float(value) <= epsilon]
        result['epsilon_spent'] = under[-1] if under else float(spent[0])
        result['epochs_run'] = max(len(spent) - 1, 1)
    return result


def main():
    warnings.filterwarnings('ignore')
    with open(sys.argv[1]) as handle:
        spec = json.load(handle)
    import os

    os.environ.setdefault('OMP_NUM_THREADS', str(spec.get('threads', 1)))
    import pandas as pd
    import torch

    torch.set_num_threads(int(spec.get('threads', 1)))
    data = pd.read_csv(spec['train_csv'])
    for column in spec['categorical']:  # keep categories as strings, NaN as missing
        data[column] = data[column].where(data[column].isna(), data[column].astype(str))
    for job in spec['jobs']:
        try:
            result = run_job(data, spec, job)
        except Exception as error:  # noqa: BLE001 - report and go on with the next job
            result = {'method': job['method'], 'epsilon': job['epsilon'],
                      'error': f'{type(error).__name__}: {error}'[:300]}
        result['out_csv'] = job['out_csv']
        print('RESULT ' + json.dumps(result), flush=True)


if __name__ == '__main__':
    main()
