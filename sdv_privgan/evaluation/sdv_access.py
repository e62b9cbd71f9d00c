"""GeneratorAccess for SDV's own CTGANSynthesizer and TVAESynthesizer.

The only module that reads ctgan's (and rdt's) internals for the model-access
attacks: the generator or decoder, the data transformer's column layout (the
Gaussian-mixture modes of each numerical column, the categories of each discrete
one) and CTGAN's conditional-vector layout. Everything read is in the file
``synthesizer.save()`` writes; nothing of the training rows is used.

Both adapters measure a target in *value space*: each numerical column as its
(processed) value standardised by the column's mixture mean and standard
deviation, each discrete column one-hot scaled by 1/sqrt(2), so that one
standard deviation and one category mismatch cost the same, as in
:class:`~sdv_privgan.evaluation.encoding.TabularEncoder`. A model's output is
compared with the target through the distribution it defines over values (the
mode and category probabilities), so the random mode that rdt assigns when it
encodes a row plays no part.
"""

import copy
import math
import warnings

import numpy as np
import torch

from sdv_privgan._compat import column_spans, gaussian_mode_weights, gaussian_modes
from sdv_privgan.evaluation.model_access import GeneratorAccess
from sdv_privgan.tabular.layout import STD_MULTIPLIER, DataLayout, log_softmax

_ONE_HOT_WEIGHT = 1.0 / math.sqrt(2.0)
#: Loss of a category the model never saw: a row holding one cannot be a member.
_UNSEEN_CATEGORY_NLL = 20.0


class _ColumnLayout:
    """The spans of ctgan's DataTransformer output as index tensors for vectorized losses:
    the model's own ``DataLayout`` plus each numerical column's value scale."""

    def __init__(self, transformer, device):
        layout = DataLayout(transformer).to(device)
        self.continuous, self.discrete = [], []
        for name, kind, _, encoder in column_spans(transformer):
            if kind != 'continuous':
                self.discrete.append({'name': name, 'encoder': encoder})
                continue
            means, stds = gaussian_modes(encoder)
            weights = gaussian_mode_weights(encoder)
            center = float(weights @ means)
            scale = float(np.sqrt(weights @ (stds**2 + means**2) - center**2)) or 1.0
            self.continuous.append({'name': name, 'center': center, 'scale': scale})
        self.n_continuous, self.n_discrete = len(self.continuous), len(self.discrete)
        self.alpha_index = layout.tanh_index
        self.mode_index, self.mode_valid = layout.mode_index, layout.mode_mask
        self.means = layout.mode_means
        self.stds = layout.mode_stds.masked_fill(~layout.mode_mask, 1.0)  # log(std) stays finite
        self.center, self.scale = (torch.tensor([c[key] for c in self.continuous],
                                                dtype=torch.float32, device=device)
                                   for key in ('center', 'scale'))
        self.category_index, self.category_valid = layout.discrete_index, layout.discrete_mask
        self.category_offsets = layout.category_offsets  # each column's first category
        # where each discrete column's one-hot block sits in an encoded target row
        self.target_index = (layout.cond_index + self.n_continuous) * layout.discrete_mask
        self.device = device

    def encode(self, processed):
        """Value-space targets: standardised numericals, then one-hot/sqrt(2) categories."""
        blocks = []
        for column in self.continuous:
            values = processed[column['name']].to_numpy(dtype=np.float64)
            blocks.append(((values - column['center']) / column['scale'])[:, None])
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')  # unseen categories encode as zeros, on purpose
            for column in self.discrete:
                one_hot = column['encoder'].transform(processed[[column['name']]]).to_numpy()
                blocks.append(one_hot.astype(np.float64) * _ONE_HOT_WEIGHT)
        array = np.hstack(blocks) if blocks else np.zeros((len(processed), 0))
        return torch.as_tensor(array, dtype=torch.float32, device=self.device)

    def split(self, targets):
        """Numerical targets (m, n_continuous) and category codes (m, n_discrete), -1 if unseen."""
        numerical = targets[:, :self.n_continuous]
        if not self.n_discrete:
            return numerical, torch.zeros(len(targets), 0, dtype=torch.long,
                                          device=targets.device)
        blocks = targets[:, self.target_index].masked_fill(~self.category_valid, 0.0)
        return numerical, torch.where(blocks.sum(dim=-1) > 0, blocks.argmax(dim=-1), -1)

    def mode_values(self, raw):
        """Per numerical column and mode: the standardised value of the output, and log p(mode)."""
        alpha = torch.tanh(raw[..., self.alpha_index])
        logits = raw[..., self.mode_index].masked_fill(~self.mode_valid, -math.inf)
        values = (STD_MULTIPLIER * self.stds * alpha[..., None] + self.means
                  - self.center[:, None])
        return values / self.scale[:, None], log_softmax(logits), alpha

    def category_log_probs(self, raw, codes):
        """log p(target category) per discrete column; ``None`` where the category is unseen."""
        logits = raw[..., self.category_index].masked_fill(~self.category_valid, -math.inf)
        log_probs = log_softmax(logits)
        index = codes.clamp(min=0).expand(log_probs.shape[:-1])[..., None]
        return log_probs.gather(-1, index)[..., 0], codes < 0


