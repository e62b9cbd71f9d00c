"""``metadata`` and ``split``: prepare a CSV file for fitting and evaluation."""

from pathlib import Path

from sdv_privgan.cli._common import (
    UsageError,
    as_options,
    check_output,
    read_csv,
    save_detected_metadata,
)


def metadata(args):
    """Detect modelling-ready metadata for a CSV file and save it as SDV 2.0 JSON."""
    data = read_csv(args.data, 'data')
    path = check_output(args.output, overwrite=args.overwrite)
    table_name = args.table_name or Path(args.data).stem
    save_detected_metadata(data, table_name, path, overwrite=True)


def split(args):
    """Cut a CSV file into train, holdout and reference CSV files."""
    from sdv_privgan.evaluation import split_for_evaluation

    data = read_csv(args.data, 'data')
    try:
        parts = split_for_evaluation(
            data, n_members=args.n_members, holdout_fraction=args.holdout_fraction,
            reference_fraction=args.reference_fraction, seed=args.seed)
    except ValueError as error:
        raise UsageError(as_options(error, ('n_members', 'holdout_fraction',
                                            'reference_fraction'))) from None
    output = Path(args.output_dir)
    roles = {'train': 'fit on these', 'holdout': 'never fitted on: report --holdout',
             'reference': 'more of the population: report --reference'}
    print(f'Split {len(data)} rows of {args.data} with seed {args.seed}:')
    for name, part in zip(parts._fields, parts):
        path = check_output(output / f'{name}.csv')
        part.to_csv(path, index=False)
        print(f'  {path}: {len(part)} rows ({roles[name]})')


def register(commands, parents, formatter):
    p = commands.add_parser(
        'metadata', parents=parents, formatter_class=formatter,
        help='detect SDV metadata for a CSV file and save it as JSON',
        description=metadata.__doc__ + ' The choices made are printed; edit the JSON to '
        'change any of them and pass it to fit with --metadata.')
    p.add_argument('data', help='the CSV file')
    p.add_argument('--output', default='metadata.json', help='where to write the JSON')
    p.add_argument('--table-name', help='table name in the metadata (default: the file name '
                   'without its extension)')
    p.add_argument('--overwrite', action='store_true', help='replace an existing --output')
    p.set_defaults(run=metadata)

    p = commands.add_parser(
        'split', parents=parents, formatter_class=formatter,
        help='split a CSV file into train, holdout and reference CSV files',
        description=split.__doc__ + ' Fit on train.csv; report compares the synthetic rows '
        'with train.csv (members) and holdout.csv (non-members), and the calibrated attacks '
        'use reference.csv.')
    p.add_argument('data', help='the CSV file')
    p.add_argument('--output-dir', default='.', help='folder for train.csv, holdout.csv and '
                   'reference.csv')
    p.add_argument('--holdout-fraction', type=float, default=0.25, help='share of the rows '
                   'held out')
    p.add_argument('--reference-fraction', type=float, default=0.25, help='share of the rows '
                   'for the reference')
    p.add_argument('--n-members', type=int, help='training rows to keep (default: all rows '
                   'left after the holdout and reference)')
    p.add_argument('--seed', type=int, default=0, help='the same seed and data give the same '
                   'split')
    p.set_defaults(run=split)
