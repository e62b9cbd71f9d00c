"""Check that the tables in the docs are what the committed result files say.

Each table of ``doc_tables.SPECS`` names a markdown table (by its header line) and
recomputes it from CSVs in ``benchmarks/results``: a list of rows, each a list of
cells, a cell being ``None`` (text, not checked) or a tuple of the values that the doc
shows in it, in order (mean, sd; a paired delta and its standard error; an ``a → b``
pair). A doc figure passes when it is a correct rounding of the recomputed value to the
digits the doc shows; a ``-`` must meet a missing value; a doc may show fewer numbers
than the cell holds (a mean without its sd), never more.

    python -m benchmarks.doc_check            # every table; exit status 1 on a mismatch
    python -m benchmarks.doc_check --show     # the recomputed values, table by table
"""

import argparse
import math
import re
import sys
from dataclasses import dataclass
from typing import Callable

from benchmarks.common import ROOT

NUMBER = re.compile(r'[-+]?\d[\d,]*(?:\.\d+)?')


@dataclass(frozen=True)
class DocTable:
    """A table of ``doc`` whose first line is ``header``, recomputed by ``build()``."""

    name: str
    doc: str
    header: str
    build: Callable
    occurrence: int = 0   # which of the tables with this header line, in doc order


def normalize(text: str) -> str:
    return text.replace('**', '').replace('−', '-').replace('`', '').strip()


def split_row(line: str) -> list:
    return [cell.strip() for cell in line.strip().strip('|').split('|')]


def find_table(doc_text: str, header: str, occurrence: int = 0) -> list:
    """The body rows (lists of cells) of the ``occurrence``-th table whose header line
    is ``header``."""
    lines = doc_text.splitlines()
    starts = [i for i, line in enumerate(lines) if normalize(line) == normalize(header)]
    if len(starts) <= occurrence:
        raise LookupError(f'{len(starts)} tables have the header {header[:60]!r}...')
    rows = []
    for line in lines[starts[occurrence] + 2:]:
        if not line.startswith('|'):
            break
        rows.append(split_row(line))
    return rows


def numbers(text: str) -> list:
    """``[(value, decimals)]`` of the figures in a doc cell."""
    found = []
    for match in NUMBER.findall(normalize(text)):
        digits = match.split('.')[1] if '.' in match else ''
        found.append((float(match.replace(',', '')), len(digits)))
    return found


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def check_cell(doc_text: str, values: tuple) -> str:
    """'' when the doc cell matches ``values``, else what is wrong."""
    shown = numbers(doc_text)
    if all(_missing(v) for v in values):
        return '' if normalize(doc_text) == '-' else 'the doc shows a figure, none computed'
    if not shown:
        return 'the doc shows no figure'
    if len(shown) > len(values):
        return f'the doc shows {len(shown)} figures, {len(values)} computed'
    for (figure, decimals), value in zip(shown, values):
        if _missing(value):
            return f'{figure} in the doc, nothing computed'
        if abs(figure - value) > 0.5 * 10 ** -decimals + 1e-9:
            return f'{figure:.{decimals}f} in the doc, {value:.{decimals + 2}f} computed'
    return ''


def check(table: DocTable, known: dict = None) -> tuple:
    """(cells checked, mismatch messages, known mismatches) for one table; ``known``
    maps ``(table name, row number from 0, column)`` to why that doc figure differs."""
    known = known or {}
    doc_rows = find_table((ROOT / table.doc).read_text(), table.header, table.occurrence)
    computed = table.build()
    header = split_row(table.header)
    if len(doc_rows) != len(computed):
        return 0, [f'{len(doc_rows)} rows in the doc, {len(computed)} computed'], []
    checked, problems, excused = 0, [], []
    for index, (doc_row, row) in enumerate(zip(doc_rows, computed)):
        if len(doc_row) != len(row):
            problems.append(f'row {doc_row[0]!r}: {len(doc_row)} cells, {len(row)} computed')
            continue
        for column, doc_cell, values in zip(header, doc_row, row):
            if values is None:
                continue
            checked += 1
            problem = check_cell(doc_cell, tuple(values))
            reason = known.get((table.name, index, column))
            if problem and reason:
                excused.append(f'row {index} {doc_row[0]!r}, column {column!r}: {problem} '
                               f'(known: {reason})')
            elif problem:
                problems.append(f'row {index} {doc_row[0]!r}, column {column!r}: {problem}')
            elif reason:
                problems.append(f'row {index}, column {column!r} is listed as a known '
                                'mismatch but matches: remove it from KNOWN_MISMATCHES')
    return checked, problems, excused


def render(table: DocTable) -> str:
    """The recomputed table, every value to three decimals (for updating a doc)."""
    def cell(values):
        if values is None:
            return '…'
        return ' / '.join('-' if _missing(v) else f'{v:.3f}' for v in values)
    return '\n'.join('| ' + ' | '.join(cell(v) for v in row) + ' |' for row in table.build())


def main(argv=None) -> int:
    from benchmarks.doc_tables import KNOWN_MISMATCHES, SPECS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--show', action='store_true', help='print the recomputed tables')
    parser.add_argument('--tables', nargs='+', help=f'subset of {[t.name for t in SPECS]}')
    args = parser.parse_args(argv)
    failed = 0
    for table in SPECS:
        if args.tables and table.name not in args.tables:
            continue
        checked, problems, excused = check(table, KNOWN_MISMATCHES)
        status = 'ok' if not problems else f'{len(problems)} MISMATCHES'
        if excused:
            status += f', {len(excused)} known'
        print(f'{table.doc} :: {table.name}: {checked} cells checked, {status}')
        for problem in problems + excused:
            print(f'    {problem}')
        if args.show:
            print(render(table))
        failed += bool(problems)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
