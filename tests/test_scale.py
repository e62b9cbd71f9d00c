"""Large tables with bounded memory: the transformer fitted on a sample that covers every
value it must encode, the compact encoded table, and no host sync per step on a GPU."""

import warnings

import numpy as np
import pytest
import torch
from sdv.errors import SynthesizerInputError

from sdv_privgan import PrivCTGANSynthesizer, PrivTVAESynthesizer
from sdv_privgan._compat import column_spans, fixed_mode_draws
from sdv_privgan.config import GameConfig
from sdv_privgan.game import ComponentGame
from sdv_privgan.tabular.ctgan import CTGANComponents, RULES
from sdv_privgan.tabular.encoded import encode_table, fit_transformer, transformer_rows
from sdv_privgan.tabular.layout import DataLayout
from sdv_privgan.tabular.model import PrivTabularModel
from sdv_privgan.tabular.tvae import category_targets

from conftest import make_mixed_table

DISCRETE = ['région', 'grade', 'member', '名前']


@pytest.fixture(scope='module')
def table():
    """The mixed table as the model sees it: no nulls in continuous columns."""
    frame = make_mixed_table(400, seed=5).drop(columns=['signup'])
    return frame.fillna({'âge': 50.0})


def _categories(transformer):
    return {name: list(encoder.dummies) for name, kind, _, encoder in
            column_spans(transformer) if kind == 'discrete'}


def test_the_transformer_sample_holds_every_category_and_extreme(table):
    rows = transformer_rows(table, DISCRETE, 30, torch.Generator().manual_seed(0))
    sample = table.iloc[rows]
    assert 30 <= len(rows) < len(table)
    for column in DISCRETE:
        assert set(sample[column]) == set(table[column])  # one-row categories included
    for column in ('âge', 'revenu €'):
        assert sample[column].min() == table[column].min()
        assert sample[column].max() == table[column].max()
    assert transformer_rows(table, DISCRETE, 400) is None
    assert transformer_rows(table, DISCRETE, None) is None
    sampled = fit_transformer(table, DISCRETE, 30, seed=0)
    assert _categories(sampled) == _categories(fit_transformer(table, DISCRETE, None))


@pytest.fixture(scope='module')
def fitted(table):
    transformer = fit_transformer(table, DISCRETE, None)
    return transformer, DataLayout(transformer)


@pytest.mark.parametrize('placement', ['device', 'host'])
def test_the_compact_table_decodes_to_the_transformers_rows(table, fitted, placement):
    transformer, layout = fitted
    with fixed_mode_draws(transformer):  # each value's mode is drawn at random
        expected = torch.as_tensor(transformer.transform(table), dtype=torch.float32)
    with fixed_mode_draws(transformer):
        encoded = encode_table(transformer, table, layout, 'cpu', placement=placement)
    assert encoded.on_device is (placement == 'device')
    rows = torch.tensor([[3, 0, 399], [7, 7, 1]])
    assert torch.equal(encoded[rows], expected[rows])
    assert torch.equal(encoded.categories(), layout.categories(expected))
    vectors, codes = encoded.with_codes(rows)  # the categories TVAE's loss is scored on
    assert torch.equal(vectors, expected[rows])
    assert torch.equal(codes, category_targets(layout, expected[rows]))
    assert encoded.codes.dtype == torch.uint8
    assert encoded.nbytes() * 4 < expected.nbytes  # the one-hot spans take a byte each
    with fixed_mode_draws(transformer):
        subset = encode_table(transformer, table, layout, 'cpu', rows=np.array([5, 9]))
    with fixed_mode_draws(transformer):
        expected = transformer.transform(table.iloc[[5, 9]])
    assert torch.equal(subset[torch.arange(2)], torch.as_tensor(expected, dtype=torch.float32))


def test_a_value_the_transformer_never_saw_fails_loudly(table, fitted):
    transformer = fit_transformer(table[table['région'] != 'île'], DISCRETE, None)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # rdt warns about the new category as well
        with pytest.raises(ValueError, match='transformer_sample_size=None'):
            encode_table(transformer, table, DataLayout(transformer), 'cpu')


def _model(placement, sample_size=None):
    config = GameConfig(n_partitions=2, epochs=2, batch_size=40, seed=0)
    options = {name: None for name in RULES}
    options.update(embedding_dim=16, generator_dim=(32,), discriminator_dim=(32,),
                   generator_lr=2e-4, generator_decay=1e-6, discriminator_lr=2e-4,
                   discriminator_decay=1e-6, discriminator_steps=1, log_frequency=True,
                   pac=10, classifier_dim=(32,), classifier_pac=1)
    return PrivTabularModel(CTGANComponents, config, options, 'cpu', placement=placement,
                            transformer_sample_size=sample_size)


def test_training_from_host_memory_is_training_from_the_device(table):
    losses = [_model(placement).fit(table, DISCRETE).loss_values for placement in
              ('device', 'host')]
    assert losses[0].equals(losses[1])
    sampled = _model('device', sample_size=50).fit(table, DISCRETE)
    assert np.isfinite(sampled.loss_values.drop(columns='Discriminator Loss')).all().all()
    assert _categories(sampled._transformer) == _categories(fit_transformer(table, DISCRETE,
                                                                            None))


@pytest.mark.parametrize('synthesizer', [PrivCTGANSynthesizer, PrivTVAESynthesizer])
def test_transformer_sample_size_is_an_argument(metadata, synthesizer):
    assert synthesizer(metadata).get_parameters()['transformer_sample_size'] == 100_000
    assert synthesizer(metadata, transformer_sample_size=None).transformer_sample_size is None
    for bad in (0, -5, 2.5, 'all', True):
        with pytest.raises(SynthesizerInputError, match="parameter 'transformer_sample_size'"):
            synthesizer(metadata, transformer_sample_size=bad)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA device')
def test_a_gpu_training_step_never_synchronizes(monkeypatch, mixed_table, metadata):
    """CUDA's own check: any device-to-host synchronization inside a step raises."""
    steps = []
    original = ComponentGame.fit

    def fit(self, steps_per_epoch, m=None):
        self.step(self.config.component_batch)  # first calls may set up lazily
        torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode('error')
        try:
            for _ in range(3):
                self.step(self.config.component_batch)
                steps.append(type(self.model).__name__)
        finally:
            torch.cuda.set_sync_debug_mode('default')
        return original(self, steps_per_epoch, m)

    monkeypatch.setattr(ComponentGame, 'fit', fit)
    for synthesizer in (PrivCTGANSynthesizer, PrivTVAESynthesizer):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            synthesizer(metadata, epochs=1, batch_size=40, seed=0,
                        device='cuda').fit({'people': mixed_table})
    assert steps.count('CTGANComponents') == 3 and steps.count('TVAEComponents') == 3
