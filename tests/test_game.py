"""The component game every model shares: checked arguments, data isolation, loud failures,
no host synchronization inside a training step."""

import math
import pickle
import warnings

import numpy as np
import pytest
import torch
from sdv.errors import SynthesizerInputError, VersionError

from sdv_privgan import PrivCTGANSynthesizer, PrivTVAESynthesizer
from sdv_privgan.config import GameConfig
from sdv_privgan.game import ComponentGame, ComponentModel, TrainingDivergedError
from sdv_privgan.image import PrivImageSynthesizer
from sdv_privgan.tabular import base, ctgan, tvae

from conftest import make_mixed_table

NAN, INF = float('nan'), float('inf')
SHARED_BAD = [
    ('n_partitions', [0, -1, 1.5, 'two', NAN, True]),
    ('privacy_weight', [NAN, INF, -1, 'x', None]),
    ('privacy_loss', ['kl', 1]),
    ('classifier_lr', [0, -1e-3, NAN, INF]),
    ('classifier_steps', [0, 1.5]),
    ('replay_size', [-1, 2.5]),
    ('ema_decay', [-5, 1.0, NAN]),
    ('warmup_epochs', [-1, 0.5]),
    ('epochs', [0, NAN, 2.5]),
    ('batch_size', [0, -2, NAN]),
    ('keep_training_state', ['yes', 1]),
    ('verbose', [2]),
    ('seed', [-1, 1.5, 'x']),
    ('enable_gpu', ['no']),
    ('device', ['gpu9', 3]),
]
CTGAN_BAD = SHARED_BAD + [
    ('embedding_dim', [0, 12.5]), ('generator_dim', [(0,), 'abc', (1.5,), 5]),
    ('discriminator_dim', [(-1,)]), ('generator_lr', [0, NAN]), ('generator_decay', [-1, INF]),
    ('discriminator_lr', [INF]), ('discriminator_decay', [NAN]), ('discriminator_steps', [0]),
    ('log_frequency', ['yes']), ('pac', [0, 1.5]), ('classifier_dim', [(0,)]),
    ('classifier_pac', [0, 3]), ('batch_size', [510, 15]),
]
TVAE_BAD = SHARED_BAD + [
    ('embedding_dim', [0]), ('compress_dims', [(0, 4)]), ('decompress_dims', ['x']),
    ('l2scale', [-1, NAN]), ('loss_factor', [0, INF]), ('classifier_dim', [(2.5,)]),
    ('split_widths', ['yes', 1]),
]
IMAGE_BAD = SHARED_BAD + [
    ('latent_dim', [0]), ('generator_width', [0]), ('discriminator_width', [1.5]),
    ('classifier_width', [-4]), ('generator_lr', [NAN]), ('discriminator_lr', [0]),
    ('conditional', ['maybe']),
]


def _cases(table):
    return [(name, value) for name, values in table for value in values]


@pytest.mark.parametrize('name, value', _cases(CTGAN_BAD))
def test_ctgan_rejects_bad_arguments_by_name(metadata, name, value):
    with pytest.raises(SynthesizerInputError, match=f"parameter '{name}'"):
        PrivCTGANSynthesizer(metadata, **{name: value})


@pytest.mark.parametrize('name, value', _cases(TVAE_BAD))
def test_tvae_rejects_bad_arguments_by_name(metadata, name, value):
    with pytest.raises(SynthesizerInputError, match=f"parameter '{name}'"):
        PrivTVAESynthesizer(metadata, **{name: value})


@pytest.mark.parametrize('name, value', _cases(IMAGE_BAD))
def test_image_rejects_bad_arguments_by_name(name, value):
    with pytest.raises(ValueError, match=f"parameter '{name}'"):
        PrivImageSynthesizer(**{name: value})


def test_arguments_changed_after_init_are_checked_before_training(mixed_table, metadata):
    synthesizer = PrivCTGANSynthesizer(metadata, epochs=1)
    synthesizer.privacy_weight = NAN
    with pytest.raises(SynthesizerInputError, match='privacy_weight'):
        synthesizer.fit({'people': mixed_table})
    assert not synthesizer._fitted


def test_numpy_scalars_are_valid_and_echoed(metadata):
    arguments = {'privacy_weight': np.float32(1), 'n_partitions': np.int64(2),
                 'epochs': np.int32(3), 'ema_decay': np.float64(0.9), 'verbose': np.bool_(False)}
    synthesizer = PrivCTGANSynthesizer(metadata, **arguments)
    assert {name: synthesizer.get_parameters()[name] for name in arguments} == arguments
    config, _ = synthesizer._checked()
    assert type(config.privacy_weight) is float and type(config.epochs) is int


class _Diverging(ComponentModel):
    """A one-parameter model whose loss becomes infinite at its third step."""

    has_critic = False

    def __init__(self):
        self.generator = torch.nn.Linear(1, 1)
        self.generator_optimizer = torch.optim.SGD(self.generator.parameters(), lr=0.1)
        self.steps = 0

    def critic_step(self, m):
        return torch.tensor(NAN)

    def generator_loss(self, m):
        self.steps += 1
        scale = INF if self.steps >= 3 else 1.0
        return self.generator.weight.sum() ** 2 * scale, None


def test_a_non_finite_loss_stops_training_naming_the_epoch():
    game = ComponentGame(_Diverging(), GameConfig(n_partitions=1, epochs=5, ema_decay=0.0),
                         torch.ones(1), 'cpu')
    with pytest.raises(TrainingDivergedError, match='epoch 1: the generator loss is inf.*'
                                                    'generator_lr or privacy_weight'):
        game.fit(steps_per_epoch=2)


