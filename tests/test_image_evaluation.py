"""Image evaluation: privGAN's top-members figure, downstream accuracy, the full evaluation."""

import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from sdv_privgan.image import PrivImageSynthesizer
from sdv_privgan.image.demo import split_digits
from sdv_privgan.evaluation import MembershipInferenceResult
from sdv_privgan.image.evaluation import (
    downstream_accuracy, evaluate_image_synthesizer, image_membership_inference,
    monte_carlo_scores, summarize_attack, top_members_accuracy)

torch.set_num_threads(1)


def test_top_members_accuracy():
    is_member = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0], bool)
    assert top_members_accuracy(np.arange(10)[::-1], is_member) == 1.0
    assert top_members_accuracy(np.arange(10), is_member) == 0.0
    assert top_members_accuracy([0.9, 0.1, 0.8, 0, 0, 0, 0, 0, 0, 0], is_member) == 0.5


def test_summarize_attack_balances_the_auc_but_not_the_pool():
    rng = np.random.default_rng(0)
    is_member = np.r_[np.ones(20, bool), np.zeros(180, bool)]
    scores = rng.normal(size=200) + 2 * is_member
    result = summarize_attack(scores, is_member)
    assert result['auc'] > 0.8 and result['top_members_chance'] == pytest.approx(0.1)
    assert result['top_members_accuracy'] > 0.5
    noise = summarize_attack(rng.normal(size=200), is_member)
    assert abs(noise['auc'] - 0.5) < 0.25


def test_downstream_accuracy_learns_real_digits():
    members, labels, others, other_labels = split_digits(300, seed=0)
    accuracy = downstream_accuracy(members, labels, others[:300], other_labels[:300], epochs=8)
    assert accuracy > 0.6  # chance is 0.1
    shuffled = np.random.default_rng(0).permutation(labels)
    assert downstream_accuracy(members, shuffled, others[:300], other_labels[:300],
                               epochs=8) < accuracy - 0.2


def test_monte_carlo_scores_catch_copies():
    members, _, others, _ = split_digits(100, seed=1)
    synthetic = np.concatenate([members, members])  # a synthesizer that memorized
    scores = monte_carlo_scores(synthetic, np.concatenate([members, others[:100]]))
    assert summarize_attack(scores, np.r_[np.ones(100, bool), np.zeros(100, bool)])['auc'] > 0.9


def test_evaluate_image_synthesizer_reports_every_figure():
    members, labels, others, other_labels = split_digits(64, seed=2)
    model = PrivImageSynthesizer(n_partitions=2, epochs=2, batch_size=32, generator_width=16,
                                 discriminator_width=16, classifier_width=8, latent_dim=16,
                                 keep_training_state=True, seed=0, enable_gpu=False)
    model.fit(members, labels)
    result = evaluate_image_synthesizer(model, members, labels, others[:128], other_labels[:128],
                                        n_synthetic=200, cnn_epochs=2)
    for key in ('white_box_critic_auc', 'white_box_classifier_auc', 'monte_carlo_auc',
                'white_box_critic_top_members_accuracy', 'downstream_accuracy',
                'downstream_accuracy_real', 'gauge_pixels_auc', 'gauge_blurred_auc', 'max_auc', 'p_value',
                'floor_max_auc', 'white_box_critic_auc_low', 'dcr_calibrated_auc',
                'leakage_detected'):
        assert 0 <= result[key] <= 1, key
    assert result['monte_carlo_top_members_chance'] == pytest.approx(64 / 192)
    assert all(isinstance(value, float) for value in result.values())  # the demo prints them


class _FakeImageModel:
    """Samples its training images back (a memoriser); its 'critic' ranks members *low*."""

    n_partitions = 1
    keep_training_state = True

    def __init__(self, members):
        self.members = members

    def sample(self, n):
        return self.members[np.arange(n) % len(self.members)]

    def get_white_box_scores(self, images, labels=None):
        keys = {image.tobytes() for image in self.members}
        seen = np.array([image.tobytes() in keys for image in images], dtype=float)
        noise = np.random.default_rng(0).normal(0, 0.3, len(images))
        return pd.DataFrame({'critic': -seen + noise, 'classifier': np.nan})


def test_images_go_through_the_table_verdict_and_white_box_scores_are_oriented():
    members, _, others, _ = split_digits(100, seed=3)
    model = _FakeImageModel(members)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # 100 per side: the wide-interval warning
        result, pool_scores = image_membership_inference(model, members, others[:400],
                                                         n_synthetic=300)
    assert isinstance(result, MembershipInferenceResult)
    assert 'white_box_critic' in result.oriented
    assert result.metrics['white_box_critic']['auc'] > 0.95  # flipped, as for tables
    # The same direction on the whole pool (unflipped, members would rank last: about 0).
    assert top_members_accuracy(pool_scores['white_box_critic'],
                                np.r_[np.ones(100, bool), np.zeros(400, bool)]) > 0.8
    verdict = result.get_verdict()
    assert verdict['leakage_detected'] and verdict['interval_excludes_floor']
    assert verdict['n_floor_rows'] == 150  # the 300 spare non-members, half of them
    assert abs(verdict['floor_max_auc'] - 0.5) < 0.15
    assert set(result.floor_scores) == {'dcr', 'dcr_calibrated', 'domias', 'classifier_ratio',
                                        'mc_ball_count'}
