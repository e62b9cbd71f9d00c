"""Shared set-up for the benchmark scripts: thread settings, data, quiet warnings."""

import os
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def single_thread():
    """One torch thread and joblib threads: on a shared 2-core machine, two OpenMP
    threads are 10-30x slower. Both CTGAN and PrivCTGAN run under the same settings."""
    os.environ.setdefault('OMP_NUM_THREADS', '1')
    import joblib
    import torch

    torch.set_num_threads(1)
    joblib.parallel_config(backend='threading')


def quiet():
    warnings.filterwarnings('ignore')


def epochs_for(n_rows, steps, batch_size):
    """Epochs giving ``steps`` optimizer steps (CTGAN does ``n // batch_size`` per epoch)."""
    return max(steps // max(n_rows // batch_size, 1), 1)


def load_table(name, num_rows=None, seed=0):
    """``(DataFrame, Metadata)`` of a bundled table, subsampled to ``num_rows``."""
    from sdv_privgan.datasets import TABLES

    data, metadata = TABLES[name]() if name == 'penguins' else TABLES[name](num_rows, seed)
    if num_rows is not None and len(data) > num_rows:
        data = data.sample(n=num_rows, random_state=seed).reset_index(drop=True)
    return data, metadata