def test_an_overflowing_regularizer_fails_loudly(mixed_table, metadata):
    synthesizer = PrivCTGANSynthesizer(metadata, epochs=2, batch_size=40, privacy_weight=1e39,
                                       seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        with pytest.raises(TrainingDivergedError, match='epoch 0'):
            synthesizer.fit({'people': mixed_table})


def _record_isolation(monkeypatch, components_class, module_name):
    """Patch ``components_class`` so that every input of its ``module_name`` network is
    checked: a row equal to a training row must belong to the network's partition."""
    seen = {'matched': 0, 'foreign': 0}
    original = components_class.__init__

    def init(self, layout, data, partitions, *args):
        original(self, layout, data, partitions, *args)

        every_row = data[torch.arange(len(data))]

        def hook(_, inputs):
            rows = inputs[0][..., :data.shape[1]]
            for k in range(rows.shape[0]):
                equal = (rows[k][:, None, :] == every_row[None]).all(-1)  # (batch, n)
                hit_rows, hit_data = torch.nonzero(equal, as_tuple=True)
                seen['matched'] += len(hit_rows)
                seen['foreign'] += int((partitions[hit_data] != k).sum())
        getattr(self, module_name).register_forward_pre_hook(hook)

    monkeypatch.setattr(components_class, '__init__', init)
    return seen


@pytest.mark.parametrize('synthesizer, components, network', [
    (PrivCTGANSynthesizer, ctgan.CTGANComponents, 'critic'),
    (PrivTVAESynthesizer, tvae.TVAEComponents, 'encoder'),
])
def test_a_component_sees_only_its_own_partition(monkeypatch, metadata, synthesizer,
                                                 components, network):
    seen = _record_isolation(monkeypatch, components, network)
    table = make_mixed_table(240, seed=3)
    model = synthesizer(metadata, epochs=2, batch_size=60, n_partitions=3, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        model.fit({'people': table})
    assert seen['matched'] > 100  # real rows did reach the networks
    assert seen['foreign'] == 0


def test_a_training_step_never_synchronizes_with_the_host(monkeypatch, mixed_table, metadata):
    """On CPU the proxy for a device sync is a read of a tensor's value by the host:
    ``aten::item`` or ``aten::nonzero`` (a boolean mask's count). CPU fused Adam reads its
    step count that way; on a GPU it does not, so its reads are not counted."""
    from torch.profiler import ProfilerActivity, profile

    counts = {}
    original = ComponentGame.fit

    def fit(self, steps_per_epoch, m=None):
        self.step(self.config.component_batch)
        with profile(activities=[ProfilerActivity.CPU]) as trace:
            for _ in range(2):
                self.step(self.config.component_batch)
        reads = [event for event in trace.events()
                 if event.name in ('aten::item', 'aten::nonzero')]
        counts[type(self.model).__name__] = sum(
            1 for event in reads if event.cpu_parent is None
            or event.cpu_parent.name != 'aten::_fused_adam_')
        counts['adam'] = counts.get('adam', 0) + len(reads)
        return original(self, steps_per_epoch, m)

    monkeypatch.setattr(ComponentGame, 'fit', fit)
    for synthesizer in (PrivCTGANSynthesizer, PrivTVAESynthesizer):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            synthesizer(metadata, epochs=1, batch_size=40, seed=0).fit({'people': mixed_table})
    assert counts['CTGANComponents'] == 0 and counts['TVAEComponents'] == 0
    assert counts['adam'] > 0  # the profiler does see host reads


@pytest.fixture(scope='module')
def small_fit(mixed_table, metadata):
    synthesizer = PrivCTGANSynthesizer(metadata, epochs=1, batch_size=40, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        synthesizer.fit({'people': mixed_table})
    return synthesizer


def test_a_file_of_another_format_fails_naming_both_versions(small_fit, monkeypatch, tmp_path):
    from sdv.utils import load_synthesizer

    import sdv_privgan

    monkeypatch.setattr(base, 'FILE_FORMAT', base.FILE_FORMAT - 1)
    monkeypatch.setattr(base, '__version__', '0.0.9')
    small_fit.save(tmp_path / 'old.pkl')
    monkeypatch.undo()
    with pytest.raises(VersionError, match=f'saved by sdv_privgan 0.0.9.*this sdv_privgan '
                                           f'{sdv_privgan.__version__} cannot read'):
        load_synthesizer(str(tmp_path / 'old.pkl'))


def test_a_file_of_another_version_with_the_same_format_loads_with_a_warning(small_fit,
                                                                             monkeypatch):
    monkeypatch.setattr(base, '__version__', '9.9.9')
    blob = pickle.dumps(small_fit)
    monkeypatch.undo()
    with pytest.warns(UserWarning, match='saved by sdv_privgan 9.9.9'):
        loaded = pickle.loads(blob)
    assert len(loaded.sample(5)['people']) == 5
    assert math.isfinite(loaded.get_loss_values()['Generator Loss'].iloc[0])


def test_a_seed_beyond_32_bits_trains_and_reproduces(mixed_table, metadata):
    fits = []
    for _ in range(2):
        synthesizer = PrivTVAESynthesizer(metadata, epochs=1, batch_size=40, seed=2 ** 40 + 3)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            synthesizer.fit({'people': mixed_table})
        fits.append(synthesizer.get_loss_values())
    assert fits[0].equals(fits[1])
