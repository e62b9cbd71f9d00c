"""Tests of PrivacyReport and UtilityReport on mixed-type data, and of the white-box path."""

import copy
import warnings

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from sdv.metadata import Metadata

from sdv_privgan.evaluation import PrivacyReport, UtilityReport, split_for_evaluation

N_MEMBERS = 300


def make_population(n_rows, seed=0):
    """Mixed types the way real tables come: NaN and None, rare categories, a constant
    column, booleans, datetimes, unicode column names, and a target tied to the features."""
    rng = np.random.default_rng(seed)
    âge = rng.integers(18, 90, n_rows)
    revenu = np.round(rng.lognormal(10, 0.5, n_rows), 2)
    revenu[rng.random(n_rows) < 0.1] = np.nan
    région = rng.choice(['nord', 'sud', 'est', 'ouest', 'île'], n_rows, p=[.4, .3, .2, .09, .01])
    statut = rng.choice(np.array(['salarié', 'indépendant', None], dtype=object), n_rows,
                        p=[.6, .3, .1])
    logit = 0.05 * (âge - 50) + 1.5 * (région == 'nord') - 1.0
    return pd.DataFrame({
        'âge': âge,
        'revenu': revenu,
        'région': région,
        'statut': statut,
        'propriétaire': rng.random(n_rows) < 0.3,
        'inscription': pd.Timestamp('2020-01-01') + pd.to_timedelta(rng.integers(0, 1500, n_rows), 'D'),
        'pays': 'FR',
        'défaut': np.where(rng.random(n_rows) < 1 / (1 + np.exp(-logit)), 'oui', 'non'),
    })


@pytest.fixture(scope='module')
def population():
    return make_population(4 * N_MEMBERS + 400, seed=0)


@pytest.fixture(scope='module')
def metadata(population):
    return Metadata.detect_from_dataframes({'clients': population})


@pytest.fixture(scope='module')
def splits(population):
    data = population.iloc[:4 * N_MEMBERS]
    split = split_for_evaluation(data, n_members=N_MEMBERS, holdout_fraction=0.25,
                                 reference_fraction=0.25, seed=0)
    fresh = population.iloc[4 * N_MEMBERS:4 * N_MEMBERS + N_MEMBERS]  # same population, unseen
    return split, fresh


def _report(metadata, splits, synthetic, **kwargs):
    split, _ = splits
    report = PrivacyReport(dcr_subsample=200, new_row_sample_size=100, seed=0)
    report.generate(split.train, synthetic, metadata, real_holdout_data=split.holdout,
                    real_reference_data=split.reference, verbose=False, **kwargs)
    return report


@pytest.fixture(scope='module')
def copy_report(metadata, splits):
    return _report(metadata, splits, splits[0].train,
                   known_column_names=['âge', 'région'], sensitive_column_names=['défaut'])


@pytest.fixture(scope='module')
def fresh_report(metadata, splits):
    return _report(metadata, splits, splits[1])


# -- PrivacyReport ---------------------------------------------------------------------------
def test_copied_training_rows_are_caught(copy_report):
    details = copy_report.get_details('Membership Inference')
    assert details['AUC'].max() > 0.95
    verdict = copy_report.get_membership_verdict()
    assert verdict['leakage_detected'] and verdict['p_value'] < 0.01
    assert verdict['interval_excludes_floor']
    assert verdict['max_auc_low'] > verdict['floor_max_auc'] + 0.3
    summary = details.set_index('Attack ID').loc['max']
    assert summary['Leakage detected'] and summary['AUC'] == verdict['max_auc']
    properties = copy_report.get_properties().set_index('Property')['Score']
    assert properties['Membership Inference'] < 0.1
    assert properties['New Row Synthesis'] == 0.0
    assert properties['DCR Baseline Protection'] == 0.0
    assert 0 <= properties['Disclosure Protection'] <= 1
    assert copy_report.get_score() == pytest.approx(properties.mean())


