"""One validated configuration of the arguments every model shares, and the rules that
check any model's arguments before training starts.

Synthesizers keep SDV's flat constructor arguments (so ``get_parameters()`` echoes them as
passed); ``GameConfig.from_arguments`` and ``check_arguments`` turn them into plain, checked
Python values once, with an error that names the argument in SDV's words. Numpy scalars
are valid wherever a Python number is; booleans are not numbers here.
"""

import math
import numbers
from dataclasses import dataclass, fields

import numpy
import torch
from sdv.errors import SynthesizerInputError

PRIVACY_LOSSES = ('uniform', 'jsd')


class InvalidArgumentError(SynthesizerInputError, ValueError):
    """A constructor argument that cannot work: SDV's ``SynthesizerInputError``, and a
    ``ValueError`` for code that is not SDV-aware."""


def invalid(name, value, expected):
    raise InvalidArgumentError(
        f"Invalid value '{value}' for parameter '{name}'. Please provide {expected}.")


def _integer(low, expected):
    def rule(name, value):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
            invalid(name, value, expected)
        return int(value)
    return rule


def _real(low, high=math.inf, low_open=False, expected=''):
    def rule(name, value):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            invalid(name, value, expected)
        value = float(value)
        if not math.isfinite(value) or value < low or (low_open and value == low) \
                or value >= high:
            invalid(name, value, expected)
        return value
    return rule


def _boolean(name, value):
    if not isinstance(value, (bool, numpy.bool_)):
        invalid(name, value, 'True or False')
    return bool(value)


def _dims(name, value):
    if isinstance(value, (str, bytes)) or not hasattr(value, '__iter__'):
        invalid(name, value, 'a tuple of positive integers, e.g. (256, 256)')
    items = tuple(value)
    if any(isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1 for v in items):
        invalid(name, value, 'a tuple of positive integers, e.g. (256, 256)')
    return tuple(int(v) for v in items)


def _choice(*options):
    def rule(name, value):
        if not isinstance(value, str) or value not in options:
            invalid(name, value, f'one of {options}')
        return value
    return rule


def _optional(inner):
    def rule(name, value):
        return None if value is None else inner(name, value)
    return rule


def _device(name, value):
    if value is None:
        return None
    try:
        return torch.device(value)
    except (RuntimeError, TypeError):
        invalid(name, value, "a torch device such as 'cpu' or 'cuda:0'")


POSITIVE_INT = _integer(1, 'an integer >= 1')
NON_NEGATIVE_INT = _integer(0, 'an integer >= 0')
POSITIVE = _real(0.0, low_open=True, expected='a finite number > 0')
NON_NEGATIVE = _real(0.0, expected='a finite number >= 0')
DECAY = _real(0.0, 1.0, expected='a number in [0, 1)')
BOOLEAN = _boolean
DIMS = _dims
SEED = _optional(_integer(0, 'None or an integer >= 0'))
OPTIONAL_POSITIVE_INT = _optional(_integer(1, 'None or an integer >= 1'))
DEVICE = _device


def check_arguments(arguments, rules):
    """``{name: checked value}`` for every ``name`` in ``rules`` (a rule per argument)."""
    return {name: rule(name, arguments[name]) for name, rule in rules.items()}


@dataclass(frozen=True)
class GameConfig:
    """The arguments of the component game, shared by every model (see ``game.py``)."""

    n_partitions: int = 2
    privacy_weight: float = 1.0
    privacy_loss: str = 'jsd'
    classifier_lr: float = 1e-3
    classifier_steps: int = 1
    replay_size: int = 500
    ema_decay: float = 0.995
    warmup_epochs: int = 0
    epochs: int = 300
    batch_size: int = 500
    keep_training_state: bool = False
    verbose: bool = False
    seed: int = None

    RULES = {
        'n_partitions': POSITIVE_INT, 'privacy_weight': NON_NEGATIVE,
        'privacy_loss': _choice(*PRIVACY_LOSSES), 'classifier_lr': POSITIVE,
        'classifier_steps': POSITIVE_INT, 'replay_size': NON_NEGATIVE_INT, 'ema_decay': DECAY,
        'warmup_epochs': NON_NEGATIVE_INT, 'epochs': POSITIVE_INT, 'batch_size': POSITIVE_INT,
        'keep_training_state': BOOLEAN, 'verbose': BOOLEAN, 'seed': SEED,
    }

    @classmethod
    def from_arguments(cls, arguments, *, pac=None, even_batch=False):
        """The checked config from a synthesizer's arguments (extra keys are ignored).

        ``batch_size`` must give every component at least one row; with ``pac``, an equal
        share in whole groups of ``pac`` rows (CTGAN's critic scores groups), even if
        ``even_batch``."""
        names = [field.name for field in fields(cls) if field.name in arguments]
        config = cls(**check_arguments(arguments, {name: cls.RULES[name] for name in names}))
        if pac is None:
            if config.batch_size < config.n_partitions:
                invalid('batch_size', config.batch_size,
                        f'at least n_partitions = {config.n_partitions}: every component '
                        'needs rows in every step')
            return config
        unit = config.n_partitions * pac
        step = math.lcm(unit, 2) if even_batch else unit
        if config.batch_size % step:
            what = 'pac * n_partitions' if pac > 1 else 'n_partitions'
            even = 'an even ' if even_batch else 'a '
            invalid('batch_size', config.batch_size,
                    f'{even}multiple of {what} = {unit}, for example '
                    f'{nearest_batch_size(config.batch_size, step)}')
        return config

    @property
    def component_batch(self):
        """Rows (or images) per component per step."""
        return self.batch_size // self.n_partitions


def nearest_batch_size(batch_size, step):
    """The multiple of ``step`` nearest to ``batch_size`` (at least ``step``)."""
    return max(step * round(batch_size / step), step)
