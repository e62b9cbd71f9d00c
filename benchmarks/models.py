"""The model registry: every synthesizer a comparison can run, by name.

A model is one declarative entry: a name, a ``build(ctx, **params)`` function that
returns an unfitted synthesizer from the table's metadata and the regime's budget
(a ``FitContext``), the ``params`` it is built with, and how the report shows it::

    def sdv_tvae(ctx):
        from sdv.single_table import TVAESynthesizer
        return TVAESynthesizer(ctx.metadata, epochs=ctx.epochs,
                               batch_size=ctx.regime.batch_size, enable_gpu=ctx.gpu,
                               **ctx.arguments_for(TVAESynthesizer))

    register_model(Model('tvae', sdv_tvae, kind='tvae', label='SDV TVAE'))

Anything with SDV's ``fit({table: data})`` / ``sample(n) -> {table: rows}`` works.
``inspect(synthesizer, ctx) -> (metrics, curves)`` adds model-specific figures (the
component gauge of PrivCTGAN); ``ablation`` names the model that the report pairs it
with (the same K without the regularizer).
"""

import inspect as _inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional

from benchmarks.common import lookup, register

#: Regularizer settings, passed explicitly so that results do not depend on the
#: library's defaults. 'averaged_replay' is the library's default; 'first' the setting of
#: the first results (five classifier steps, replay, the generators' last weights).
REGULARIZERS = {
    'averaged': {'privacy_loss': 'jsd', 'classifier_steps': 1, 'classifier_lr': 1e-3,
                 'replay_size': 0, 'ema_decay': 0.995},
    'first': {'privacy_loss': 'jsd', 'classifier_steps': 5, 'classifier_lr': 1e-3,
              'replay_size': 500, 'ema_decay': 0.0},
    'averaged_c5': {'privacy_loss': 'jsd', 'classifier_steps': 5, 'classifier_lr': 1e-3,
                    'replay_size': 0, 'ema_decay': 0.995},
    'averaged_replay': {'privacy_loss': 'jsd', 'classifier_steps': 1, 'classifier_lr': 1e-3,
                        'replay_size': 500, 'ema_decay': 0.995},
    'averaged_c5_replay': {'privacy_loss': 'jsd', 'classifier_steps': 5, 'classifier_lr': 1e-3,
                           'replay_size': 500, 'ema_decay': 0.995},
}
POSTHOC_ROWS = 1000   # rows per component for the post-hoc distinguishability
DP_DELTA = 1e-5


@dataclass
class FitContext:
    """What a builder may use: the split, the regime, the seed and the device."""

    table: str
    metadata: Any
    train: Any
    holdout: Any
    reference: Any
    unused: Any          # real rows outside every split (the noise floor's "synthetic")
    population: Any      # the whole table (public bounds for the DP baselines)
    regime: Any
    seed: int
    device: str = 'cpu'
    regularizer: Mapping = field(default_factory=dict)
    n_synthetic: int = 1000
    dp_python: Optional[str] = None
    threads: int = 1
    rows_per_target: Optional[int] = None
    latent: bool = False

    @property
    def epochs(self) -> int:
        return self.regime.epochs_for(len(self.train))

    @property
    def gpu(self) -> bool:
        return self.device != 'cpu'

    def arguments_for(self, cls) -> dict:
        """The regime's network arguments that ``cls.__init__`` accepts."""
        accepted = _inspect.signature(cls.__init__).parameters
        return {k: v for k, v in self.regime.network.items() if k in accepted}


@dataclass(frozen=True)
class Model:
    """One registered model; see the module docstring."""

    name: str
    build: Callable
    kind: str
    label: str
    params: Mapping = field(default_factory=dict)
    trains: bool = True            # False: nothing to fit (the noise floor)
    inspect: Optional[Callable] = None
    ablation: Optional[str] = None

    def describe(self) -> dict:
        return {'name': self.name, 'kind': self.kind, 'params': dict(self.params)}


MODELS: dict = {}


def register_model(model: Model) -> Model:
    """Add ``model`` to the registry; the order of registration is the report's order."""
    return register(MODELS, model.name, model, 'model')


def get_model(name: str) -> Model:
    return lookup(MODELS, name, 'model')