def test_fresh_rows_of_the_population_look_like_chance(fresh_report):
    details = fresh_report.get_details('Membership Inference').set_index('Attack ID')
    assert set(details.index) == {'dcr', 'dcr_calibrated', 'domias', 'classifier_ratio',
                                  'mc_ball_count', 'max'}
    for attack, auc in details['AUC'].items():
        assert abs(auc - 0.5) <= 0.07, attack
        assert details.loc[attack, 'AUC low'] < 0.5 + 0.02 and details.loc[
            attack, 'AUC high'] > 0.5 - 0.02, attack  # the interval reaches chance
    verdict = fresh_report.get_membership_verdict()
    assert not verdict['leakage_detected'] and verdict['p_value'] > 0.05
    # The floor: the 300 reference rows split into 150 stand-ins and 150 reference rows.
    assert verdict['n_floor_rows'] == 150 and abs(verdict['floor_max_auc'] - 0.5) < 0.1
    properties = fresh_report.get_properties().set_index('Property')['Score']
    assert properties['Membership Inference'] >= 0.86
    assert properties['New Row Synthesis'] == 1.0
    assert np.isnan(properties['Disclosure Protection'])  # no key / sensitive columns named


def test_report_interface_figures_and_save_load(copy_report, tmp_path):
    assert list(copy_report.get_properties()['Property']) == list(PrivacyReport.PROPERTIES)
    for plot in ('roc', 'roc_log', 'histogram'):
        figure = copy_report.get_visualization('Membership Inference', plot=plot)
        assert isinstance(figure, go.Figure) and len(figure.data) >= 5
    intervals = copy_report.get_visualization('Membership Inference', plot='auc')
    assert [trace.name for trace in intervals.data] == ['Synthetic data',
                                                        'Noise floor (real non-members)']
    assert 'leakage detected' in intervals.layout.title.text
    assert isinstance(copy_report.get_visualization('DCR Overfitting Protection'), go.Figure)
    with pytest.raises(ValueError, match='plot must be'):
        copy_report.get_visualization('Membership Inference', plot='pie')
    with pytest.raises(ValueError, match='Invalid property name'):
        copy_report.get_details('Privacy Vibes')
    result = copy_report.get_membership_inference()
    assert result.is_member.sum() == N_MEMBERS and (~result.is_member).sum() == N_MEMBERS
    path = tmp_path / 'privacy.pkl'
    copy_report.save(path)
    loaded = PrivacyReport.load(path)
    pd.testing.assert_frame_equal(loaded.get_properties(), copy_report.get_properties())
    assert loaded.get_membership_verdict() == copy_report.get_membership_verdict()
    with pytest.raises(TypeError, match='not a UtilityReport'):
        UtilityReport.load(path)
    with pytest.raises(ValueError, match='generate'):
        PrivacyReport().get_score()


def test_same_seed_same_report(metadata, splits, fresh_report):
    again = _report(metadata, splits, splits[1])
    pd.testing.assert_frame_equal(again.get_properties(), fresh_report.get_properties())


