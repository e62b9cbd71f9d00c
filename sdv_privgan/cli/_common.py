"""What the commands share: user errors, reading inputs, compact HTML, printed tables."""

import argparse
import json
import math
import re
import sys
from pathlib import Path

import pandas as pd


class UsageError(Exception):
    """A mistake in what the user passed (a path, a column, an option): one line, exit code 2."""


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows every default except None, whose meaning the option's help text states."""

    def _get_help_string(self, action):
        if action.default is None:
            return action.help
        return super()._get_help_string(action)


def warn(message: str) -> None:
    """A one-line warning on stderr, the way the command line shows every warning."""
    print(f'warning: {one_line(message)}', file=sys.stderr)


def one_line(message) -> str:
    return ' '.join(str(message).split())


def as_options(message, names) -> str:
    """``message`` with the Python argument ``names`` it mentions spelled as options."""
    text = str(message)
    for name in names:
        text = re.sub(rf'\b{name}\b', '--' + name.replace('_', '-'), text)
    return text


def check_output(path, *, overwrite=True) -> Path:
    """``path`` as a Path whose folder exists; refuses to replace a file unless ``overwrite``."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise UsageError(f'{path} already exists; pass --overwrite to replace it.')
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def read_csv(path, what: str) -> pd.DataFrame:
    """A CSV file as a DataFrame, or a UsageError that names ``what`` and the path."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f'{what} {str(path)!r}: no such file.')
    try:
        data = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise UsageError(f'{what} {str(path)!r} is empty.') from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise UsageError(f'{what} {str(path)!r} is not a readable CSV file: {error}') from None
    if data.empty:
        raise UsageError(f'{what} {str(path)!r} has a header but no rows.')
    return data


def load_metadata(path):
    """A single-table ``sdv.metadata.Metadata`` from a JSON file, and its table name."""
    from sdv.metadata import Metadata
    from sdv.metadata.errors import InvalidMetadataError

    path = Path(path)
    if not path.is_file():
        raise UsageError(f'--metadata {str(path)!r}: no such file.')
    try:
        metadata = Metadata.load_from_json(path)
    except json.JSONDecodeError as error:
        raise UsageError(f'--metadata {str(path)!r} is not valid JSON: {error}') from None
    except (InvalidMetadataError, ValueError, KeyError, TypeError) as error:
        raise UsageError(f'--metadata {str(path)!r} is not valid SDV metadata: '
                         f'{one_line(error)}') from None
    tables = list(metadata.to_dict().get('tables', {}))
    if len(tables) != 1:
        raise UsageError(f'--metadata {str(path)!r} describes {len(tables)} tables {tables}; '
                         'the command line works on one table.')
    return metadata, tables[0]


def save_detected_metadata(data, table_name, path, *, overwrite=False):
    """Detect modelling-ready metadata, print the choices made, save it and load it back.

    Loading the saved JSON (rather than keeping the object) is what SDV expects and
    spares the user its "please save your metadata" warning.
    """
    from sdv_privgan.datasets import detect_metadata

    metadata, choices = detect_metadata(data, table_name)
    path = check_output(path, overwrite=True)
    if path.exists() and not overwrite:
        existing, _ = load_metadata(path)
        if existing.to_dict() != metadata.to_dict():
            raise UsageError(f'{path} already exists and differs from the metadata detected now '
                             f'(edited by hand?); pass --metadata {path} to use it, or delete it.')
    metadata.save_to_json(path, mode='overwrite')
    columns = metadata.to_dict()['tables'][table_name]['columns']
    print(f"Detected metadata for table {table_name!r}: {len(columns)} columns, {len(data)} rows.")
    for choice in choices:
        print(f'  {choice}')
    print('  No range, category list or decimal places is stored, so rows the detection did '
          'not see (a holdout, new data) still validate.')
    print(f'Saved {path}: edit any "sdtype" there and pass it with --metadata.')
    return load_metadata(path)


def check_columns(names, columns, option: str) -> list:
    """``names`` unchanged, or a UsageError naming the first one not in ``columns``."""
    for name in names or []:
        if name not in columns:
            shown = ', '.join(repr(column) for column in list(columns)[:20])
            more = ', ...' if len(columns) > 20 else ''
            raise UsageError(f'{option}: unknown column {name!r}; the columns are {shown}{more}.')
    return list(names or [])


def load_model(path):
    """A synthesizer saved with ``save`` (``sdv.utils.load_synthesizer``)."""
    from sdv.utils import load_synthesizer

    if not Path(path).is_file():
        raise UsageError(f'model {str(path)!r}: no such file.')
    try:
        synthesizer = load_synthesizer(path)
    except Exception as error:  # noqa: BLE001 - any unpickling failure means "not a model"
        raise UsageError(f'{path} is not a saved synthesizer: '
                         f'{type(error).__name__}: {one_line(error)}') from error
    if not callable(getattr(synthesizer, 'sample', None)):
        raise UsageError(f'{path} holds a {type(synthesizer).__name__}, not a synthesizer.')
    return synthesizer


def write_html(figure, path) -> Path:
    """Write a plotly figure that loads plotly.js from one ``plotly.min.js`` beside it.

    Embedding the bundle makes every file about 4.8 MB; this writes the bundle
    once per folder (and reuses it), so the pages stay small and work offline.
    """
    path = check_output(path)
    figure.write_html(path, include_plotlyjs='directory')
    return path


def round_batch_size(batch_size: int, pac: int, n_partitions: int) -> int:
    """The valid batch size nearest ``batch_size``: an even multiple of ``pac * n_partitions``
    (each component gets whole pac groups); ties go to the smaller one."""
    step = math.lcm(2, pac * n_partitions)
    lower = max(step, batch_size // step * step)
    upper = lower + step
    return lower if batch_size - lower <= upper - batch_size else upper


def format_value(value) -> str:
    if isinstance(value, float):
        return 'NaN' if math.isnan(value) else f'{value:.3f}'
    return str(value)


def print_table(title: str, frame: pd.DataFrame) -> None:
    """A small aligned table with a title line, floats to three decimals."""
    print(f'\n{title}')
    cells = [[str(column) for column in frame.columns]]
    cells += [[format_value(value) for value in row] for row in frame.itertuples(index=False)]
    widths = [max(len(row[position]) for row in cells) for position in range(len(frame.columns))]
    for row in cells:
        print('  ' + '  '.join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
