"""The attacker who holds the saved model: rows drawn from it, latent reconstruction of SDV's
CTGAN and TVAE, the GeneratorAccess protocol, and the shadow-model attack."""

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sdv.metadata import Metadata

from sdv_privgan.evaluation import (
    GeneratorAccess,
    MembershipInferenceResult,
    PrivacyReport,
    draw_rows,
    generator_access,
    latent_reconstruction_scores,
    run_membership_inference,
    run_shadow_attack,
    split_for_evaluation,
)

N_MEMBERS = 30


def _seeded_fit(synthesizer, train, seed=0):
    """SDV's fit draws from torch's and numpy's global generators: seed them for a fixed test."""
    torch.manual_seed(seed)
    np.random.seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        synthesizer.fit({'penguins': train})
    return synthesizer


def _penguin_split(data, seed):
    return split_for_evaluation(data, n_members=N_MEMBERS, holdout_fraction=0.3,
                                reference_fraction=0.2, seed=seed)


@pytest.fixture(scope='module')
def penguin_data():
    from palmerpenguins import load_penguins

    data = load_penguins().dropna().reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        metadata = Metadata.detect_from_dataframes({'penguins': data})
    return data, metadata


@pytest.fixture(scope='module')
def penguins(penguin_data):
    data, metadata = penguin_data
    return _penguin_split(data, seed=0), metadata


def _tiny_ctgan(metadata):
    from sdv.single_table import CTGANSynthesizer

    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return CTGANSynthesizer(metadata, epochs=300, batch_size=10, pac=1, embedding_dim=16,
                                generator_dim=(64, 64), discriminator_dim=(64, 64),
                                generator_lr=2e-3, discriminator_lr=2e-3)


@pytest.fixture(scope='module')
def overfitted_ctgan(penguins):
    """Tens of rows, hundreds of epochs, pac=1: a CTGAN that memorises (about 7 s on one core)."""
    (train, _, _), metadata = penguins
    return _seeded_fit(_tiny_ctgan(metadata), train)


@pytest.fixture(scope='module')
def overfitted_tvae(penguins):
    from sdv.single_table import TVAESynthesizer

    (train, _, _), metadata = penguins
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        synthesizer = TVAESynthesizer(metadata, epochs=300, batch_size=10, embedding_dim=8,
                                      compress_dims=(64, 64), decompress_dims=(64, 64))
    return _seeded_fit(synthesizer, train)


def _attack(penguins, synthesizer, **kwargs):
    (train, holdout, reference), metadata = penguins
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # 30 per side: the wide-interval warning
        return run_membership_inference(
            train, holdout, synthesizer.sample(300)['penguins'], reference, metadata=metadata,
            synthesizer=synthesizer, attacks=['dcr'], **kwargs)


def test_latent_reconstruction_finds_the_overfitted_ctgan_rows(penguin_data, penguins,
                                                               overfitted_ctgan):
    """How well one tiny CTGAN memorises varies a lot from split to split (AUC 0.64-0.83
    over three splits of this setting), so two independent fits are pooled: each scores its
    own 30 members and 30 non-members, 60 + 60 targets in all."""
    data, metadata = penguin_data
    second_split = _penguin_split(data, seed=1)
    second = _seeded_fit(_tiny_ctgan(metadata), second_split.train, seed=1)
    scores, labels = [], []
    for (train, holdout, _), model in ((penguins[0], overfitted_ctgan), (second_split, second)):
        targets = pd.concat([train, holdout.iloc[:N_MEMBERS]], ignore_index=True)
        scores.append(latent_reconstruction_scores(generator_access(model), targets, seed=0))
        labels.append(np.r_[np.ones(N_MEMBERS, bool), np.zeros(N_MEMBERS, bool)])
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        pooled = MembershipInferenceResult(scores={'latent_reconstruction': np.concatenate(
            scores)}, is_member=np.concatenate(labels))
    latent = pooled.metrics['latent_reconstruction']
    assert latent['auc_low'] > 0.5, latent
    # The calibrated variant is offered for CTGAN, whose loss is a squared distance.
    result = _attack(penguins, overfitted_ctgan, latent_attack=True,
                     latent_options={'calibrate': True, 'n_steps': 20})
    assert {'latent_reconstruction', 'latent_reconstruction_calibrated'} <= set(result.scores)


def test_latent_reconstruction_finds_the_overfitted_tvae_rows(penguins, overfitted_tvae):
    result = _attack(penguins, overfitted_tvae, latent_attack=True)
    latent = result.metrics['latent_reconstruction']
    assert latent['auc_low'] > 0.5, latent
    # The TVAE loss is a likelihood, not a distance: no reference calibration offered.
    assert 'latent_reconstruction_calibrated' not in result.metrics


