"""``fit`` and ``sample``: train PrivCTGANSynthesizer on a CSV file, sample from a saved one."""

import inspect
import json
import time
from pathlib import Path

import numpy as np

from sdv_privgan.cli._common import (
    UsageError,
    check_output,
    load_metadata,
    load_model,
    read_csv,
    round_batch_size,
    save_detected_metadata,
    warn,
    write_html,
)

#: Constructor arguments that are options of their own: (type or 'flag', help).
#: The option is the argument's name with dashes; its default is read from the class.
MODEL_OPTIONS = {
    'epochs': (int, 'training epochs'),
    'batch_size': (int, 'rows per training step over all components; rounded to the nearest '
                   'even multiple of pac * n_partitions'),
    'n_partitions': (int, 'K: disjoint partitions of the rows, one generator component and '
                     'one critic each'),
    'privacy_weight': (float, 'lambda, the weight of the membership regularizer (0: none)'),
    'privacy_loss': (str, "generator term: 'jsd' (min-max) or 'uniform' (bounded)"),
    'pac': (int, "rows the critic scores together (CTGAN's PacGAN)"),
    'classifier_steps': (int, 'component-classifier updates per generator update'),
    'ema_decay': (float, 'the released generators average their weights with this decay per '
                  'step; 0 releases the last weights'),
    'generator_lr': (float, 'generator learning rate'),
    'discriminator_lr': (float, 'critic learning rate'),
    'keep_training_state': ('flag', 'keep the critics and the component classifier in the '
                            'saved model, for the white-box attacks of report --model; they '
                            'carry an imprint of the training rows'),
    'device': (str, "torch device, e.g. 'cpu' or 'cuda:1' (default: CUDA when present)"),
    'seed': (int, 'seed for training; with it, fitting on CPU is reproducible (default: '
             'unseeded)'),
}


def _defaults():
    from sdv_privgan import PrivCTGANSynthesizer

    parameters = inspect.signature(PrivCTGANSynthesizer.__init__).parameters
    return {name: parameter.default for name, parameter in parameters.items()
            if name not in ('self', 'metadata')}


def _options_json(text):
    try:
        options = json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(f'--options is not valid JSON ({error}): {text}') from None
    if not isinstance(options, dict):
        raise UsageError(f'--options must be a JSON object such as \'{{"n_partitions": 4}}\'; '
                         f'got {text}')
    if 'verbose' in options:
        raise UsageError('--options: verbose is set by the command line; pass --quiet to '
                         'hide the progress bar.')
    known = _defaults()
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise UsageError(f'--options: unknown arguments {unknown}; PrivCTGANSynthesizer takes '
                         f'{sorted(set(known) - {"verbose"})}.')
    # JSON has no tuples; layer sizes such as generator_dim are tuples in the class.
    return {name: tuple(value) if isinstance(value, list) else value
            for name, value in options.items()}


def _check_device(name):
    import torch

    try:
        device = torch.device(name)
    except (RuntimeError, TypeError) as error:
        raise UsageError(f'--device {name!r} is not a torch device: {error}') from None
    if device.type == 'cuda':
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if (device.index or 0) >= count:
            raise UsageError(f'--device {name!r}: this machine has {count} CUDA devices.')


def constructor_arguments(args) -> dict:
    """The constructor arguments the user gave, as options or in ``--options``, with the
    batch size rounded to a valid one (and a warning) when it is not."""
    given = {name: getattr(args, name) for name in MODEL_OPTIONS
             if getattr(args, name, None) is not None}
    extra = _options_json(args.options) if args.options else {}
    twice = sorted(set(given) & set(extra))
    if twice:
        raise UsageError(f"{twice[0]} is set both by --{twice[0].replace('_', '-')} and in "
                         '--options; give it once.')
    arguments = {**extra, **given}
    if arguments.get('device') is not None:
        _check_device(arguments['device'])
    settings = {**_defaults(), **arguments}
    batch_size, pac, n_partitions = (settings[name] for name in
                                     ('batch_size', 'pac', 'n_partitions'))
    if all(isinstance(value, (int, np.integer)) and value >= 1
           for value in (batch_size, pac, n_partitions)):
        rounded = round_batch_size(batch_size, pac, n_partitions)
        if rounded != batch_size:
            warn(f'batch_size {batch_size} is not an even multiple of pac * n_partitions = '
                 f'{pac} * {n_partitions} = {pac * n_partitions}; using {rounded}.')
            arguments['batch_size'] = rounded
    return arguments


