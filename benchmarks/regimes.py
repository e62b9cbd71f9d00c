"""Training regimes: how many members, how long, in what batches, with which network.

A regime is a budget that every model of a comparison gets alike. ``steps`` (optimizer
steps; epochs follow from the table size) or ``epochs`` fix the length; ``network``
holds SDV argument names (``embedding_dim``, ``generator_dim``, ``pac``, ...) that each
synthesizer takes where its class accepts them (``FitContext.arguments_for``), so one
regime serves CTGAN- and TVAE-style models. Register a named regime with::

    register_regime('tvae_leaky', Regime(n_members=300, batch_size=50, steps=6000,
                                         network={}))

and run it with ``--regimes tvae_leaky``. Results record ``regime.name`` (the
``setting`` column), which is ``n{members}_s{steps}_b{batch}`` for the standard GAN
network, with a suffix for anything else.
"""

from dataclasses import dataclass, field
from typing import Mapping, Optional

from benchmarks.common import register

#: The network of every GAN in the privacy-utility comparisons: CTGAN's default sizes,
#: and pac=1 (the critic scores single rows, the setting in which CTGAN's critic leaks;
#: with pac=10 nothing leaked at these sizes, see docs/benchmarks.md).
GAN_NETWORK = {'embedding_dim': 128, 'generator_dim': (256, 256),
               'discriminator_dim': (256, 256), 'pac': 1}


def epochs_for(n_rows: int, steps: int, batch_size: int) -> int:
    """Epochs giving ``steps`` optimizer steps (CTGAN does ``n // batch_size`` per epoch)."""
    return max(steps // max(n_rows // batch_size, 1), 1)


@dataclass(frozen=True)
class Regime:
    """One budget: members, batch size, ``steps`` or ``epochs``, network arguments."""

    n_members: int
    batch_size: int
    steps: Optional[int] = None
    epochs: Optional[int] = None
    network: Mapping = field(default_factory=lambda: dict(GAN_NETWORK))

    def __post_init__(self):
        if (self.steps is None) == (self.epochs is None):
            raise ValueError('A regime needs exactly one of steps and epochs; got '
                             f'steps={self.steps}, epochs={self.epochs}.')
        for name in ('n_members', 'batch_size', 'steps', 'epochs'):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ValueError(f'{name} must be a positive integer; got {value!r}.')
        object.__setattr__(self, 'network', {
            key: tuple(value) if isinstance(value, list) else value
            for key, value in dict(self.network).items()})

    @property
    def name(self) -> str:
        """``n100_s2000_b40``-style id; a network other than ``GAN_NETWORK`` adds a
        suffix so that results of different networks never share a name."""
        length = f's{self.steps}' if self.steps is not None else f'e{self.epochs}'
        name = f'n{self.n_members}_{length}_b{self.batch_size}'
        network = dict(self.network)
        if not network:
            name += '_sdvnet'  # every synthesizer's own defaults
        elif network != GAN_NETWORK:
            changed = {k: v for k, v in network.items() if GAN_NETWORK.get(k) != v}
            parts = [f'{k}{_short(v)}' for k, v in sorted(changed.items())]
            parts += [f'{k}default' for k in GAN_NETWORK if k not in network]
            name += '_' + '_'.join(parts)
        return name

    def epochs_for(self, n_rows: int) -> int:
        """Training epochs for ``n_rows`` members."""
        if self.epochs is not None:
            return self.epochs
        return epochs_for(n_rows, self.steps, self.batch_size)

    def with_network(self, **changes) -> 'Regime':
        """The same budget with some network arguments changed."""
        return Regime(self.n_members, self.batch_size, self.steps, self.epochs,
                      {**self.network, **changes})

    def describe(self) -> dict:
        """JSON-able fields, stored with every result to detect stale runs."""
        return {'n_members': self.n_members, 'batch_size': self.batch_size,
                'steps': self.steps, 'epochs': self.epochs,
                'network': {k: list(v) if isinstance(v, tuple) else v
                            for k, v in sorted(self.network.items())}}


def _short(value):
    return 'x'.join(map(str, value)) if isinstance(value, tuple) else str(value)


def parse_setting(text: str) -> Regime:
    """``'100,2000,40'`` (members, steps, batch) as a regime with the GAN network."""
    try:
        n_members, steps, batch_size = (int(part) for part in text.split(','))
    except ValueError:
        raise ValueError(f"A setting is 'MEMBERS,STEPS,BATCH', e.g. '100,2000,40'; "
                         f'got {text!r}.') from None
    return Regime(n_members, batch_size, steps=steps)


REGIMES: dict = {}


def register_regime(name: str, regime: Regime) -> Regime:
    return register(REGIMES, name, regime, 'regime')


def get_regime(name: str) -> Regime:
    """A registered regime, or a ``MEMBERS,STEPS,BATCH`` setting."""
    if name in REGIMES:
        return REGIMES[name]
    if ',' in name:
        return parse_setting(name)
    raise KeyError(f"Unknown regime '{name}'; registered: {sorted(REGIMES)}, or give "
                   "MEMBERS,STEPS,BATCH.")


# CTGAN's leaky regime on credit (docs/benchmarks.md, phase 1): 100 members, 2,000 steps.
register_regime('ctgan_leaky', Regime(100, 40, steps=2000))
# SDV's own defaults (batch 500, 300 epochs, each synthesizer's default network).
# PrivCTGAN needs batch_size to be an even multiple of pac x K: 500 serves K <= 2.
register_regime('sdv_default_300', Regime(300, 500, epochs=300, network={}))
register_regime('sdv_default_1000', Regime(1000, 500, epochs=300, network={}))
# TVAE's leaky regime: 300 members, batch 50, 6,000 steps, TVAE's own network.
register_regime('tvae_leaky', Regime(300, 50, steps=6000, network={}))