def test_drawn_rows_attacks(penguins, overfitted_ctgan):
    result = _attack(penguins, overfitted_ctgan, rows_per_target=20)
    assert result.info['n_drawn_rows'] == 20 * N_MEMBERS
    assert set(result.scores) == {'dcr', 'drawn_dcr'}
    assert result.to_frame().set_index('Attack ID').loc['drawn_dcr', 'Attack'] == (
        'Distance to closest record (rows drawn from the model)')


def test_the_latent_attack_leaves_the_model_alone(penguins, overfitted_ctgan):
    (train, _, _), _ = penguins
    generator = overfitted_ctgan._model._generator
    before = {name: value.clone() for name, value in generator.state_dict().items()}
    latent_reconstruction_scores(generator_access(overfitted_ctgan), train.iloc[:5], n_steps=5)
    after = generator.state_dict()
    assert all(torch.equal(before[name], after[name]) for name in before)
    assert generator.training and all(p.requires_grad for p in generator.parameters())


class _TwoComponents(GeneratorAccess):
    """Component 0 outputs nothing useful; component 1 can reach any target."""

    n_components = 2
    latent_dim = 3
    prior_weight = 0.0
    loss_is_squared_distance = True

    def encode(self, data):
        return torch.as_tensor(data.to_numpy(), dtype=torch.float32)

    def conditions(self, targets):
        return torch.zeros(len(targets), 1, 0)

    def generate(self, z, conditions):
        return torch.stack([torch.zeros_like(z[0]), z[1]])

    def loss(self, output, targets):
        return ((output - targets) ** 2).sum(dim=-1)


def test_each_target_is_scored_by_its_best_component():
    targets = pd.DataFrame(np.random.default_rng(0).normal(size=(7, 3)) * 2)
    scores = latent_reconstruction_scores(_TwoComponents(), targets, n_steps=300, lr=0.1)
    assert scores.shape == (7,)
    assert np.all(scores > -1e-3)  # component 0 alone would give -|t|^2, about -12


def test_generator_access_errors():
    with pytest.raises(ValueError, match='fitted synthesizer'):
        generator_access(None)
    with pytest.raises(TypeError, match='No generator access for object'):
        generator_access(object())

    class Wrong:
        def get_generator_access(self):
            return 'not a protocol object'

    with pytest.raises(TypeError, match='must return a GeneratorAccess'):
        generator_access(Wrong())


class _CountingSynthesizer:
    """Samples by bootstrapping its training rows (a memoriser), counting its fits."""

    fits = 0

    def __init__(self, noise=0.0):
        self.noise = noise

    def fit(self, data):
        _CountingSynthesizer.fits += 1
        self._rows = next(iter(data.values())).reset_index(drop=True)

    def sample(self, num_rows):
        rows = self._rows.sample(num_rows, replace=True, random_state=num_rows)
        return {'table': rows.reset_index(drop=True)}


def test_draw_rows_in_chunks():
    synthesizer = _CountingSynthesizer()
    synthesizer.fit({'table': pd.DataFrame({'a': range(10), 'b': list('abcdefghij')})})
    drawn = draw_rows(synthesizer, 25, columns=['b', 'a'], chunk_size=7)
    assert len(drawn) == 25 and list(drawn.columns) == ['b', 'a']
    with pytest.raises(ValueError, match="lack the columns \\['c'\\]"):
        draw_rows(synthesizer, 5, columns=['c'])


def _numeric_population(seed, n_rows=400):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({'x': rng.normal(size=n_rows), 'y': rng.standard_t(3, n_rows),
                         'g': rng.choice(['a', 'b'], n_rows)})


NUMERIC_METADATA = {'columns': {'x': {'sdtype': 'numerical'}, 'y': {'sdtype': 'numerical'},
                                'g': {'sdtype': 'categorical'}}}