# ------------------------------------------------------------------------ builders
class RealRows:
    """The noise floor: "synthetic" rows that are real rows outside every split."""

    def __init__(self, ctx):
        self.ctx = ctx

    def sample(self, num_rows):
        unused = self.ctx.unused
        if len(unused) < min(num_rows, len(self.ctx.train)):
            raise ValueError(
                f'The floor needs as many unused real rows as members; table '
                f'{self.ctx.table!r} has {len(unused)} left beside {len(self.ctx.train)} '
                'members (each run still reports its own floor, floor_auc).')
        rows = unused.sample(n=min(num_rows, len(unused)), random_state=self.ctx.seed)
        return {self.ctx.table: rows}


def sdv_ctgan(ctx, **settings):
    """SDV's ``CTGANSynthesizer`` (black-box only: it drops its critic); ``settings``
    override the regime's network."""
    import numpy as np
    import torch
    from sdv.single_table import CTGANSynthesizer

    synthesizer = CTGANSynthesizer(ctx.metadata, epochs=ctx.epochs,
                                   batch_size=ctx.regime.batch_size, enable_gpu=ctx.gpu,
                                   **{**ctx.arguments_for(CTGANSynthesizer), **settings})
    # SDV's CTGAN takes no seed: seed the global generators that it draws from.
    torch.manual_seed(ctx.seed)
    np.random.seed(ctx.seed)
    return synthesizer


def priv_ctgan(ctx, *, n_partitions, privacy_weight, **settings):
    """``PrivCTGANSynthesizer`` with the study's regularizer (``settings`` override it
    and the regime's network), critics kept (white box)."""
    from sdv_privgan import PrivCTGANSynthesizer

    return PrivCTGANSynthesizer(
        ctx.metadata, epochs=ctx.epochs, batch_size=ctx.regime.batch_size,
        n_partitions=n_partitions, privacy_weight=privacy_weight, keep_training_state=True,
        seed=ctx.seed, device=ctx.device, enable_gpu=ctx.gpu,
        **{**ctx.arguments_for(PrivCTGANSynthesizer), **ctx.regularizer, **settings})


def sdv_tvae(ctx, **settings):
    """SDV's ``TVAESynthesizer`` (its file holds the decoder: black box and model access);
    ``settings`` override the regime's network."""
    import numpy as np
    import torch
    from sdv.single_table import TVAESynthesizer

    synthesizer = TVAESynthesizer(ctx.metadata, epochs=ctx.epochs,
                                  batch_size=ctx.regime.batch_size, enable_gpu=ctx.gpu,
                                  **{**ctx.arguments_for(TVAESynthesizer), **settings})
    torch.manual_seed(ctx.seed)  # SDV's TVAE takes no seed
    np.random.seed(ctx.seed)
    return synthesizer


def priv_tvae(ctx, *, n_partitions, privacy_weight, **settings):
    """``PrivTVAESynthesizer`` with the study's regularizer (``settings`` override it),
    encoders kept (white box)."""
    from sdv_privgan import PrivTVAESynthesizer

    return PrivTVAESynthesizer(
        ctx.metadata, epochs=ctx.epochs, batch_size=ctx.regime.batch_size,
        n_partitions=n_partitions, privacy_weight=privacy_weight, keep_training_state=True,
        seed=ctx.seed, device=ctx.device, enable_gpu=ctx.gpu,
        **{**ctx.arguments_for(PrivTVAESynthesizer), **ctx.regularizer, **settings})


def smartnoise(ctx, *, method, epsilon):
    """A smartnoise-synth baseline, fitted in its own interpreter (``pu_dp``)."""
    from benchmarks.pu_dp import SmartnoiseSynthesizer

    return SmartnoiseSynthesizer(ctx, method=method, epsilon=epsilon, delta=DP_DELTA)


