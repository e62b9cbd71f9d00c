"""PrivTVAESynthesizer: TVAE's loss and arguments, the SDV contract, the released file."""

import inspect
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from ctgan.synthesizers.tvae import Decoder, Encoder, _loss_function
from sdv.sampling import Condition
from sdv.single_table import TVAESynthesizer
from sdv.utils import load_synthesizer

from sdv_privgan import PrivTVAESynthesizer
from sdv_privgan.config import GameConfig
from sdv_privgan.game import ComponentGame
from sdv_privgan.tabular.layout import DataLayout
from sdv_privgan.tabular.tvae import TVAEComponents, category_targets, tvae_loss

from conftest import fit_quietly, make_mixed_table, mixed_metadata

FAST = {'epochs': 4, 'batch_size': 40, 'embedding_dim': 16, 'compress_dims': (32,),
        'decompress_dims': (32,), 'classifier_dim': (32,), 'seed': 0}


def _fit(table, metadata, **kwargs):
    return fit_quietly(PrivTVAESynthesizer(metadata, **{**FAST, **kwargs}), table)


@pytest.fixture(scope='module')
def fitted(mixed_table, metadata):
    return _fit(mixed_table, metadata, keep_training_state=True)


@pytest.fixture(scope='module')
def encoded(mixed_table):
    """ctgan's transformer fitted on the mixed table and the encoded rows."""
    from ctgan.data_transformer import DataTransformer

    table = mixed_table.drop(columns=['signup']).fillna({'âge': 50.0})
    transformer = DataTransformer()
    transformer.fit(table, ['région', 'grade', 'member', '名前'])
    data = torch.as_tensor(transformer.transform(table), dtype=torch.float32)
    return transformer, data


def _ctgan_networks(components, data_dim):
    """ctgan's own Encoder and Decoder holding component 0's weights."""
    encoder, decoder = Encoder(data_dim, (32,), 16), Decoder(16, (32,), data_dim)
    pairs = [(encoder.seq[0], components.encoder.seq[0]), (encoder.fc1, components.encoder.fc1),
             (encoder.fc2, components.encoder.fc2), (decoder.seq[0], components.generator.seq[0]),
             (decoder.seq[2], components.generator.seq[2])]
    for linear, batched in pairs:  # (K, in, out) -> (out, in)
        linear.weight.data = batched.weight.data[0].T.clone()
        linear.bias.data = batched.bias.data[0, 0].clone()
    decoder.sigma.data = components.generator.sigma.data[0, 0].clone()
    return encoder, decoder


def test_one_component_is_ctgans_tvae_loss_and_step(encoded):
    """K=1, lambda=0: the loss on a batch is ctgan's, and one step of the game is TVAE's."""
    transformer, data = encoded
    layout = DataLayout(transformer)
    config = GameConfig(n_partitions=1, privacy_weight=0.0, ema_decay=0.0, batch_size=40)
    options = {'embedding_dim': 16, 'compress_dims': (32,), 'decompress_dims': (32,),
               'l2scale': 1e-5, 'loss_factor': 2, 'classifier_dim': (32,)}
    torch.manual_seed(0)
    ours = TVAEComponents(layout, data, torch.zeros(len(data), dtype=torch.long), config,
                          options, 'cpu')
    encoder, decoder = _ctgan_networks(ours, layout.data_dim)
    real = data[:40]
    mu, std, logvar = ours.encoder(real[None])
    eps = torch.randn_like(std)
    logits, sigma = ours.generator(mu + eps * std)
    reconstruction, kld = tvae_loss(layout, logits, real[None], sigma, mu, logvar, 2)
    mu_ref, std_ref, logvar_ref = encoder(real)
    logits_ref, sigma_ref = decoder(mu_ref + eps[0] * std_ref)
    torch.testing.assert_close(logits[0], logits_ref)
    loss_1, loss_2 = _loss_function(logits_ref, real, sigma_ref, mu_ref, logvar_ref,
                                    transformer.output_info_list, 2)
    torch.testing.assert_close(reconstruction.mean(), loss_1)
    torch.testing.assert_close(kld.mean(), loss_2)

    # One game step equals one step of TVAE's own loop on the same batch and noise.
    ours._real_batch = lambda m: (real[None], category_targets(layout, real[None]))
    optimizer = torch.optim.Adam(list(encoder.parameters()) + list(decoder.parameters()),
                                 weight_decay=1e-5)
    state = torch.get_rng_state()
    ComponentGame(ours, config, torch.ones(1), 'cpu').step(40)
    torch.set_rng_state(state)
    mu_ref, std_ref, logvar_ref = encoder(real)
    logits_ref, sigma_ref = decoder(torch.randn_like(std_ref) * std_ref + mu_ref)
    loss = sum(_loss_function(logits_ref, real, sigma_ref, mu_ref, logvar_ref,
                              transformer.output_info_list, 2))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    decoder.sigma.data.clamp_(0.01, 1.0)
    torch.testing.assert_close(ours.generator.sigma.data[0, 0], decoder.sigma.data)
    torch.testing.assert_close(ours.encoder.fc1.weight.data[0].T, encoder.fc1.weight.data)


def test_tvae_arguments_have_the_same_names_and_defaults():
    theirs = inspect.signature(TVAESynthesizer.__init__).parameters
    ours = inspect.signature(PrivTVAESynthesizer.__init__).parameters
    for name, parameter in theirs.items():
        assert name in ours, name
        assert ours[name].default == parameter.default, name


def test_entry_point_registers_in_sdv_single_table():
    import sdv.single_table

    assert sdv.single_table.PrivTVAESynthesizer is PrivTVAESynthesizer