class _SDVAccess(GeneratorAccess):
    n_components = 1

    def __init__(self, synthesizer, network, transformer, latent_dim):
        self._processor = synthesizer._data_processor
        self.device = next(network.parameters()).device
        self._network = copy.deepcopy(network).eval().requires_grad_(False)
        self.layout = _ColumnLayout(transformer, self.device)
        self.latent_dim = int(latent_dim)

    def encode(self, data):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            processed = self._processor.transform(data)
        return self.layout.encode(processed)

    def conditions(self, targets):
        return torch.zeros(len(targets), 1, 0, device=self.device)


class CTGANAccess(_SDVAccess):
    """SDV's ``CTGANSynthesizer``: its generator, every conditional vector a target satisfies.

    The loss is the expected squared distance, in value space, between the target
    and a row the generator makes from ``(z, condition)``: the generator's
    category and mode choices are random (Gumbel-softmax), so each numerical
    column contributes ``sum_k p(mode k) (value_k - target)^2`` and each discrete
    one ``1 - p(target category)``. The generator is evaluated in eval mode
    (batch-norm running statistics), as a fixed function of its input.
    """

    prior_weight = 0.01
    loss_is_squared_distance = True

    def __init__(self, synthesizer):
        model = synthesizer._model
        super().__init__(synthesizer, model._generator, model._transformer,
                         model._embedding_dim)
        self._cond_dim = int(model._data_sampler.dim_cond_vec())

    def conditions(self, targets):
        _, codes = self.layout.split(targets)
        if self._cond_dim == 0 or codes.shape[1] == 0:
            return torch.zeros(len(targets), 1, 0, device=self.device)
        offsets = self.layout.category_offsets
        vectors = torch.zeros(len(targets), codes.shape[1], self._cond_dim, device=self.device)
        rows, columns = torch.nonzero(codes >= 0, as_tuple=True)
        vectors[rows, columns, offsets[columns] + codes[rows, columns]] = 1.0
        return vectors  # an unseen category leaves its vector empty: no condition

    def generate(self, z, conditions):
        conditions = conditions.expand(z.shape[0], *conditions.shape)
        return self._network(torch.cat([z, conditions], dim=-1).flatten(0, 1)).unflatten(
            0, z.shape[:2])

    def loss(self, output, targets):
        numerical, codes = self.layout.split(targets)
        values, log_modes, _ = self.layout.mode_values(output)
        squared = (values - numerical[..., None]) ** 2
        loss = (log_modes.exp() * squared).sum(dim=(-1, -2))
        if codes.shape[1]:
            log_probs, unseen = self.layout.category_log_probs(output, codes)
            loss = loss + torch.where(unseen, 1.0, 1.0 - log_probs.exp()).sum(dim=-1)
        return loss


class TVAEAccess(_SDVAccess):
    """SDV's ``TVAESynthesizer``: its decoder (the saved file holds no encoder).

    The loss is the decoder's negative log-likelihood of the target's values:
    for a numerical column ``-log sum_k p(mode k) N(alpha_k(x); tanh(mu), sigma)
    / (4 std_k)``, with ``alpha_k(x) = (x - mean_k) / (4 std_k)`` and the
    decoder's own sigma (the density TVAE's loss trains), for a discrete one the
    cross-entropy. With ``prior_weight = 1`` the optimised objective is
    ``-log p(x | z) - log p(z)``: a MAP approximation of the model's likelihood.
    """

    prior_weight = 1.0
    loss_is_squared_distance = False

    def __init__(self, synthesizer):
        model = synthesizer._model
        super().__init__(synthesizer, model.decoder, model.transformer, model.embedding_dim)
        self._sigma = self._network.sigma.detach()

    def generate(self, z, conditions):
        return self._network.seq(z)

    def loss(self, output, targets):
        layout = self.layout
        numerical, codes = layout.split(targets)
        _, log_modes, mean = layout.mode_values(output)
        raw_value = numerical * layout.scale + layout.center
        alpha = (raw_value[..., None] - layout.means) / (STD_MULTIPLIER * layout.stds)
        sigma = self._sigma[..., layout.alpha_index][..., None]  # (d,) or (K, 1, d) sigmas
        log_density = (-0.5 * ((alpha - mean[..., None]) / sigma) ** 2 - torch.log(sigma)
                       - 0.5 * math.log(2 * math.pi) - torch.log(STD_MULTIPLIER * layout.stds))
        loss = -torch.logsumexp(log_modes + log_density, dim=-1).sum(dim=-1)
        if codes.shape[1]:
            log_probs, unseen = layout.category_log_probs(output, codes)
            loss = loss + torch.where(unseen, _UNSEEN_CATEGORY_NLL, -log_probs).sum(dim=-1)
        return loss


def sdv_generator_access(synthesizer):
    """The :class:`GeneratorAccess` of a fitted SDV ``CTGANSynthesizer`` or ``TVAESynthesizer``."""
    from sdv.single_table import CTGANSynthesizer, TVAESynthesizer

    for cls, access in ((CTGANSynthesizer, CTGANAccess), (TVAESynthesizer, TVAEAccess)):
        if isinstance(synthesizer, cls):
            if getattr(synthesizer, '_model', None) is None:
                raise ValueError('The synthesizer is not fitted; the latent attack needs '
                                 'its model.')
            return access(synthesizer)
    raise TypeError(
        f'No generator access for {type(synthesizer).__name__}: the latent attack supports '
        "SDV's CTGANSynthesizer and TVAESynthesizer, and synthesizers with a "
        'get_generator_access() method.'
    )
