"""The membership regularizer: partitions, component classifier, its losses, the JSD gauge.

K generator components are trained on disjoint partitions of the training rows. A
component classifier ``C`` sees generated samples only and learns which component made
them; the generators are penalized when it succeeds. At the classifier's optimum

    max_C  sum_k pi_k E_{x~p_k}[log C_k(x)]  =  JSD_pi(p_1, ..., p_K) - H(pi)
                                             =  I(k; x) - H(pi),

so ``H(pi) + mean log C_k(x_k)`` on samples the classifier did not train on estimates the
generalized Jensen-Shannon divergence between the components, in nats (0: the
components are indistinguishable; log K: fully separable). ``docs/method.md`` has the
derivation. This module knows nothing of tables or images: it takes the samples of each
component as one tensor whose first axis is the component.
"""

import copy

import torch
from torch import nn
from torch.nn import functional

from sdv_privgan.components import adam
from sdv_privgan.config import PRIVACY_LOSSES as FORMS


def entropy(weights):
    """Shannon entropy, in nats, of a probability vector."""
    weights = torch.as_tensor(weights, dtype=torch.float64)
    weights = weights[weights > 0]
    return float(-(weights * weights.log()).sum())


def jsd_estimate(log_probs, labels, weights):
    """``H(pi) + mean log C_k(x)``: the classifier's lower bound on JSD_pi, in nats.

    ``log_probs`` are the classifier's log-probabilities ``(n, K)`` on samples it did not
    train on, ``labels`` the component of each sample, ``weights`` the mixture weights
    ``pi``. Samples must be drawn from each component in proportion to ``pi``.
    Returns a 0-d tensor on the samples' device (no host synchronization).
    """
    return entropy(weights) + log_probs.gather(1, labels[:, None]).mean()


def mlp_classifier(input_dim, n_partitions, hidden=(256, 256), dropout=0.0):
    """A plain MLP classifier ``input_dim -> n_partitions`` logits."""
    layers, dim = [], input_dim
    for width in hidden:
        layers += [nn.Linear(dim, width), nn.LeakyReLU(0.2)]
        if dropout:
            layers.append(nn.Dropout(dropout))
        dim = width
    layers.append(nn.Linear(dim, n_partitions))
    return nn.Sequential(*layers)


