"""Benchmarks of sdv_privgan, run as modules from the repository root::

    python -m benchmarks.privacy_utility --quick
    python -m benchmarks.distinguishability --steps 1500 --seeds 0 1
    python -m benchmarks.selfcheck

Importing the package loads nothing heavy: each module imports what it needs.
``README.md`` in this folder says how to add a model, table, regime or metric.
"""