def test_fit_sample_conditions_losses_and_gauges(fitted, mixed_table):
    synthetic = fitted.sample(300)['people']
    assert list(synthetic.columns) == list(mixed_table.columns) and len(synthetic) == 300
    assert synthetic['âge'].isna().any() and pd.api.types.is_datetime64_any_dtype(
        synthetic['signup'])
    assert (synthetic['constant'] == 7).all() and synthetic['member'].dtype == bool
    rows = fitted.sample_from_conditions([Condition({'région': 'sud'}, num_rows=25)])['people']
    assert len(rows) == 25 and (rows['région'] == 'sud').all()
    losses = fitted.get_loss_values()
    assert len(losses) == 4 and losses['Discriminator Loss'].isna().all()
    assert losses[['Generator Loss', 'Classifier Loss', 'JSD Estimate']].notna().all().all()
    assert losses['Generator Loss'].iloc[-1] < losses['Generator Loss'].iloc[0]
    assert fitted.get_loss_values_plot().data
    gauge = fitted.get_component_distinguishability(200)
    assert 0.0 <= gauge['auc'] <= 1.0 and gauge['chance_accuracy'] == 0.5
    scores = fitted.get_white_box_scores(mixed_table.head(10))
    assert list(scores.columns) == ['elbo', 'classifier'] and scores.notna().all().all()


def test_save_load_and_nothing_of_the_training_rows(fitted, tmp_path, metadata):
    path = tmp_path / 'tvae.pkl'
    fitted.save(path)
    loaded = load_synthesizer(str(path))
    fitted.reset_sampling()
    loaded.reset_sampling()
    pd.testing.assert_frame_equal(fitted.sample(30)['people'], loaded.sample(30)['people'])

    table = make_mixed_table(240)
    secret = round(float(table['revenu €'].median()), 2) + 0.005
    table.loc[17, 'revenu €'] = secret
    released = _fit(table, metadata, epochs=1)
    assert released._model._components.encoder is None  # only the decoders are released
    blob = pickle.dumps(released)
    for encoding in (np.float64(secret).tobytes(), np.float32(secret).tobytes()):
        assert encoding not in blob
    larger = make_mixed_table(2400, seed=1)
    size = len(pickle.dumps(_fit(larger, mixed_metadata(larger), epochs=1)))
    assert size < len(blob) * 1.1


def test_constraints_keep_categorical_columns_discrete(mixed_table, metadata):
    from sdv.cag import FixedCombinations

    synthesizer = PrivTVAESynthesizer(metadata, **FAST)
    synthesizer.add_constraints([FixedCombinations(['région', '名前'])])
    assert synthesizer._data_processor._hyper_transformer.field_transformers.get('grade') is None
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        synthesizer.fit({'people': mixed_table})
    assert synthesizer._model._layout.n_discrete >= 3  # not all modelled as continuous
    synthetic = synthesizer.sample(100)['people']
    assert len(synthetic) == 100
    assert set(zip(synthetic['région'], synthetic['名前'])) <= set(
        zip(mixed_table['région'], mixed_table['名前']))


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA device')
def test_trains_on_gpu_and_loads_on_cpu(mixed_table, metadata, tmp_path):
    synthesizer = _fit(mixed_table, metadata, keep_training_state=True, enable_gpu=True)
    assert next(synthesizer._model._components.generator.parameters()).is_cuda
    assert len(synthesizer.sample(50)['people']) == 50
    assert len(synthesizer.get_white_box_scores(mixed_table.head(10))) == 10
    restored = pickle.loads(pickle.dumps(synthesizer))
    restored._model.set_device('cpu')
    assert next(restored._model._components.generator.parameters()).device.type == 'cpu'
    assert len(restored.sample(20)['people']) == 20


def test_one_partition_without_weight_is_plain_tvae(mixed_table, metadata):
    synthesizer = _fit(mixed_table, metadata, n_partitions=1, privacy_weight=0.0, epochs=2)
    assert synthesizer._model._regularizer is None
    assert synthesizer.get_loss_values()['Classifier Loss'].isna().all()
    assert len(synthesizer.sample(10)['people']) == 10


@pytest.mark.parametrize('n_partitions, split, widths', [
    (2, True, (16, 3)), (3, True, (10, 2)), (2, False, (32, 6)), (1, True, (32, 6))])
def test_components_share_tvaes_widths(metadata, n_partitions, split, widths):
    """split_widths: K encoders and decoders together are as wide as TVAE's network."""
    synthesizer = PrivTVAESynthesizer(metadata, **{**FAST, 'compress_dims': (32, 6),
                                                   'decompress_dims': (32, 6)},
                                      n_partitions=n_partitions, split_widths=split)
    _, options = synthesizer._checked()
    assert options['compress_dims'] == options['decompress_dims'] == widths
    assert synthesizer.get_parameters()['split_widths'] is split
    assert synthesizer.compress_dims == (32, 6)  # the argument is kept as given


def test_fitted_decoders_have_their_share_of_the_width(fitted):
    decoder = fitted._model._components.generator
    assert decoder.seq[0].weight.shape == (2, FAST['embedding_dim'], 16)  # (K, in, 32 // 2)


def test_a_file_from_before_split_widths_keeps_full_widths(fitted):
    state = fitted.__getstate__()
    del state['split_widths']
    loaded = PrivTVAESynthesizer.__new__(PrivTVAESynthesizer)
    loaded.__setstate__(state)
    assert loaded.get_parameters()['split_widths'] is False
    assert loaded._checked()[1]['compress_dims'] == FAST['compress_dims']