class MembershipRegularizer(nn.Module):
    """Membership regularizer for K generator components.

    Wraps a component classifier (any module mapping a batch of samples to ``K`` logits)
    with its optimizer, and gives a GAN loop three calls:

    - ``step(samples)``: update the classifier on generated samples, shaped
      ``(K, m, *sample_shape)`` (``m`` samples of each component, detached). Returns the
      classifier loss and the JSD estimate measured before the update.
    - ``generator_loss(samples)``: the term to add to the generators' loss, scaled by
      ``weight``. ``form='jsd'`` is ``mean log C_k(x_k)``, the JSD term of the min-max
      objective, unbounded below when the classifier is not optimal; ``form='uniform'``
      is the cross-entropy of the classifier's output against the mixture weights
      (bounded below, minimal when the classifier cannot tell the components apart).
    - ``estimate(samples)``: the JSD estimate on fresh samples, without any update.

    Sharded over processes (``sdv_privgan.distributed``), each replica is given the
    samples of some components only: ``components`` are their indices (all by default),
    the losses and the estimate it returns are its share of the whole (they sum to the
    whole over the replicas), and ``reduce_gradients(parameters)``, called after each
    backward pass of the classifier, sums its gradients over the replicas.

    More ``classifier_steps`` per call of ``step`` and a replay buffer of earlier
    samples (``replay_size`` per component) keep the classifier from forgetting regions
    the generators moved away from, which is what makes the naive game cycle. Releasing
    the generators' weight average (``WeightAverage``) damps the cycling at no cost; with
    it one classifier step suffices on tables (``benchmarks/distinguishability.py``),
    while the replay buffer is what lowered the membership attacks with small
    per-component batches (``benchmarks/privacy_utility.py``).
    """

    def __init__(self, classifier, n_partitions, weights=None, weight=1.0, form='jsd',
                 lr=1e-3, betas=(0.5, 0.9), weight_decay=1e-6, classifier_steps=1,
                 replay_size=0, components=None, reduce_gradients=None):
        super().__init__()
        if form not in FORMS:
            raise ValueError(f"Invalid value '{form}' for form. Use one of {FORMS}.")
        self.classifier = classifier
        self.n_partitions = n_partitions
        weights = torch.full((n_partitions,), 1.0 / n_partitions) if weights is None else weights
        self.register_buffer('weights', torch.as_tensor(weights, dtype=torch.float32))
        components = torch.arange(n_partitions) if components is None else components
        self.register_buffer('components', torch.as_tensor(components, dtype=torch.long))
        self.share = len(self.components) / n_partitions
        self.reduce_gradients = reduce_gradients
        self.prior_entropy = entropy(self.weights)
        self.weight = weight
        self.form = form
        self.classifier_steps = classifier_steps
        self.replay_size = replay_size
        self.optimizer = adam(classifier, lr, betas, weight_decay)
        self._replay = None
        self._replay_filled = 0

    def _flatten(self, samples):
        labels = self.components.repeat_interleave(samples.shape[1])
        return samples.flatten(0, 1), labels

    def log_probs(self, samples):
        """Classifier log-probabilities ``(K * m, K)`` and the true component labels."""
        flat, labels = self._flatten(samples)
        return functional.log_softmax(self.classifier(flat), dim=1), labels

    @torch.no_grad()
    def estimate(self, samples):
        """The JSD estimate (nats) and classifier accuracy on ``(K, m, ...)`` samples."""
        was_training = self.classifier.training
        self.classifier.eval()
        log_probs, labels = self.log_probs(samples)
        self.classifier.train(was_training)
        accuracy = float((log_probs.argmax(1) == labels).float().mean())
        return float(self._jsd(log_probs, labels)), accuracy

    def _jsd(self, log_probs, labels):
        return self.prior_entropy + log_probs.gather(1, labels[:, None]).mean()

    def _remember(self, samples):
        if not self.replay_size:
            return samples
        if self._replay is None:
            self._replay = samples.new_empty((samples.shape[0], self.replay_size,
                                              *samples.shape[2:]))
        m = samples.shape[1]
        slots = (torch.arange(m, device=samples.device) + self._replay_filled) % self.replay_size
        self._replay[:, slots] = samples
        self._replay_filled += m
        stored = min(self._replay_filled, self.replay_size)
        picked = torch.randint(stored, (m,), device=samples.device)
        return torch.cat([samples, self._replay[:, picked]], dim=1)

    def step(self, samples):
        """Train the classifier on detached ``(K, m, ...)`` samples.

        Returns the last classifier loss and the JSD estimate on ``samples`` measured
        before the update (this replica's shares), both as 0-d tensors (no host
        synchronization)."""
        samples = samples.detach()
        m = samples.shape[1]
        batch = self._remember(samples)  # the fresh samples first in each component's rows
        for step in range(self.classifier_steps):
            log_probs, labels = self.log_probs(batch)
            if step == 0:  # before any update: the estimate on the fresh samples
                own = log_probs.detach().gather(1, labels[:, None])
                own = own.view(len(self.components), -1)
                jsd = (self.prior_entropy + own[:, :m].mean()) * self.share
            loss = functional.nll_loss(log_probs, labels) * self.share
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if self.reduce_gradients is not None:
                self.reduce_gradients(self.classifier.parameters())
            self.optimizer.step()
        return loss.detach(), jsd

    def generator_loss(self, samples):
        """The regularization term for the generators, already scaled by ``weight`` (this
        replica's share of it)."""
        if self.weight == 0:
            return samples.new_zeros(())
        log_probs, labels = self.log_probs(samples)
        if self.form == 'jsd':
            term = log_probs.gather(1, labels[:, None]).mean()
        else:
            term = -(log_probs * self.weights[None]).sum(1).mean()
        return self.weight * term * self.share

    def reset_replay(self):
        self._replay, self._replay_filled = None, 0


class WeightAverage:
    """An exponential moving average of a network's weights: what the model releases.

    The generators and the component classifier play a min-max game that cycles: each
    generator keeps dodging the current classifier, so its last weights sit wherever the
    dodge left them. The average of the iterates of such a game moves far less than the
    iterates do, which is why averaging is the standard remedy for cycling min-max
    games. Call ``update`` after every optimizer step of the averaged network (whose
    tensors are updated in place); ``module`` holds the average. The
    ``t``-th update uses the decay ``min(decay, (1 + t) / (10 + t))`` so that a short fit
    is not pulled back to the initial weights. With ``buffers=True`` the floating-point
    buffers (batch-norm running statistics) are averaged too, for networks that sample
    in eval mode; otherwise they are left as copied.
    """

    def __init__(self, module, decay, buffers=False):
        self.module = copy.deepcopy(module).requires_grad_(False)
        self.decay, self.updates = decay, 0
        self._source = _tensors(module, buffers)
        self._average = _tensors(self.module, buffers)

    @torch.no_grad()
    def update(self):
        self.updates += 1
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        torch._foreach_lerp_(self._average, self._source, 1 - decay)


def _tensors(module, buffers):
    """A module's parameters (detached views) and, if asked, its float buffers."""
    tensors = [p.detach() for p in module.parameters()]
    if buffers:
        tensors += [b for b in module.buffers() if b.is_floating_point()]
    return tensors