def test_bad_inputs_get_clear_errors_and_nothing_is_mutated(metadata, splits):
    split, fresh = splits
    train, holdout = split.train.copy(), split.holdout.copy()
    report = PrivacyReport(dcr_subsample=50, new_row_sample_size=20)
    with pytest.raises(ValueError, match="real_holdout_data.*missing \\['revenu'\\]"):
        report.generate(train, fresh, metadata, real_holdout_data=holdout.drop(columns='revenu'))
    with pytest.raises(ValueError, match="synthetic_data.*unexpected \\['extra'\\]"):
        report.generate(train, fresh.assign(extra=1), metadata, real_holdout_data=holdout)
    with pytest.raises(ValueError, match='both known_column_names and sensitive'):
        report.generate(train, fresh, metadata, real_holdout_data=holdout,
                        known_column_names=['âge'])
    with pytest.raises(TypeError, match='metadata'):
        report.generate(train, fresh, 'clients', real_holdout_data=holdout)
    with pytest.raises(ValueError, match='positive integer'):
        PrivacyReport(max_candidates=0)
    with pytest.raises(ValueError, match='pass the fitted synthesizer'):
        report.generate(train, fresh, metadata, real_holdout_data=holdout, rows_per_target=10)
    with pytest.raises(TypeError, match='No generator access for FakeWhiteBoxSynthesizer'):
        report.generate(train, fresh, metadata, real_holdout_data=holdout, latent_attack=True,
                        synthesizer=FakeWhiteBoxSynthesizer(train))
    typo = holdout.astype({'revenu': object})
    typo.loc[typo.index[0], 'revenu'] = 'n/a ?'
    with pytest.raises(ValueError, match="real_holdout_data: Column 'revenu' is numerical"):
        report.generate(train, fresh, metadata, real_holdout_data=typo)
    with pytest.raises(ValueError, match="real_holdout_data: Column 'revenu' is numerical"):
        UtilityReport().generate(train, fresh, metadata, real_holdout_data=typo)
    pd.testing.assert_frame_equal(train, split.train)
    pd.testing.assert_frame_equal(holdout, split.holdout)


def test_a_holdout_too_small_to_mean_anything_is_refused_loudly(metadata, splits):
    split, fresh = splits
    report = PrivacyReport(dcr_subsample=50, new_row_sample_size=20)
    with pytest.warns(UserWarning, match='Membership Inference could not be computed: '
                                         'membership inference needs at least 10'):
        report.generate(split.train, fresh, metadata, real_holdout_data=split.holdout.iloc[:1],
                        verbose=False)
    properties = report.get_properties().set_index('Property')['Score']
    assert np.isnan(properties['Membership Inference'])
    assert np.isnan(properties['DCR Overfitting Protection'])
    assert 'DCR Overfitting Protection needs at least 10' in report.get_details(
        'DCR Overfitting Protection')['Error'].iloc[0]
    with pytest.raises(ValueError, match='not computed: ValueError: membership inference'):
        report.get_membership_verdict()


def test_without_holdout_membership_is_skipped_and_dict_metadata_works(metadata, splits):
    split, fresh = splits
    statut_before = split.train['statut'].copy()
    report = PrivacyReport(dcr_subsample=100, new_row_sample_size=30)
    report.generate(split.train, fresh, metadata.to_dict()['tables']['clients'], verbose=False)
    properties = report.get_properties().set_index('Property')['Score']
    assert np.isnan(properties['Membership Inference'])
    assert np.isnan(properties['DCR Overfitting Protection'])
    assert 'real_holdout_data' in report.get_details('Membership Inference')['Error'].iloc[0]
    assert 0 <= properties['DCR Baseline Protection'] <= 1
    assert split.train['statut'].isna().sum() == statut_before.isna().sum()
    assert split.train['statut'].map(type).eq(statut_before.map(type)).all()  # None stays None


def test_a_column_without_values_leaves_the_dcr_baseline_unchanged(metadata, splits):
    """SDMetrics cannot draw a random baseline for a column that is missing in every row
    (OverflowError); such a column adds no distance, so the score is the one without it."""
    split, fresh = splits
    table = copy.deepcopy(metadata.to_dict()['tables']['clients'])
    table['columns']['vide'] = {'sdtype': 'numerical'}
    scores = []
    for extra in ({}, {'vide': np.nan}):
        report = PrivacyReport(dcr_subsample=100, new_row_sample_size=30, seed=0)
        report.generate(split.train.assign(**extra), fresh.assign(**extra),
                        table if extra else metadata, verbose=False)
        scores.append(report.get_properties().set_index('Property')['Score'])
    assert 0 < scores[0]['DCR Baseline Protection'] <= 1
    assert scores[1]['DCR Baseline Protection'] == pytest.approx(
        scores[0]['DCR Baseline Protection'])


