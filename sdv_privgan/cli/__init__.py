"""The ``sdv-privgan`` command line (one module per group of commands)."""

import argparse
import sys
import warnings

from sdv_privgan.cli import _data, _demo, _model, _report
from sdv_privgan.cli._common import HelpFormatter, UsageError, one_line, warn

__all__ = ['build_parser', 'main']

DESCRIPTION = (
    'Membership-protected synthetic tables. A first run: "metadata data.csv" detects and '
    'saves the table\'s description, "split data.csv" holds rows out, "fit train.csv" '
    'trains, "sample synthesizer.pkl" writes synthetic rows, "report train.csv '
    'synthetic.csv --holdout holdout.csv" scores their utility and privacy. "demo" does '
    'it all on data that ships with the package. "COMMAND --help" lists its options.')


def _user_errors():
    """Exceptions that mean the input was wrong, not the program: one line, exit code 2."""
    from sdv.errors import (
        InvalidDataError,
        InvalidDataTypeError,
        NotFittedError,
        SamplingError,
        SynthesizerInputError,
    )
    from sdv.metadata.errors import InvalidMetadataError

    return (UsageError, OSError, ValueError, InvalidDataError, InvalidDataTypeError,
            InvalidMetadataError, NotFittedError, SamplingError, SynthesizerInputError)


def _message(error):
    # SDV re-raises any failure inside sampling as "Error: Sampling terminated..."; the
    # cause is what the user needs.
    if str(error).startswith('Error: Sampling terminated') and error.__cause__ is not None:
        error = error.__cause__
    return one_line(error) or type(error).__name__


def _show_warning(message, category, filename, lineno, file=None, line=None):
    warn(message)


def _threads(count):
    # On small shared machines several OpenMP threads are far slower than one.
    import joblib
    import torch

    if count < 1:
        raise UsageError(f'--threads must be at least 1; got {count}.')
    torch.set_num_threads(count)
    joblib.parallel_config(backend='threading')


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command; ``--debug`` and ``--threads`` go before or after it."""
    parser = argparse.ArgumentParser(prog='sdv-privgan', description=DESCRIPTION,
                                     formatter_class=HelpFormatter)
    parser.add_argument('--debug', action='store_true', help='show tracebacks')
    parser.add_argument('--threads', type=int, default=1, help='torch threads (1 is fastest '
                        'on small shared machines)')
    # SUPPRESS keeps a command's copy from overwriting what was given before the command.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument('--debug', action='store_true', default=argparse.SUPPRESS,
                        help='show tracebacks (default: off)')
    common.add_argument('--threads', type=int, default=argparse.SUPPRESS,
                        help='torch threads (default: 1, fastest on small shared machines)')
    commands = parser.add_subparsers(dest='command', required=True, metavar='COMMAND')
    for module in (_data, _model, _report, _demo):
        module.register(commands, [common], HelpFormatter)
    return parser


def main(argv=None) -> int:
    """Run one command; returns the exit code (0 done, 2 a user mistake, 1 a failure)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse has printed the usage and the error, or the help
        return exit_.code
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            _threads(args.threads)
            args.run(args)
        except KeyboardInterrupt:
            if args.debug:
                raise
            print('sdv-privgan: interrupted', file=sys.stderr)
            return 130
        except _user_errors() as error:
            if args.debug:
                raise
            print(f'sdv-privgan {args.command}: error: {_message(error)}', file=sys.stderr)
            return 2
        except Exception as error:  # noqa: BLE001 - a one-line report; --debug re-raises
            if args.debug:
                raise
            print(f'sdv-privgan {args.command}: error: {type(error).__name__}: '
                  f'{_message(error)} (unexpected; --debug shows the traceback)',
                  file=sys.stderr)
            return 1
    return 0