def component_gauge(synthesizer, ctx):
    """Post-hoc distinguishability and the training-time JSD curve (K > 1)."""
    gauge = synthesizer.get_component_distinguishability(POSTHOC_ROWS)
    losses = synthesizer.get_loss_values()
    tail = max(len(losses) // 10, 1)
    metrics = {'posthoc_auc': gauge['auc'], 'posthoc_accuracy': gauge['accuracy'],
               'posthoc_jsd': gauge['jsd'], 'max_jsd': gauge['max_jsd'],
               'train_jsd_last10pct': float(losses['JSD Estimate'].tail(tail).mean())}
    every = max(len(losses) // 200, 1)  # keep about 200 points per curve
    curves = [{'epoch': int(row['Epoch']), 'jsd_estimate': row['JSD Estimate'],
               'classifier_loss': row['Classifier Loss']}
              for _, row in losses.iloc[::every].iterrows()]
    return metrics, curves


# ------------------------------------------------------------------------ the registry
register_model(Model('real', RealRows, kind='real', label='real rows (floor)', trains=False))
register_model(Model('ctgan', sdv_ctgan, kind='ctgan', label='SDV CTGAN'))
for _width in (64, 128):  # narrower CTGANs: what less capacity alone does
    register_model(Model(
        f'ctgan_w{_width}', sdv_ctgan, kind='ctgan', label=f'SDV CTGAN, ({_width}, {_width})',
        params={'generator_dim': (_width, _width), 'discriminator_dim': (_width, _width)}))
register_model(Model('k1', priv_ctgan, kind='privctgan', label='CTGAN (K=1, critic kept)',
                     params={'n_partitions': 1, 'privacy_weight': 0.0}))
for _k in (2, 4, 8):
    for _weight in (0.0, 0.3, 1.0, 3.0):
        register_model(Model(
            f'k{_k}_l{_weight:g}', priv_ctgan, kind='privctgan', label=f'K={_k}, λ={_weight:g}',
            params={'n_partitions': _k, 'privacy_weight': _weight}, inspect=component_gauge,
            ablation=f'k{_k}_l0' if _weight > 0 else None))
for _weight in (0.0, 1.0, 3.0):  # each component half as wide: the two as wide as CTGAN
    register_model(Model(
        f'k2_l{_weight:g}_w128', priv_ctgan, kind='privctgan',
        label=f'K=2, λ={_weight:g}, (128, 128)',
        params={'n_partitions': 2, 'privacy_weight': _weight, 'generator_dim': (128, 128),
                'discriminator_dim': (128, 128)}, inspect=component_gauge,
        ablation='k2_l0_w128' if _weight > 0 else None))
register_model(Model('tvae', sdv_tvae, kind='tvae', label='SDV TVAE'))
for _width in (32, 64):  # 64: as wide as each of PrivTVAE's two components (split widths)
    register_model(Model(
        f'tvae_w{_width}', sdv_tvae, kind='tvae', label=f'SDV TVAE, ({_width}, {_width})',
        params={'compress_dims': (_width, _width), 'decompress_dims': (_width, _width)}))
register_model(Model('tvae_k1', priv_tvae, kind='privtvae', label='TVAE (K=1, encoder kept)',
                     params={'n_partitions': 1, 'privacy_weight': 0.0}))
for _weight in (0.0, 1.0, 3.0, 10.0, 20.0, 30.0):
    register_model(Model(
        f'tvae_k2_l{_weight:g}', priv_tvae, kind='privtvae', label=f'TVAE K=2, λ={_weight:g}',
        params={'n_partitions': 2, 'privacy_weight': _weight}, inspect=component_gauge,
        ablation='tvae_k2_l0' if _weight > 0 else None))
    register_model(Model(  # every component as wide as TVAE (split_widths=False)
        f'tvae_k2_l{_weight:g}_full', priv_tvae, kind='privtvae',
        label=f'TVAE K=2, λ={_weight:g}, full widths',
        params={'n_partitions': 2, 'privacy_weight': _weight, 'split_widths': False},
        inspect=component_gauge, ablation='tvae_k2_l0_full' if _weight > 0 else None))
for _name, _extra, _text in (  # a stronger component classifier (the TVAE screen)
        ('c3', {'classifier_steps': 3}, '3 classifier steps'),
        ('c3_r2000', {'classifier_steps': 3, 'replay_size': 2000}, '3 steps, replay 2000'),
        ('c512', {'classifier_steps': 3, 'classifier_dim': (512, 512)},
         '3 steps, classifier (512, 512)')):
    for _weight in (3.0, 10.0):
        register_model(Model(
            f'tvae_k2_l{_weight:g}_{_name}', priv_tvae, kind='privtvae',
            label=f'TVAE K=2, λ={_weight:g}, {_text}',
            params={'n_partitions': 2, 'privacy_weight': _weight, **_extra},
            inspect=component_gauge, ablation='tvae_k2_l0'))
_DP_NAMES = {'dpctgan': 'DP-CTGAN', 'patectgan': 'PATE-CTGAN', 'mst': 'MST'}
for _epsilon in (1.0, 3.0, 10.0):
    for _method in ('dpctgan', 'patectgan', 'mst'):
        register_model(Model(
            f'{_method}_e{_epsilon:g}', smartnoise, kind='dp',
            label=f'{_DP_NAMES[_method]} ε={_epsilon:g}',
            params={'method': _method, 'epsilon': _epsilon}))
