"""PrivCTGAN: CTGAN with K generator components and the membership regularizer.

The architecture is CTGAN's (residual generator, PacGAN critic with WGAN-GP, conditional
vectors with training-by-sampling, Gumbel-softmax outputs) and ``ctgan``'s own data
transformer. Component ``k`` and critic ``k`` only ever see real rows of partition ``k``;
the component classifier sees generated rows only. With one partition and
``privacy_weight=0`` the objective is exactly CTGAN's.
"""

import numpy as np
import pandas as pd
import torch
from ctgan.data_transformer import DataTransformer
from ctgan.synthesizers._utils import _format_score, _set_device
from ctgan.synthesizers.base import BaseSynthesizer, random_state, set_random_states
from tqdm import tqdm

from sdv_privgan.components import BatchedCritic, BatchedGenerator, adam
from sdv_privgan.losses import LOSS_COLUMNS
from sdv_privgan.regularizer import (
    MembershipRegularizer, WeightAverage, component_distinguishability, mlp_classifier,
    partition_rows)
from sdv_privgan.tabular.layout import DataLayout
from sdv_privgan.tabular.sampler import PartitionSampler



class PrivCTGAN(BaseSynthesizer):
    """The model behind ``PrivCTGANSynthesizer``; works on a DataFrame of any dtypes that
    ``ctgan``'s ``DataTransformer`` accepts (no nulls in continuous columns)."""

    def __init__(self, embedding_dim=128, generator_dim=(256, 256),
                 discriminator_dim=(256, 256), generator_lr=2e-4, generator_decay=1e-6,
                 discriminator_lr=2e-4, discriminator_decay=1e-6, batch_size=500,
                 discriminator_steps=1, log_frequency=True, verbose=False, epochs=300, pac=10,
                 n_partitions=2, privacy_weight=1.0, privacy_loss='jsd',
                 classifier_dim=(256, 256), classifier_lr=1e-3, classifier_steps=1,
                 classifier_pac=1, replay_size=500, ema_decay=0.995, keep_training_state=False,
                 device='cpu', seed=None):
        self.embedding_dim, self.generator_dim = embedding_dim, tuple(generator_dim)
        self.discriminator_dim, self.classifier_dim = tuple(discriminator_dim), tuple(classifier_dim)
        self.generator_lr, self.generator_decay = generator_lr, generator_decay
        self.discriminator_lr, self.discriminator_decay = discriminator_lr, discriminator_decay
        self.batch_size, self.discriminator_steps = batch_size, discriminator_steps
        self.log_frequency, self.verbose, self.epochs, self.pac = log_frequency, verbose, epochs, pac
        self.n_partitions, self.privacy_weight = n_partitions, privacy_weight
        self.privacy_loss, self.classifier_lr = privacy_loss, classifier_lr
        self.classifier_steps, self.replay_size = classifier_steps, replay_size
        self.classifier_pac, self.ema_decay = classifier_pac, ema_decay
        self.keep_training_state, self.seed = keep_training_state, seed
        self._device = torch.device(device)
        self._transformer = self._layout = self._generator = None
        self._critic = self._regularizer = self._partition_weights = self._cond_probs = None
        self.loss_values = None

    # ------------------------------------------------------------------ training
    def fit(self, train_data, discrete_columns=()):
        """Fit on a DataFrame; ``discrete_columns`` as in ``ctgan.CTGAN.fit``."""
        if self.seed is None:
            return self._fit(train_data, discrete_columns)
        seeded = (np.random.RandomState(self.seed), torch.Generator().manual_seed(self.seed))
        with set_random_states(seeded, lambda state: None):
            return self._fit(train_data, discrete_columns)

    def _fit(self, train_data, discrete_columns):
        self._transformer = DataTransformer()
        self._transformer.fit(train_data, discrete_columns)
        data = torch.as_tensor(self._transformer.transform(train_data), dtype=torch.float32,
                               device=self._device)
        layout = self._layout = DataLayout(self._transformer).to(self._device)
        k = self.n_partitions
        partitions = partition_rows(len(data), k).to(self._device)
        self._partition_weights = torch.bincount(partitions, minlength=k).float() / len(data)
        sampler = PartitionSampler(data, partitions, layout, self.log_frequency)
        self._cond_probs = sampler.release_probabilities()

        cond_dim = layout.n_categories
        self._generator = BatchedGenerator(
            k, self.embedding_dim + cond_dim, self.generator_dim, layout.data_dim).to(self._device)
        critic = BatchedCritic(
            k, layout.data_dim + cond_dim, self.discriminator_dim, self.pac).to(self._device)
        regularizer = None
        if k > 1:
            classifier = mlp_classifier(
                layout.feature_dim * self.classifier_pac, k, self.classifier_dim)
            regularizer = MembershipRegularizer(
                classifier, k, self._partition_weights, weight=self.privacy_weight,
                form=self.privacy_loss, lr=self.classifier_lr,
                classifier_steps=self.classifier_steps, replay_size=self.replay_size,
            ).to(self._device)
        optimizer_g = adam(self._generator, self.generator_lr, weight_decay=self.generator_decay)
        optimizer_d = adam(critic, self.discriminator_lr, weight_decay=self.discriminator_decay)
        average = WeightAverage(self._generator, self.ema_decay) if self.ema_decay else None

        m = self.batch_size // k
        steps = max(len(data) // self.batch_size, 1)
        records = []
        epochs = tqdm(range(self.epochs), disable=not self.verbose)
        for epoch in epochs:
            totals = torch.zeros(4, device=self._device)
            for _ in range(steps):
                for _ in range(self.discriminator_steps):
                    loss_d = self._critic_step(sampler, critic, optimizer_d, m)
                loss_g, loss_c, jsd = self._generator_step(
                    sampler, critic, regularizer, optimizer_g, m)
                if average is not None:
                    average.update()
                totals += torch.stack([loss_g, loss_d, loss_c, jsd])
            # One host sync per epoch: the means over the epoch's steps.
            values = (totals / steps).tolist()
            records.append([epoch] + values)
            if self.verbose:
                epochs.set_description(
                    f'Gen. ({_format_score(values[0])}) | Discrim. ({_format_score(values[1])})'
                    + (f' | JSD ({values[3]:.3f} nats)' if k > 1 else ''))
        self.loss_values = pd.DataFrame(records, columns=LOSS_COLUMNS)
        if k == 1:
            self.loss_values[['Classifier Loss', 'JSD Estimate']] = np.nan
        if average is not None:
            self._generator = average.module.requires_grad_(True)
        if self.keep_training_state:
            self._critic, self._regularizer = critic, regularizer
            if regularizer is not None:
                regularizer.reset_replay()
        return self

    def _generate(self, cond, n):
        """Generator logits and activated rows ``(K, n, data_dim)`` for one condition batch
        ``cond`` (``(K, n, C)`` or ``(n, C)`` shared by all components, or None)."""
        k = self.n_partitions
        noise = torch.randn(k, n, self.embedding_dim, device=self._device)
        if cond is not None:
            cond = cond.expand(k, n, cond.shape[-1])
            noise = torch.cat([noise, cond], dim=2)
        logits = self._generator(noise)
        return logits, self._layout.activate(logits)

    def _critic_step(self, sampler, critic, optimizer, m):
        cond, real, real_cond = sampler.critic_batch(m)
        with torch.no_grad():
            _, fake = self._generate(cond, m)
        if cond is not None:
            fake, real = torch.cat([fake, cond], dim=2), torch.cat([real, real_cond], dim=2)
        penalty = critic.gradient_penalty(real, fake)
        loss = critic(fake).mean() - critic(real).mean()
        optimizer.zero_grad(set_to_none=True)
        (penalty + loss).backward()
        optimizer.step()
        return loss.detach()

    def _generator_step(self, sampler, critic, regularizer, optimizer, m):
        cond, column, category = sampler.generator_conditions(m)
        logits, fake = self._generate(cond, m)
        k = self.n_partitions
        if cond is None:
            loss = -critic(fake).mean()
        else:
            loss = -critic(torch.cat([fake, cond.expand(k, m, -1)], dim=2)).mean()
            loss = loss + self._layout.condition_loss(
                logits, column.expand(k, m), category.expand(k, m))
        loss_c = jsd = torch.zeros((), device=self._device)
        if regularizer is not None:
            groups = self._classifier_input(fake)
            loss_c, jsd = regularizer.step(groups)
            loss = loss + regularizer.generator_loss(groups)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.detach(), loss_c, jsd

    def _classifier_input(self, rows):
        """Data-space features of ``(K, m, data_dim)`` rows, in groups of
        ``classifier_pac`` rows of one component."""
        features = self._layout.features(rows)
        k, m, f = features.shape
        return features.reshape(k, m // self.classifier_pac, self.classifier_pac * f)

    # ------------------------------------------------------------------ sampling
    @torch.no_grad()
    def _sample_activated(self, n, category_index=None, hard=True):
        """``n`` activated rows drawn from the mixture, and the component of each.

        The component of each row is drawn with weights ``pi``; every generator call
        evaluates all K components on a per-component batch as in training (batch norm
        uses batch statistics, as in CTGAN)."""
        k, m = self.n_partitions, max(self.batch_size // self.n_partitions, 2)
        components = torch.multinomial(self._partition_weights.cpu(), n, replacement=True)
        needed = int(torch.bincount(components, minlength=k).max())
        pools = []
        for _ in range(-(-needed // m)):
            cond = self._conditions(m, category_index)
            logits, _ = self._generate(cond, m)
            pools.append(self._layout.activate(logits, hard=hard))
        pool = torch.cat(pools, dim=1).cpu()
        rank = torch.zeros(n, dtype=torch.long)
        order = torch.argsort(components, stable=True)
        counts = torch.bincount(components, minlength=k)
        starts = torch.cumsum(counts, 0) - counts
        rank[order] = torch.arange(n) - starts[components[order]]
        return pool[components, rank], components

    def _conditions(self, m, category_index):
        if self._cond_probs is None:
            return None
        if category_index is None:
            index = torch.multinomial(self._cond_probs, m, replacement=True)
        else:
            index = torch.full((m,), category_index, device=self._device)
        return torch.nn.functional.one_hot(index, self._layout.n_categories).float()

    @random_state
    def sample(self, n, condition_column=None, condition_value=None, conditions=None):
        """``n`` rows. Discrete conditions (``condition_column`` / ``condition_value`` as
        in ctgan, or a ``{column: value}`` dict) are met exactly: the rarest one is fed
        to the generators' conditional vector, and every conditioned column is set to
        its value. Conditions on other columns are ignored here."""
        conditions = dict(conditions or {})
        if condition_column is not None and condition_value is not None:
            conditions[condition_column] = condition_value
        fixed = self._discrete_conditions(conditions)
        offsets = self._layout.category_offsets.tolist()
        rarest = min((offsets[column] + value for column, value in fixed),
                     key=lambda index: float(self._cond_probs[index]), default=None)
        rows, _ = self._sample_activated(n, rarest, hard=False)
        for column, value in fixed:
            span = self._layout.discrete_index[column][self._layout.discrete_mask[column]].cpu()
            rows[:, span] = 0.0
            rows[:, span[value]] = 1.0
        return self._transformer.inverse_transform(rows.numpy())

    def _discrete_conditions(self, conditions):
        """``(discrete column, category)`` of each discrete condition the model knows;
        values it never saw are left to the caller's reject sampling."""
        pairs = []
        for info in self._transformer._column_transform_info_list:
            if info.column_type != 'discrete' or info.column_name not in conditions:
                continue
            try:
                ids = self._transformer.convert_column_name_value_to_id(
                    info.column_name, conditions[info.column_name])
            except ValueError:
                continue
            pairs.append((int(ids['discrete_column_id']), int(ids['value_id'])))
        return pairs

    @random_state
    def component_distinguishability(self, num_rows_per_component=2000):
        """Train a fresh classifier to tell the components' rows apart (held-out AUC,
        accuracy, JSD in nats): the post-hoc privacy gauge. See ``regularizer``."""
        if self.n_partitions < 2:
            raise ValueError('Distinguishability needs at least two components.')
        k = self.n_partitions
        rows, components = self._sample_activated(num_rows_per_component * k)
        features = self._layout.features(rows.to(self._device)).cpu().numpy()
        return component_distinguishability(features, components.numpy(),
                                            self._partition_weights.cpu().numpy())

    # ------------------------------------------------------------------ white box
    @torch.no_grad()
    def white_box_scores(self, data):
        """Membership scores from the kept critics and classifier (higher = member).

        ``critic``: the highest partition critic's score (LOGAN). ``critic_contrast``
        (K > 1): how far one critic departs from the others, ``max_k |D_k - mean_j D_j|``;
        a row of partition ``k`` was seen by critic ``k`` alone, whichever way that moved
        its score. ``classifier``: the component classifier's highest probability.
        """
        if self._critic is None:
            raise ValueError('White-box scores need the training state: fit with '
                             'keep_training_state=True.')
        x = torch.as_tensor(self._fixed_transform(data), dtype=torch.float32,
                            device=self._device)
        scores = self._critic_scores(x)
        result = {'critic': scores.max(0).values}
        k = self.n_partitions
        if k > 1:
            others = (scores.sum(0, keepdim=True) - scores) / (k - 1)
            result['critic_contrast'] = (scores - others).abs().max(0).values
        if self._regularizer is not None:
            features = self._layout.features(x).repeat(1, self.classifier_pac)
            probs = torch.softmax(self._regularizer.classifier.eval()(features), dim=1)
            self._regularizer.classifier.train()
            result['classifier'] = probs.max(1).values
        return pd.DataFrame({name: value.cpu().numpy() for name, value in result.items()},
                            index=data.index)

    def _fixed_transform(self, data):
        """Encode rows as in training, but with a fixed draw of each value's Gaussian mode
        (rdt's encoders keep their own random state), so the same rows always get the
        same scores and the transformers' state is left as it was."""
        encoders = [info.transform for info in self._transformer._column_transform_info_list
                    if info.column_type == 'continuous']
        saved = [encoder.random_states['transform'] for encoder in encoders]
        for encoder in encoders:
            encoder.random_states['transform'] = np.random.RandomState(0)
        try:
            return self._transformer.transform(data)
        finally:
            for encoder, state in zip(encoders, saved):
                encoder.random_states['transform'] = state

    def _critic_scores(self, x):
        """Every critic's score ``(K, n)`` of each row, shown as a pac group of itself and
        averaged over the conditional vectors the row satisfies."""
        self._critic.eval()
        groups = x.repeat_interleave(self.pac, dim=0)
        k, layout = self.n_partitions, self._layout
        if layout.n_discrete:
            category = layout.categories(x) + layout.category_offsets
            cond = torch.nn.functional.one_hot(category, layout.n_categories).float()
            scores = torch.stack([
                self._critic(torch.cat([groups, cond[:, j].repeat_interleave(self.pac, 0)], 1)
                             .expand(k, -1, -1))
                for j in range(layout.n_discrete)]).mean(0)
        else:
            scores = self._critic(groups.expand(k, -1, -1))
        self._critic.train()
        return scores

    def set_device(self, device):
        self._device = _set_device(True, device)
        for module in (self._generator, self._critic, self._regularizer):
            if module is not None:
                module.to(self._device)
        for name in ('_partition_weights', '_cond_probs'):
            if getattr(self, name, None) is not None:
                setattr(self, name, getattr(self, name).to(self._device))
        if self._layout is not None:
            self._layout.to(self._device)
