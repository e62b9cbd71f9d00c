"""The component game every model shares.

The training rows are split at random into K disjoint partitions; component k of a model
(a generator with its own critic, or a VAE's encoder and decoder) only ever sees real rows
of partition k. A component classifier sees generated samples only and learns which
component made them; the generators are penalized when it succeeds
(``MembershipRegularizer``). What the models share lives here: partitions and their
weights, seeding, the step order, the epoch loop with one host synchronization per epoch,
the weight average, what is released after ``fit``, and sampling from the mixture.

A model plugs in through a small adapter (``ComponentModel``) that owns its networks and
its own losses; the game owns the order in which they are updated. Sharded over processes
(``sdv_privgan.distributed.Shard``), the adapter holds this process's components only and
the game's losses are this process's shares, summed over the processes once per epoch.
"""

import contextlib
import math

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from sdv_privgan.distributed import Shard
from sdv_privgan.losses import LOSS_COLUMNS
from sdv_privgan.regularizer import MembershipRegularizer, WeightAverage

#: Which argument most likely made each loss non-finite, for the error message.
_LIKELY_CAUSE = {
    'Generator Loss': 'generator_lr or privacy_weight',
    'Discriminator Loss': 'discriminator_lr',
    'Classifier Loss': 'classifier_lr',
    'JSD Estimate': 'classifier_lr or privacy_weight',
}


class TrainingDivergedError(FloatingPointError):
    """A loss became NaN or infinite: training stopped instead of going on silently."""


def partition_rows(num_rows, n_partitions, generator=None):
    """Assign each row to one of ``n_partitions`` disjoint parts at random.

    Sizes differ by at most one. Returns a ``LongTensor`` of shape ``(num_rows,)``.
    """
    if n_partitions < 1 or n_partitions > num_rows:
        raise ValueError(
            f'Cannot split {num_rows} rows into {n_partitions} partitions: '
            'n_partitions must be between 1 and the number of rows.'
        )
    order = torch.randperm(num_rows, generator=generator)
    labels = torch.empty(num_rows, dtype=torch.long)
    labels[order] = torch.arange(num_rows) % n_partitions
    return labels


def partition_weights(partitions, n_partitions):
    """The mixture weights ``pi_k = |D_k| / n``."""
    return torch.bincount(partitions, minlength=n_partitions).float() / len(partitions)


@contextlib.contextmanager
def seeded(seed, device=None):
    """Seed torch's and numpy's global generators for the block, then restore them.

    Everything a fit draws (partitions, initialization, batches, noise) goes through these
    two generators, so the same seed gives the same model on CPU. ``seed=None`` leaves
    the global state alone."""
    if seed is None:
        yield
        return
    device = torch.device(device or 'cpu')
    with torch.random.fork_rng(devices=[device] if device.type == 'cuda' else []):
        torch.manual_seed(seed)
        state = np.random.get_state()
        np.random.seed(seed % 2 ** 32)  # numpy's global generator takes 32 bits
        try:
            yield
        finally:
            np.random.set_state(state)


def derived_seed(*keys):
    """A seed in ``[0, 2**63)`` derived from integers (e.g. a fit's seed and a call count)."""
    return int(np.random.SeedSequence([int(key) for key in keys]).generate_state(
        1, np.uint64)[0] >> np.uint64(1))


class PartitionIndex:
    """The rows of each partition, padded into one ``(K, max_size)`` index table on the
    device, so that drawing rows of every partition is one gather with no host sync."""

    def __init__(self, partitions, n_partitions):
        order = torch.argsort(partitions, stable=True)
        self.sizes = torch.bincount(partitions, minlength=n_partitions)
        starts = torch.cumsum(self.sizes, 0) - self.sizes
        rank = torch.arange(len(partitions), device=partitions.device) - starts[partitions[order]]
        self.table = torch.zeros(n_partitions, int(self.sizes.max()), dtype=torch.long,
                                 device=partitions.device)
        self.table[partitions[order], rank] = order

    def draw(self, m, generator=None):
        """``(K, m)`` row indices, row k drawn uniformly from partition k."""
        u = torch.rand(self.table.shape[0], m, device=self.table.device, generator=generator)
        return self.table.gather(1, (u * self.sizes[:, None]).long())

    def shuffled(self):
        """``(K, min_size)`` row indices: a fresh random order of each partition (the
        one row by which partitions may differ in size is left out of that epoch)."""
        keys = torch.rand(self.table.shape, device=self.table.device)
        keys[torch.arange(self.table.shape[1], device=keys.device) >= self.sizes[:, None]] = 2
        order = torch.argsort(keys, dim=1)[:, :int(self.sizes.min())]
        return self.table.gather(1, order)