def test_shadow_attack_separates_a_memoriser_and_resumes_from_its_cache(tmp_path):
    data = _numeric_population(0)
    members, non_members, reference = data.iloc[:60], data.iloc[60:120], data.iloc[120:]
    _CountingSynthesizer.fits = 0
    first = run_shadow_attack(members, non_members, reference, NUMERIC_METADATA,
                              _CountingSynthesizer, synthetic=members, n_targets=10, n_shadow=3,
                              n_synthetic_rows=200, cache_folder=tmp_path, verbose=False)
    assert _CountingSynthesizer.fits == 6 and first.scores.shape == (6, 10)
    assert first.metrics['auc'] > 0.9 and first.metrics['auc_low'] > 0.75
    targets = first.targets
    assert targets['Member'].sum() == 5
    # The user's "synthetic data" are the members: member targets get the higher ratio.
    assert targets.loc[targets['Member'], 'LiRA score'].min() > targets.loc[
        ~targets['Member'], 'LiRA score'].max()
    again = run_shadow_attack(members, non_members, reference, NUMERIC_METADATA,
                              _CountingSynthesizer, synthetic=members, n_targets=10, n_shadow=3,
                              n_synthetic_rows=200, cache_folder=tmp_path, verbose=False)
    assert _CountingSynthesizer.fits == 6  # every fit came from the cache
    np.testing.assert_array_equal(again.statistics, first.statistics)
    with pytest.raises(ValueError, match='another shadow-model run'):
        run_shadow_attack(members, non_members, reference, NUMERIC_METADATA,
                          _CountingSynthesizer, n_targets=8, n_shadow=3, cache_folder=tmp_path,
                          verbose=False)


class _PopulationSynthesizer:
    """Ignores its training rows: samples fresh rows of the population (no leakage at all)."""

    calls = 0

    def fit(self, data):
        pass

    def sample(self, num_rows):
        _PopulationSynthesizer.calls += 1
        return {'table': _numeric_population(1000 + _PopulationSynthesizer.calls, num_rows)}


def test_shadow_attack_on_a_synthesizer_that_ignores_its_rows_is_chance():
    data = _numeric_population(1)
    result = run_shadow_attack(data.iloc[:60], data.iloc[60:120], data.iloc[120:],
                               NUMERIC_METADATA, _PopulationSynthesizer, n_targets=20,
                               n_shadow=4, n_synthetic_rows=200, verbose=False)
    assert result.metrics['auc_low'] < 0.5 < result.metrics['auc_high']


def test_shadow_attack_in_the_report_with_real_sdv_fits(penguins):
    """Tiny TVAE fits through the factory argument: the machinery end to end."""
    from sdv.single_table import TVAESynthesizer

    (train, holdout, reference), metadata = penguins

    def factory():
        return TVAESynthesizer(metadata, epochs=5, batch_size=20, embedding_dim=4,
                               compress_dims=(16,), decompress_dims=(16,))

    report = PrivacyReport(attacks=['dcr'], dcr_subsample=30, new_row_sample_size=20)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        report.generate(train, holdout, metadata, real_holdout_data=holdout,
                        real_reference_data=reference, verbose=False,
                        shadow_synthesizer_factory=factory,
                        shadow_options={'n_targets': 4, 'n_shadow': 3})
    details = report.get_details('Membership Inference').set_index('Attack ID')
    assert not details.loc['shadow_lira', 'In verdict']
    assert details.loc['shadow_lira', 'Candidates'] == 6 * 4
    shadow = report.get_membership_inference().shadow
    assert shadow.seconds_per_fit > 0 and np.isfinite(shadow.targets['LiRA score']).all()


def test_latent_reconstruction_through_our_k_components(penguins):
    """Ours hold K generators (decoders): each target is scored by its best component.
    An overfitted two-decoder PrivTVAE (15 rows per decoder) is caught; PrivCTGAN's access
    runs through all of its components."""
    from sdv_privgan import PrivCTGANSynthesizer, PrivTVAESynthesizer

    (train, holdout, _), metadata = penguins
    small = {'epochs': 300, 'batch_size': 10, 'embedding_dim': 8, 'n_partitions': 2,
             'privacy_weight': 0.0, 'seed': 0}
    tvae = _seeded_fit(PrivTVAESynthesizer(metadata, compress_dims=(64, 64),
                                           decompress_dims=(64, 64), **small), train)
    result = _attack(penguins, tvae, latent_attack=True)
    assert result.metrics['latent_reconstruction']['auc_low'] > 0.5, result.metrics
    ctgan = _seeded_fit(PrivCTGANSynthesizer(metadata, pac=1, generator_dim=(32,),
                                             discriminator_dim=(32,),
                                             **{**small, 'epochs': 5}), train)
    access = generator_access(ctgan)
    assert access.n_components == 2
    targets = pd.concat([train, holdout], ignore_index=True)
    scores = latent_reconstruction_scores(access, targets, n_steps=10, seed=0)
    assert scores.shape == (len(targets),) and np.isfinite(scores).all()