# -- white-box -------------------------------------------------------------------------------
class FakeWhiteBoxSynthesizer:
    """Stands in for a fitted PrivCTGANSynthesizer: its critic recognises its training rows."""

    def __init__(self, training, keep_training_state=True):
        self.keep_training_state = keep_training_state
        self._seen = set(map(tuple, training[['âge', 'inscription']].astype(str).to_numpy()))
        self.calls = 0

    def get_white_box_scores(self, data):
        self.calls += 1
        keys = map(tuple, data[['âge', 'inscription']].astype(str).to_numpy())
        member = np.array([key in self._seen for key in keys], dtype=float)
        noise = np.random.default_rng(0).normal(0, 0.3, len(data))
        return pd.DataFrame({'critic': member + noise, 'classifier': 0.5 + 0.1 * noise},
                            index=data.index)


def test_white_box_attacks_join_the_report(metadata, splits):
    split, fresh = splits
    synthesizer = FakeWhiteBoxSynthesizer(split.train)
    report = PrivacyReport(attacks=['dcr'], dcr_subsample=50, new_row_sample_size=20)
    report.generate(split.train, fresh, metadata, real_holdout_data=split.holdout,
                    synthesizer=synthesizer, verbose=False)
    details = report.get_details('Membership Inference').set_index('Attack ID')
    assert synthesizer.calls >= 1
    assert details.loc['white_box_critic', 'AUC'] > 0.95
    assert abs(details.loc['white_box_classifier', 'AUC'] - 0.5) < 0.1
    assert details.loc['white_box_critic', 'Oriented'] and not details.loc['dcr', 'Oriented']
    assert report.get_properties().set_index('Property')['Score']['Membership Inference'] < 0.1
    assert report.get_info()['white_box'] is True


def test_white_box_is_not_used_without_training_state(metadata, splits):
    split, fresh = splits
    synthesizer = FakeWhiteBoxSynthesizer(split.train, keep_training_state=False)
    report = PrivacyReport(attacks=['dcr'], dcr_subsample=50, new_row_sample_size=20)
    with pytest.warns(UserWarning, match='no white-box scores'):
        report.generate(split.train, fresh, metadata, real_holdout_data=split.holdout,
                        synthesizer=synthesizer, verbose=False)
    assert synthesizer.calls == 0
    assert list(report.get_details('Membership Inference')['Attack ID']) == ['dcr', 'max']


def test_white_box_scores_an_overfitted_tiny_privctgan_above_chance():
    """A deliberately overfitted model: 30 rows, five critic steps per generator step, no
    privacy term. The critic memorizes its rows early (100 epochs: 0.71-0.87 over seeds
    0-5, mean 0.82; 500 epochs: 0.54-0.88, mean 0.71), and seed to seed it varies, so the
    test averages three seeds; with no leakage the oriented AUC of 30 + 30 rows averages
    about 0.56."""
    from palmerpenguins import load_penguins

    from sdv_privgan import PrivCTGANSynthesizer

    data = load_penguins().dropna().reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        metadata = Metadata.detect_from_dataframes({'penguins': data})
    critic_aucs = []
    for seed in range(3):
        train, holdout, reference = split_for_evaluation(data, n_members=30, seed=seed)
        synthesizer = PrivCTGANSynthesizer(
            metadata, epochs=100, batch_size=10, pac=1, n_partitions=2, privacy_weight=0.0,
            discriminator_steps=5, embedding_dim=32, generator_dim=(64, 64),
            discriminator_dim=(64, 64), classifier_dim=(32,), generator_lr=2e-3,
            discriminator_lr=2e-3, keep_training_state=True, seed=seed)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            synthesizer.fit({'penguins': train})
            synthetic = synthesizer.sample(300)['penguins']
        report = PrivacyReport(attacks=['dcr'], dcr_subsample=50, new_row_sample_size=20)
        report.generate(train, synthetic, metadata, real_holdout_data=holdout.iloc[:30],
                        real_reference_data=reference, synthesizer=synthesizer,
                        verbose=False)
        details = report.get_details('Membership Inference').set_index('Attack ID')
        assert {'white_box_critic', 'white_box_contrast', 'white_box_classifier'} <= set(
            details.index)
        critic_aucs.append(details.loc['white_box_critic', 'AUC'])
    assert np.mean(critic_aucs) > 0.68


