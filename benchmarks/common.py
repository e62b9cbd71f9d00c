"""What every benchmark shares: paths, thread settings, warnings, registries."""

import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / 'benchmarks' / 'results'
IMAGES = ROOT / 'docs' / 'images'


def set_threads(threads: int = 1) -> None:
    """Limit torch, BLAS/OpenMP pools and joblib to ``threads`` in this process.

    On a shared 2-core machine two OpenMP threads are 10-30x slower than one, so every
    benchmark process (and every worker it starts) calls this with an explicit count;
    compared models always run under the same settings.
    """
    import joblib
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)
    threadpool_limits(limits=threads)
    # ctgan's DataTransformer would start joblib worker processes (~15 s here).
    joblib.parallel_config(backend='threading')


def quiet() -> None:
    """Benchmarks print their own progress; library warnings would drown it."""
    warnings.filterwarnings('ignore')


def seed_everything(seed: int) -> None:
    """Seed the global generators at the start of a run: whatever draws from them
    (sampling, scikit-learn without a seed) then cannot make a run's result depend on
    what its process ran before, on resuming, or on the workers' scheduling."""
    import random

    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def parse_assignments(items) -> dict:
    """``['classifier_steps=5', 'privacy_loss=jsd']`` as keyword arguments: ``True`` and
    ``False`` as booleans, integers, then floats, else strings."""
    arguments = {}
    for item in items:
        name, separator, text = item.partition('=')
        if not separator or not name:
            raise ValueError(f"An argument is NAME=VALUE, e.g. 'classifier_steps=5'; got {item!r}.")
        if text in ('True', 'False'):
            arguments[name] = text == 'True'
            continue
        for kind in (int, float, str):
            try:
                arguments[name] = kind(text)
                break
            except ValueError:
                continue
    return arguments


def register(registry: dict, name: str, item, kind: str):
    """Add ``item`` to ``registry`` under ``name`` (an existing name is an error, not an
    override); ``kind`` names what it holds in the message."""
    if name in registry:
        raise ValueError(f"A {kind} named '{name}' is already registered.")
    registry[name] = item
    return item


def lookup(registry: dict, name: str, kind: str):
    """``registry[name]``, or a KeyError listing what is registered."""
    if name not in registry:
        raise KeyError(f"Unknown {kind} '{name}'; registered: {list(registry)}.")
    return registry[name]
