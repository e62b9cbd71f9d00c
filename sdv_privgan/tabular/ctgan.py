"""CTGAN's components for the game: K residual generators and K PacGAN critics.

The architecture and losses are CTGAN's: WGAN-GP critics scoring groups of ``pac`` rows,
conditional vectors with training-by-sampling, Gumbel-softmax outputs and the condition
loss. Critic ``k`` only ever sees real rows of partition ``k`` (``PartitionSampler``); the
component classifier sees the generated rows' data-space features. With one partition
and ``privacy_weight=0`` the objective is exactly CTGAN's.
"""

import torch
from torch import nn

from sdv_privgan.components import BatchedCritic, BatchedGenerator, adam
from sdv_privgan.config import BOOLEAN, DIMS, NON_NEGATIVE, POSITIVE, POSITIVE_INT
from sdv_privgan.game import ComponentModel
from sdv_privgan.regularizer import mlp_classifier
from sdv_privgan.tabular.sampler import PartitionSampler

#: CTGAN's own arguments and the rules that check them.
RULES = {
    'embedding_dim': POSITIVE_INT, 'generator_dim': DIMS, 'discriminator_dim': DIMS,
    'generator_lr': POSITIVE, 'generator_decay': NON_NEGATIVE, 'discriminator_lr': POSITIVE,
    'discriminator_decay': NON_NEGATIVE, 'discriminator_steps': POSITIVE_INT,
    'log_frequency': BOOLEAN, 'pac': POSITIVE_INT, 'classifier_dim': DIMS,
    'classifier_pac': POSITIVE_INT,
}
#: Batches of rows, drawn as in training, that set the released generators' batch-norm
#: statistics.
CALIBRATION_BATCHES, CALIBRATION_ROWS = 20, 500


