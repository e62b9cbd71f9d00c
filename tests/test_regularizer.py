import math

import numpy as np
import pytest
import torch
from torch import nn

from sdv_privgan.evaluation.distinguishability import component_distinguishability
from sdv_privgan.game import partition_rows
from sdv_privgan.regularizer import (
    MembershipRegularizer, WeightAverage, entropy, jsd_estimate, mlp_classifier)


def test_partitions_are_disjoint_balanced_and_seeded():
    labels = partition_rows(103, 4, torch.Generator().manual_seed(1))
    assert labels.shape == (103,)
    counts = torch.bincount(labels, minlength=4)
    assert counts.max() - counts.min() <= 1 and counts.sum() == 103
    again = partition_rows(103, 4, torch.Generator().manual_seed(1))
    assert torch.equal(labels, again)
    assert not torch.equal(labels, partition_rows(103, 4, torch.Generator().manual_seed(2)))


@pytest.mark.parametrize('k', [0, 11])
def test_partitions_reject_impossible_counts(k):
    with pytest.raises(ValueError, match='n_partitions'):
        partition_rows(10, k)


def _gaussian_jsd(mu, n=400_000, seed=0):
    """Monte-Carlo JSD (nats) between N(-mu, 1) and N(mu, 1), equal weights."""
    rng = np.random.default_rng(seed)
    x = rng.normal(mu, 1, n)  # by symmetry E_p1 term equals E_p0 term
    log_p1 = -0.5 * (x - mu) ** 2
    log_m = np.logaddexp(log_p1, -0.5 * (x + mu) ** 2) - math.log(2)
    return float(np.mean(log_p1 - log_m))


@pytest.mark.parametrize('mu', [0.0, 0.5, 1.5])
def test_jsd_estimate_with_bayes_optimal_classifier_matches_closed_form(mu):
    # The Bayes-optimal classifier for N(-mu,1) vs N(mu,1) has logit 2*mu*x.
    torch.manual_seed(0)
    x = torch.cat([torch.randn(100_000) - mu, torch.randn(100_000) + mu])
    labels = torch.cat([torch.zeros(100_000), torch.ones(100_000)]).long()
    logits = torch.stack([-mu * x, mu * x], dim=1)
    estimate = float(jsd_estimate(torch.log_softmax(logits, 1), labels, [0.5, 0.5]))
    assert estimate == pytest.approx(_gaussian_jsd(mu), abs=0.01)


def test_jsd_estimate_for_categoricals_with_unequal_weights():
    # Components over 3 categories with weights 0.25 / 0.75; the Bayes classifier is
    # p(k|x) = pi_k p_k(x) / sum_j pi_j p_j(x), and the bound is exactly JSD_pi.
    p = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    pi = torch.tensor([0.25, 0.75])
    mixture = (pi[:, None] * p).sum(0)
    jsd = float(sum(pi[k] * (p[k] * (p[k] / mixture).log()).sum() for k in range(2)))
    posterior = (pi[:, None] * p / mixture).T.log()  # (category, component)
    n = 200_000
    gen = torch.Generator().manual_seed(0)
    labels = (torch.rand(n, generator=gen) < pi[1]).long()
    categories = torch.where(labels == 0, torch.multinomial(p[0], n, True, generator=gen),
                             torch.multinomial(p[1], n, True, generator=gen))
    estimate = float(jsd_estimate(posterior[categories], labels, pi))
    assert estimate == pytest.approx(jsd, abs=0.01)
    assert entropy(pi) == pytest.approx(-(0.25 * math.log(0.25) + 0.75 * math.log(0.75)))


def _regularizer(form='uniform', **kwargs):
    torch.manual_seed(0)
    return MembershipRegularizer(mlp_classifier(2, 2, (32,)), 2, form=form, lr=1e-2, **kwargs)