def fit(args):
    """Fit PrivCTGANSynthesizer on a CSV file and save it."""
    from sdv_privgan import PrivCTGANSynthesizer

    data = read_csv(args.data, 'data')
    output = check_output(args.output)
    arguments = constructor_arguments(args)
    if args.metadata:
        metadata, table_name = load_metadata(args.metadata)
    else:
        metadata, table_name = save_detected_metadata(
            data, Path(args.data).stem, output.with_suffix('.metadata.json'))
    synthesizer = PrivCTGANSynthesizer(metadata, verbose=not args.quiet, **arguments)
    started = time.perf_counter()
    synthesizer.fit({table_name: data})
    elapsed = time.perf_counter() - started
    synthesizer.save(output)
    epochs = 'epoch' if synthesizer.epochs == 1 else 'epochs'
    print(f'Saved {output}: {synthesizer.n_partitions} components fitted on {len(data)} rows, '
          f'{synthesizer.epochs} {epochs} of batch {synthesizer.batch_size}, in {elapsed:.1f} s.')
    if args.loss_plot:
        print(f'Wrote {write_html(synthesizer.get_loss_values_plot(), args.loss_plot)}')


def sample(args):
    """Sample rows from a saved synthesizer into a CSV file."""
    synthesizer = load_model(args.model)
    if args.num_rows < 1:
        raise UsageError(f'--num-rows must be at least 1; got {args.num_rows}.')
    output = check_output(args.output)
    if args.seed is not None:
        # SDV has no public sampling seed: reset_sampling restores the state left by fit,
        # and _set_random_state is what SDV itself calls before the first sample.
        synthesizer.reset_sampling()
        synthesizer._set_random_state(args.seed)
    rows = synthesizer.sample(args.num_rows)
    table = next(iter(rows.values())) if isinstance(rows, dict) else rows
    table.to_csv(output, index=False)
    print(f'Wrote {len(table)} rows to {output}')


def register(commands, parents, formatter):
    from sdv_privgan.regularizer import FORMS

    defaults = _defaults()
    p = commands.add_parser(
        'fit', parents=parents, formatter_class=formatter,
        help='fit PrivCTGANSynthesizer on a CSV file',
        description=fit.__doc__ + ' Without --metadata, the metadata is detected (see the '
        'metadata command) and saved beside the model as <output>.metadata.json.')
    p.add_argument('data', help='the CSV file of training rows')
    p.add_argument('--metadata', help='SDV metadata JSON, e.g. from the metadata command '
                   '(default: detected and saved beside --output)')
    p.add_argument('--output', default='synthesizer.pkl', help='where to save the fitted '
                   'synthesizer')
    for name, (kind, text) in MODEL_OPTIONS.items():
        flag = '--' + name.replace('_', '-')
        shown = '' if defaults[name] is None else f' (default: {defaults[name]})'
        if kind == 'flag':
            p.add_argument(flag, action='store_true', default=None, help=text + shown)
        elif name == 'privacy_loss':
            p.add_argument(flag, choices=FORMS, help=text + shown)
        else:
            p.add_argument(flag, type=kind, help=text + shown)
    p.add_argument('--options', help='any other constructor arguments of '
                   'PrivCTGANSynthesizer as a JSON object, e.g. \'{"embedding_dim": 64}\'')
    p.add_argument('--loss-plot', help='also write the loss plot to this HTML file')
    p.add_argument('--quiet', action='store_true', help='no progress bar')
    p.set_defaults(run=fit)

    p = commands.add_parser(
        'sample', parents=parents, formatter_class=formatter,
        help='sample rows from a saved synthesizer', description=sample.__doc__)
    p.add_argument('model', help='a synthesizer saved by fit')
    p.add_argument('--num-rows', type=int, default=1000, help='rows to sample')
    p.add_argument('--output', default='synthetic.csv', help='the CSV file to write')
    p.add_argument('--seed', type=int, help='sampling seed (default: the fixed state SDV '
                   'sets after fit, so repeated runs give the same rows)')
    p.set_defaults(run=sample)