class CTGANComponents(ComponentModel):
    """K CTGAN generators and critics on a ``DataLayout``, trained through the game."""

    def __init__(self, layout, data, partitions, config, options, device):
        k = config.n_partitions
        self.layout, self.options, self.n_components = layout, options, k
        self.embedding_dim = options['embedding_dim']
        self.sampler = PartitionSampler(data, partitions, layout, options['log_frequency'])
        self.cond_probs = self.sampler.release_probabilities()
        cond_dim = layout.n_categories
        self.generator = BatchedGenerator(
            k, self.embedding_dim + cond_dim, options['generator_dim'], layout.data_dim).to(device)
        self.critic = BatchedCritic(
            k, layout.data_dim + cond_dim, options['discriminator_dim'], options['pac']).to(device)
        self.generator_optimizer = adam(self.generator, options['generator_lr'],
                                        weight_decay=options['generator_decay'])
        self.critic_optimizer = adam(self.critic, options['discriminator_lr'],
                                     weight_decay=options['discriminator_decay'])

    @property
    def device(self):
        return self.layout.tanh_index.device

    def classifier(self, n_classes):
        pac = self.options['classifier_pac']
        return mlp_classifier(self.layout.feature_dim * pac, n_classes,
                              self.options['classifier_dim'])

    def _generate(self, cond, m):
        """Generator logits and Gumbel-softmax rows ``(K, m, data_dim)`` for a condition
        batch ``cond`` (``(K, m, C)``, ``(m, C)`` shared by all components, or None)."""
        noise = torch.randn(self.n_components, m, self.embedding_dim, device=self.device)
        if cond is not None:
            noise = torch.cat([noise, cond.expand(self.n_components, m, cond.shape[-1])], dim=2)
        logits = self.generator(noise)
        return logits, self.layout.activate(logits)

    def critic_step(self, m):
        for _ in range(self.options['discriminator_steps']):
            cond, real, real_cond = self.sampler.critic_batch(m)
            with torch.no_grad():
                _, fake = self._generate(cond, m)
            if cond is not None:
                fake, real = torch.cat([fake, cond], dim=2), torch.cat([real, real_cond], dim=2)
            penalty = self.critic.gradient_penalty(real, fake)
            loss = self.critic(fake).mean() - self.critic(real).mean()
            self.critic_optimizer.zero_grad(set_to_none=True)
            (penalty + loss).backward()
            self.critic_optimizer.step()
        return loss.detach()

    def generator_loss(self, m):
        """The adversarial loss plus CTGAN's condition loss; the conditions are drawn from
        the whole table's frequencies and shared by all components, so the classifier
        compares components on equal conditions."""
        cond, column, category = self.sampler.generator_conditions(m)
        logits, fake = self._generate(cond, m)
        if cond is None:
            return -self.critic(fake).mean(), fake
        k = self.n_components
        loss = -self.critic(torch.cat([fake, cond.expand(k, m, -1)], dim=2)).mean()
        loss = loss + self.layout.condition_loss(logits, column.expand(k, m),
                                                 category.expand(k, m))
        return loss, fake

    def classifier_view(self, rows):
        """Data-space features of ``(K, m, data_dim)`` rows, in groups of
        ``classifier_pac`` rows of one component."""
        features = self.layout.features(rows)
        k, m, f = features.shape
        pac = self.options['classifier_pac']
        return features.reshape(k, m // pac, pac * f)

    def release(self, keep_training_state):
        self._calibrate_batch_norm()
        self.sampler = self.critic_optimizer = None
        if not keep_training_state:
            self.critic = None

    @torch.no_grad()
    def _calibrate_batch_norm(self):
        """Put the released generators' batch norm in eval mode, with statistics of their
        own weights on batches conditioned as in training.

        In training mode a batch is normalized by its own statistics, so in a batch whose
        rows all carry one conditional vector (conditional sampling) the vector's
        contribution is subtracted out and the generators hardly honour it. The weight
        average has no statistics of its own, so they are computed here."""
        norms = [module for module in self.generator.modules()
                 if isinstance(module, nn.modules.batchnorm._BatchNorm)]
        if not norms:
            return
        self.generator.train()
        momenta = [norm.momentum for norm in norms]
        for norm in norms:
            norm.reset_running_stats()
            norm.momentum = None  # a plain average over the calibration batches
        for _ in range(CALIBRATION_BATCHES):
            cond, _, _ = self.sampler.generator_conditions(CALIBRATION_ROWS)
            self._generate(cond, CALIBRATION_ROWS)
        for norm, momentum in zip(norms, momenta):
            norm.momentum = momentum
        self.generator.eval()

    # ------------------------------------------------------------------ after fit
    @torch.no_grad()
    def decode(self, m, category_index=None):
        """``m`` released rows of every component ``(K, m, data_dim)``, each span a drawn
        one-hot; conditioned on a category (its index in the conditional vector), on
        one of several drawn at random for each row (a sequence of indices), or on
        conditions drawn as in training."""
        cond = None
        if self.cond_probs is not None:
            if category_index is None:
                index = torch.multinomial(self.cond_probs, m, replacement=True)
            else:
                choices = torch.as_tensor(category_index, device=self.device).reshape(-1)
                index = choices[torch.randint(len(choices), (m,), device=self.device)]
            cond = torch.nn.functional.one_hot(index, self.layout.n_categories).float()
        logits, _ = self._generate(cond, m)
        return self.layout.activate(logits, hard=True)

    @property
    def conditional(self):
        return self.cond_probs is not None

    @torch.no_grad()
    def white_box_scores(self, x):
        """Membership scores of encoded rows ``(n, data_dim)`` from the kept critics:
        ``critic``, the highest partition critic's score (LOGAN); ``critic_contrast``
        (K > 1), ``max_k |D_k - mean_j D_j|``: a row of partition ``k`` was seen by critic
        ``k`` alone, whichever way that moved its score."""
        scores = self._critic_scores(x)
        result = {'critic': scores.max(0).values}
        k = self.n_components
        if k > 1:
            others = (scores.sum(0, keepdim=True) - scores) / (k - 1)
            result['critic_contrast'] = (scores - others).abs().max(0).values
        return result

    def _critic_scores(self, x):
        """Every critic's score ``(K, n)`` of each row, shown as a pac group of itself and
        averaged over the conditional vectors the row satisfies."""
        self.critic.eval()
        pac, k, layout = self.options['pac'], self.n_components, self.layout
        groups = x.repeat_interleave(pac, dim=0)
        if layout.n_discrete:
            category = layout.categories(x) + layout.category_offsets
            cond = torch.nn.functional.one_hot(category, layout.n_categories).float()
            scores = torch.stack([
                self.critic(torch.cat([groups, cond[:, j].repeat_interleave(pac, 0)], 1)
                            .expand(k, -1, -1))
                for j in range(layout.n_discrete)]).mean(0)
        else:
            scores = self.critic(groups.expand(k, -1, -1))
        self.critic.train()
        return scores

    def modules(self):
        """The torch modules and tensors that move with ``set_device``."""
        return [self.generator, self.critic]

    def tensors(self):
        return ['cond_probs']