class ComponentModel:
    """What a model supplies to the game (its adapter). Tensors are ``(K, m, ...)``.

    Attributes:
        generator: the module holding the K generator components: what is averaged and
            released (a VAE's decoders).
        generator_optimizer: the optimizer of everything ``generator_loss`` trains.
        average_buffers: average floating-point buffers too (batch-norm statistics of
            networks that sample in eval mode).
        regularized: set by the game: whether ``generator_loss`` must return samples
            (there is a classifier; also when this process holds a single component).
    """

    generator = None
    generator_optimizer = None
    average_buffers = False
    has_critic = True
    regularized = True

    def steps_per_epoch(self, num_rows, batch_size):
        """Steps in one epoch (CTGAN's: one batch of rows per step, at least one)."""
        return max(num_rows // batch_size, 1)

    def classifier(self, n_classes):
        """A fresh component classifier: any module mapping a batch of classifier views
        to ``n_classes`` logits, one per component of the whole game (a sharded game's
        adapter holds fewer)."""
        raise NotImplementedError

    def critic_step(self, m):
        """The model's own updates that precede the generators' (a GAN's critics); returns
        a 0-d loss tensor, NaN when the model has none."""
        raise NotImplementedError

    def generator_loss(self, m):
        """``(loss, samples)``: the model's own loss for the generators (adversarial,
        conditional, reconstruction...) and ``m`` samples of each component, still in
        the graph, for the regularizer."""
        raise NotImplementedError

    def classifier_view(self, samples):
        """What the component classifier sees of ``samples``: ``(K, m', ...)``."""
        return samples

    def after_step(self):
        """Called after each generator update (e.g. to clamp a parameter)."""

    def release(self, keep_training_state):
        """Drop what holds an imprint of the training rows (critics, encoders, samplers),
        unless ``keep_training_state``."""


class ComponentGame:
    """The training game of K components on disjoint partitions plus the regularizer.

    Each step: the model's own critic updates; its generator loss on ``m`` fresh samples
    per component; one update of the component classifier on those samples (detached);
    the generators' update on their own loss plus the regularizer's term; the weight
    average. With one partition no classifier exists and the game is the model's own.

    With a ``shard`` holding some of the ``config.n_partitions`` components, ``model`` is
    the adapter of those; the model's own loss is weighted by their share so that each
    generator's gradient is the one a single process would compute, and the classifier
    is a replica kept identical on every process (see ``sdv_privgan.distributed``).
    """

    def __init__(self, model, config, weights, device, shard=None):
        self.model, self.config, self.device = model, config, torch.device(device)
        self.weights = weights.to(self.device)
        self.shard = shard or Shard(config.n_partitions, device=self.device)
        self.regularizer = None
        if config.n_partitions > 1:
            whole = self.shard.world_size == 1
            classifier = model.classifier(config.n_partitions)
            self.regularizer = MembershipRegularizer(
                self.shard.broadcast_module(classifier.to(self.device)), config.n_partitions,
                self.weights, weight=config.privacy_weight, form=config.privacy_loss,
                lr=config.classifier_lr, classifier_steps=config.classifier_steps,
                replay_size=config.replay_size, components=self.shard.ids,
                reduce_gradients=None if whole else self.shard.reduce_gradients,
            ).to(self.device)
        model.regularized = self.regularizer is not None
        self.average = None
        if config.ema_decay:
            self.average = WeightAverage(model.generator, config.ema_decay,
                                         buffers=model.average_buffers)

    def step(self, m, regularize=True):
        """One step; returns the four losses of ``LOSS_COLUMNS`` (this process's shares)
        as one device tensor."""
        model, nan = self.model, torch.full((), math.nan, device=self.device)
        share = self.shard.share
        loss_d = model.critic_step(m) * share
        loss_g, samples = model.generator_loss(m)
        loss_g = loss_g * share
        loss_c = jsd = nan
        if self.regularizer is not None:
            view = model.classifier_view(samples)
            loss_c, jsd = self.regularizer.step(view)
            if regularize:
                loss_g = loss_g + self.regularizer.generator_loss(view)
        model.generator_optimizer.zero_grad(set_to_none=True)
        loss_g.backward()
        model.generator_optimizer.step()
        model.after_step()
        if self.average is not None:
            self.average.update()
        return torch.stack([loss_g.detach(), loss_d.detach(), loss_c, jsd]).float()

    def fit(self, steps_per_epoch, m=None):
        """Train for ``config.epochs`` epochs; returns the per-epoch mean losses.

        The losses stay on the device until an epoch ends: one host synchronization per
        epoch (and one sum over the processes), which is also where a non-finite loss
        stops training."""
        config, shard = self.config, self.shard
        m = m or config.component_batch
        steps_per_epoch = shard.smallest(steps_per_epoch)  # every process steps together
        records = []
        epochs = tqdm(range(config.epochs), disable=not config.verbose, desc='Fitting')
        for epoch in epochs:
            regularize = epoch >= config.warmup_epochs
            totals = sum(self.step(m, regularize) for _ in range(steps_per_epoch))
            values = (shard.sum(totals) / steps_per_epoch).tolist()
            self._check_finite(epoch, values)
            records.append([epoch] + values)
            if config.verbose:
                epochs.set_postfix_str(_progress(values))
        return pd.DataFrame(records, columns=LOSS_COLUMNS)

    def _check_finite(self, epoch, values):
        skipped = set() if self.model.has_critic else {'Discriminator Loss'}
        if self.regularizer is None:
            skipped |= {'Classifier Loss', 'JSD Estimate'}
        for name, value in zip(LOSS_COLUMNS[1:], values):
            if name not in skipped and not math.isfinite(value):
                raise TrainingDivergedError(
                    f'Training diverged at epoch {epoch}: the {name.lower()} is {value}. '
                    f'The likely cause is too large a {_LIKELY_CAUSE[name]}; lower it and '
                    'fit again.')

    def release(self):
        """The released generators (their weight average when there is one); the
        classifier and the model's training state are dropped unless asked to keep them."""
        generator = self.model.generator
        if self.average is not None:
            generator = self.average.module.requires_grad_(True)
        self.model.generator = generator
        keep = self.config.keep_training_state
        self.model.release(keep)
        if not keep:
            self.regularizer = None
        elif self.regularizer is not None:
            self.regularizer.reset_replay()
        self.model.generator_optimizer = self.average = None
        return generator


def _progress(values):
    generator, critic, _, jsd = values
    text = f'gen={generator:+.2f}'
    if not math.isnan(critic):
        text += f' critic={critic:+.2f}'
    if not math.isnan(jsd):
        text += f' jsd={jsd:.3f}'
    return text


def sample_components(generate, n_per_component, chunk):
    """``n_per_component`` samples of every component, ``(K, n, ...)``, on the host.

    ``generate(m)`` returns ``m`` samples of each component ``(K, m, ...)``; it is called
    with ``chunk`` at a time (models whose batch norm uses batch statistics when sampling
    need whole batches)."""
    pools, done = [], 0
    while done < n_per_component:
        pools.append(generate(chunk).cpu())
        done += pools[-1].shape[1]
    return torch.cat(pools, dim=1)[:, :n_per_component]


def sample_mixture(generate, weights, n, chunk, generator=None):
    """``n`` samples of the mixture and the component of each: components are drawn with
    the weights ``pi``, every component's samples are generated in whole chunks."""
    k = len(weights)
    components = torch.multinomial(weights.cpu().float(), n, replacement=True,
                                   generator=generator)
    counts = torch.bincount(components, minlength=k)
    pool = sample_components(generate, int(counts.max()), chunk)
    return pool[components, rank_within(components, counts)], components


def rank_within(components, counts):
    """The rank of each entry among the entries of its component (0, 1, ... per component)."""
    order = torch.argsort(components, stable=True)
    starts = torch.cumsum(counts, 0) - counts
    rank = torch.empty_like(components)
    rank[order] = torch.arange(len(components)) - starts[components[order]]
    return rank