def test_classifier_learns_separable_components_and_estimate_approaches_log_k():
    regularizer = _regularizer()
    first = None
    for _ in range(200):
        samples = torch.stack([torch.randn(64, 2) - 3, torch.randn(64, 2) + 3])
        loss, jsd = regularizer.step(samples)
        first = float(jsd) if first is None else first
    fresh = torch.stack([torch.randn(500, 2) - 3, torch.randn(500, 2) + 3])
    jsd, accuracy = regularizer.estimate(fresh)
    assert accuracy > 0.99
    assert jsd > 0.6 > first  # log 2 = 0.693 is the ceiling
    # Identical components: the estimate stays near 0 whatever the classifier does.
    same = torch.randn(2, 500, 2)
    assert regularizer.estimate(same)[0] < 0.1


@pytest.mark.parametrize('form', ['uniform', 'jsd'])
def test_generator_loss_pushes_components_together(form):
    # Two learnable shifts play the generators; the classifier plays against them.
    regularizer = _regularizer(form=form)
    shifts = nn.Parameter(torch.tensor([[-2.0, 0.0], [2.0, 0.0]]))
    optimizer = torch.optim.Adam([shifts], lr=0.05)
    for _ in range(400):
        samples = torch.randn(2, 64, 2) + shifts[:, None]
        regularizer.step(samples)
        loss = regularizer.generator_loss(samples)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert float((shifts[0] - shifts[1]).detach().norm()) < 1.0  # started 4.0 apart


def test_generator_loss_values_and_zero_weight():
    regularizer = _regularizer()
    samples = torch.randn(2, 16, 2)
    # Uniform form: cross-entropy against uniform is at least log K.
    assert float(regularizer.generator_loss(samples)) >= math.log(2) - 1e-6
    regularizer.weight = 0.0
    assert float(regularizer.generator_loss(samples)) == 0.0


def test_replay_buffer_keeps_earlier_samples():
    regularizer = _regularizer(replay_size=8)
    regularizer.step(torch.full((2, 4, 2), 5.0))
    regularizer.step(torch.zeros(2, 4, 2))
    stored = regularizer._replay
    assert stored.shape == (2, 8, 2)
    assert (stored == 5.0).all(dim=-1).sum() == 8  # both batches are in the buffer


def test_distinguishability_separates_and_confuses():
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 1000)
    same = rng.normal(size=(2000, 3))
    different = same + labels[:, None] * 2.0
    confused = component_distinguishability(same, labels)
    separated = component_distinguishability(different, labels)
    assert abs(confused['auc'] - 0.5) < 0.07 and confused['jsd'] < 0.05
    assert separated['auc'] > 0.9 and separated['accuracy'] > 0.8
    assert separated['jsd'] > 0.3 and separated['max_jsd'] == pytest.approx(math.log(2))


def test_weight_average_follows_the_warmed_up_recursion_and_owns_its_weights():
    network = nn.Linear(3, 1)
    average = WeightAverage(network, decay=0.9)
    expected = network.weight.detach().clone()
    for t in range(1, 200):
        with torch.no_grad():
            network.weight.fill_(float(t))
        average.update()
        decay = min(0.9, (1 + t) / (10 + t))
        expected = decay * expected + (1 - decay) * float(t)
        assert torch.allclose(average.module.weight, expected)
    # The first updates follow the network closely; later ones lag by ~decay/(1-decay).
    assert float(network.weight[0, 0]) - float(average.module.weight[0, 0]) == \
        pytest.approx(9.0, abs=0.5)
    assert not average.module.weight.requires_grad


def test_weight_average_of_batch_norm_statistics_only_when_asked():
    network = nn.BatchNorm1d(2)
    with_buffers = WeightAverage(network, decay=0.5, buffers=True)
    without = WeightAverage(network, decay=0.5)
    with torch.no_grad():
        network.running_mean.fill_(4.0)
        network.weight.fill_(3.0)
    for average in (with_buffers, without):
        average.update()
    decay = 2 / 11  # the first, warmed-up update
    assert torch.allclose(with_buffers.module.running_mean, torch.full((2,), 4 * (1 - decay)))
    assert torch.equal(without.module.running_mean, torch.zeros(2))
    for average in (with_buffers, without):
        assert torch.allclose(average.module.weight, torch.full((2,), 1 + 2 * (1 - decay)))
    assert int(with_buffers.module.num_batches_tracked) == 0  # integer buffers are left alone
