"""TVAE's components for the game: K encoder/decoder pairs on disjoint partitions.

Encoder ``k`` and decoder ``k`` are TVAE's networks and are trained on TVAE's loss with
real rows of partition ``k`` only. The regularizer sees rows that decoder ``k`` makes from
the prior, as the released model makes them (tanh scalars with the learned noise, one
category per span), with straight-through gradients; only the decoders are released.
With one partition and ``privacy_weight=0`` the objective is exactly TVAE's.
"""

import math

import torch
from torch import nn

from sdv_privgan.components import BatchedLinear, adam
from sdv_privgan.config import BOOLEAN, DIMS, NON_NEGATIVE, POSITIVE, POSITIVE_INT
from sdv_privgan.game import ComponentModel, PartitionIndex
from sdv_privgan.regularizer import mlp_classifier
from sdv_privgan.tabular.layout import log_softmax, one_hot_argmax, softmax

#: TVAE's own arguments and the rules that check them.
RULES = {
    'embedding_dim': POSITIVE_INT, 'compress_dims': DIMS, 'decompress_dims': DIMS,
    'l2scale': NON_NEGATIVE, 'loss_factor': POSITIVE, 'classifier_dim': DIMS,
    'split_widths': BOOLEAN,
}
LEARNING_RATE = 1e-3  # TVAE's: torch's Adam default
#: Most rows per component and step decoded from the prior for the regularizer: each is
#: an extra decoder pass, and the classifier needs a sample of each component, not one
#: row per training row.
PRIOR_ROWS = 64