# -- UtilityReport ---------------------------------------------------------------------------
def test_utility_report_copy_shuffled_and_regression(metadata, splits, tmp_path):
    split, fresh = splits
    report = UtilityReport(seed=0)
    report.generate(split.train, split.train, metadata, real_holdout_data=split.holdout,
                    target='défaut', verbose=False)
    properties = report.get_properties().set_index('Property')['Score']
    assert properties['Column Shapes'] == pytest.approx(1.0)
    assert properties['ML Efficacy'] == pytest.approx(1.0)
    details = report.get_details('ML Efficacy').set_index('Metric')
    assert list(details.index) == ['Accuracy', 'F1 (macro)', 'ROC AUC']
    np.testing.assert_allclose(details['Train on synthetic'], details['Train on real'])
    assert details.loc['ROC AUC', 'Train on real'] > 0.65  # the target is learnable
    assert isinstance(report.get_visualization('ML Efficacy'), go.Figure)
    assert isinstance(report.get_visualization('Column Shapes'), go.Figure)
    report.save(tmp_path / 'utility.pkl')
    assert UtilityReport.load(tmp_path / 'utility.pkl').get_score() == report.get_score()

    shuffled = fresh.assign(défaut=fresh['défaut'].sample(frac=1, random_state=1).to_numpy())
    report.generate(split.train, shuffled, metadata, real_holdout_data=split.holdout,
                    target='défaut', verbose=False)
    assert report.get_properties().set_index('Property')['Score']['ML Efficacy'] < 0.5

    report.generate(split.train, fresh, metadata, real_holdout_data=split.holdout,
                    target='âge', verbose=False)
    assert list(report.get_details('ML Efficacy')['Metric']) == ['R2']

    # Synthetic rows of a single class teach a constant: chance ROC AUC, no skill.
    one_class = fresh.assign(défaut=fresh['défaut'].iloc[0])
    report.generate(split.train, one_class, metadata, real_holdout_data=split.holdout,
                    target='défaut', verbose=False)
    details = report.get_details('ML Efficacy').set_index('Metric')
    assert details.loc['ROC AUC', 'Train on synthetic'] == pytest.approx(0.5)
    assert report.get_properties().set_index('Property')['Score']['ML Efficacy'] == 0.0


def test_utility_report_errors_and_skips(metadata, splits):
    split, fresh = splits
    report = UtilityReport()
    with pytest.raises(ValueError, match="target column 'nope'"):
        report.generate(split.train, fresh, metadata, real_holdout_data=split.holdout,
                        target='nope')
    with pytest.raises(ValueError, match="task must be"):
        report.generate(split.train, fresh, metadata, real_holdout_data=split.holdout,
                        target='défaut', task='clustering')
    report.generate(split.train, fresh, metadata, verbose=False)
    assert np.isnan(report.get_properties().set_index('Property')['Score']['ML Efficacy'])
    with pytest.warns(UserWarning, match='ML Efficacy needs at least 10 holdout rows'):
        report.generate(split.train, fresh, metadata, real_holdout_data=split.holdout.iloc[:3],
                        target='défaut', verbose=False)
    assert np.isnan(report.get_properties().set_index('Property')['Score']['ML Efficacy'])
    with pytest.raises(ValueError, match='not computed'):
        report.get_visualization('ML Efficacy')
