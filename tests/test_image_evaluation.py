"""Image evaluation: privGAN's top-members figure, downstream accuracy, the full evaluation."""

import numpy as np
import pytest
import torch

from sdv_privgan.image import PrivImageSynthesizer
from sdv_privgan.image.demo import split_digits
from sdv_privgan.image.evaluation import (
    downstream_accuracy, evaluate_image_synthesizer, monte_carlo_scores, summarize_attack,
    top_members_accuracy)

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
                'downstream_accuracy_real', 'distinguishability_auc'):
        assert 0 <= result[key] <= 1, key
    assert result['monte_carlo_top_members_chance'] == pytest.approx(64 / 192)