def component_widths(options, n_partitions):
    """``options`` with each component's ``compress_dims`` and ``decompress_dims``: with
    ``split_widths``, TVAE's widths divided among the ``n_partitions`` components (at
    least 1 unit each), so that the K components together are as wide as TVAE's network
    and each has capacity for its share of the rows; otherwise TVAE's widths."""
    split = n_partitions if options['split_widths'] else 1
    return {**options, **{name: tuple(max(width // split, 1) for width in options[name])
                          for name in ('compress_dims', 'decompress_dims')}}


def _mlp(k, dims, input_dim):
    layers, dim = [], input_dim
    for width in dims:
        layers += [BatchedLinear(k, dim, width), nn.ReLU()]
        dim = width
    return nn.Sequential(*layers), dim


class BatchedEncoder(nn.Module):
    """K TVAE encoders: ``(K, m, data_dim)`` -> ``mu, std, logvar``, each ``(K, m, emb)``."""

    def __init__(self, k, data_dim, compress_dims, embedding_dim):
        super().__init__()
        self.seq, dim = _mlp(k, compress_dims, data_dim)
        self.fc1 = BatchedLinear(k, dim, embedding_dim)
        self.fc2 = BatchedLinear(k, dim, embedding_dim)

    def forward(self, x):
        feature = self.seq(x)
        mu, logvar = self.fc1(feature), self.fc2(feature)
        return mu, torch.exp(0.5 * logvar), logvar


class BatchedDecoder(nn.Module):
    """K TVAE decoders: ``(K, m, emb)`` -> logits ``(K, m, data_dim)`` and the learned
    output noise ``sigma`` ``(K, 1, data_dim)``."""

    def __init__(self, k, embedding_dim, decompress_dims, data_dim):
        super().__init__()
        hidden, dim = _mlp(k, decompress_dims, embedding_dim)
        self.seq = nn.Sequential(*hidden, BatchedLinear(k, dim, data_dim))
        self.sigma = nn.Parameter(torch.full((k, 1, data_dim), 0.1))

    def forward(self, z):
        return self.seq(z), self.sigma


def category_targets(layout, real):
    """The category of every one-hot span of encoded rows: ``(..., n_spans, 1)``."""
    return layout.spans(real).argmax(-1, keepdim=True)


def tvae_loss(layout, logits, real, sigma, mu, logvar, factor, targets=None):
    """ctgan's TVAE loss of every row of every component: ``(reconstruction, KLD)``, each
    ``(K, m)``; their means over a component's rows are TVAE's two loss terms. Scalars are
    Gaussian with the decoder's ``sigma`` around ``tanh(logits)``; each one-hot span is a
    categorical (``targets``: ``category_targets`` of ``real``, computed if None)."""
    scalars, std = layout.tanh_index, sigma[..., layout.tanh_index]
    gaussian = (real[..., scalars] - torch.tanh(logits[..., scalars])) ** 2 / 2 / std ** 2
    gaussian = (gaussian + torch.log(std)).sum(-1)
    if targets is None:
        targets = category_targets(layout, real)
    categorical = -log_softmax(layout.spans(logits)).gather(-1, targets)
    reconstruction = (gaussian + categorical.sum((-2, -1))) * factor
    kld = -0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(-1)
    return reconstruction, kld


class TVAEComponents(ComponentModel):
    """K TVAE encoder/decoder pairs on a ``DataLayout``, trained through the game."""

    has_critic = False

    def __init__(self, layout, data, partitions, config, options, device):
        k = config.n_partitions
        self.layout, self.options, self.n_components = layout, options, k
        self.embedding_dim = options['embedding_dim']
        self.data, self.index = data, PartitionIndex(partitions, k)
        self.encoder = BatchedEncoder(k, layout.data_dim, options['compress_dims'],
                                      self.embedding_dim).to(device)
        self.generator = BatchedDecoder(k, self.embedding_dim, options['decompress_dims'],
                                        layout.data_dim).to(device)
        parameters = nn.ModuleList([self.encoder, self.generator])
        self.generator_optimizer = adam(parameters, LEARNING_RATE, betas=(0.9, 0.999),
                                        weight_decay=options['l2scale'])
        self._order, self._cursor = None, 0

    @property
    def device(self):
        return self.layout.tanh_index.device

    def steps_per_epoch(self, num_rows, batch_size):
        """TVAE passes over every row once per epoch, the last batch smaller."""
        smallest = int(self.index.sizes.min())
        return max(math.ceil(smallest / (batch_size // self.n_components)), 1)

    def classifier(self, n_classes):
        return mlp_classifier(self.layout.feature_dim, n_classes,
                              self.options['classifier_dim'])

    def critic_step(self, m):
        return torch.full((), math.nan, device=self.device)

    def _real_batch(self, m):
        """The next ``m`` rows of each partition in this epoch's shuffled order, and their
        categories (read from the table's codes, not recomputed)."""
        if self._order is None or self._cursor >= self._order.shape[1]:
            self._order, self._cursor = self.index.shuffled(), 0
        rows = self._order[:, self._cursor:self._cursor + m]
        self._cursor += m
        return self.data.with_codes(rows)

    def generator_loss(self, m):
        real, targets = self._real_batch(m)
        rows = real.shape[1]
        mu, std, logvar = self.encoder(real)
        latent = mu + torch.randn_like(std) * std
        if self.regularized:  # one decoder pass makes the reconstructions and prior rows
            prior = torch.randn(self.n_components, min(m, PRIOR_ROWS), self.embedding_dim,
                                device=self.device)
            latent = torch.cat([latent, prior], dim=1)
        logits, sigma = self.generator(latent)
        reconstruction, kld = tvae_loss(self.layout, logits[:, :rows], real, sigma, mu, logvar,
                                        self.options['loss_factor'], targets)
        loss = (reconstruction + kld).mean()  # TVAE's loss, averaged over components
        if not self.regularized:
            return loss, None
        return loss, self._released_rows(logits[:, rows:], sigma, straight_through=True)

    def after_step(self):
        self.generator.sigma.data.clamp_(0.01, 1.0)  # as TVAE does

    def _from_prior(self, m):
        """Rows decoder k makes from the prior, as the released model makes them."""
        logits, sigma = self.generator(
            torch.randn(self.n_components, m, self.embedding_dim, device=self.device))
        return self._released_rows(logits, sigma)

    def _released_rows(self, logits, sigma, straight_through=False):
        """Decoded rows as TVAE samples them: tanh scalars with the learned noise, the
        most likely category of each span (straight-through gradients if asked)."""
        scalars = self.layout.tanh_index
        values = torch.tanh(logits[..., scalars]) \
            + sigma[..., scalars] * torch.randn_like(logits[..., scalars])
        spans = self.layout.spans(logits)
        hard = one_hot_argmax(spans)
        if straight_through:
            soft = softmax(spans)
            hard = hard + soft - soft.detach()
        return self.layout.assemble(values.clamp(-1, 1), hard)

    def classifier_view(self, rows):
        return self.layout.features(rows)

    def release(self, keep_training_state):
        self.data = self.index = self._order = None
        if not keep_training_state:
            self.encoder = None

    # ------------------------------------------------------------------ after fit
    conditional = False

    @torch.no_grad()
    def decode(self, m, category_index=None):
        """``m`` released rows of every component ``(K, m, data_dim)``; TVAE has no
        conditional vector, so conditions are met by keeping matching rows."""
        return self._from_prior(m)

    @torch.no_grad()
    def white_box_scores(self, x):
        """``elbo``: minus the lowest TVAE loss of each row over the kept encoder/decoder
        pairs, with the latent at the encoder's mean: a pair fits its own rows best."""
        real = x.expand(self.n_components, -1, -1)
        mu, _, logvar = self.encoder(real)
        logits, sigma = self.generator(mu)
        reconstruction, kld = tvae_loss(self.layout, logits, real, sigma, mu, logvar,
                                        self.options['loss_factor'])
        return {'elbo': -(reconstruction + kld).min(0).values}

    def modules(self):
        return [self.generator, self.encoder]

    def tensors(self):
        return []
