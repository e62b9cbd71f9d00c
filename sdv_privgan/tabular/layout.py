"""Where ctgan's ``DataTransformer`` puts each column, as index tensors on the device.

The transformer encodes a continuous column as a scalar in ``[-1, 1]`` plus a one-hot
choice of a Gaussian mode, and a discrete column as a one-hot. ``DataLayout`` turns that
into vectorized operations over a ``(..., data_dim)`` tensor: the generator's output
activation, CTGAN's condition loss, and the *data-space features* the component
classifier looks at (decoded column values plus category one-hots). Two components that
produce the same rows through different mode choices make the same features, so the
classifier compares what a user of the synthetic data sees, not the encoding.
"""

import numpy as np
import torch
from torch.nn import functional

from sdv_privgan._compat import column_spans, gaussian_modes

STD_MULTIPLIER = 4  # rdt's ClusterBasedNormalizer: value = scalar * 4 * std + mean


class DataLayout:
    """Index tensors for one fitted ``ctgan.data_transformer.DataTransformer``."""

    def __init__(self, transformer):
        tanh, soft, discrete, modes, means, stds, start = [], [], [], [], [], [], 0
        for _, kind, dims, encoder in column_spans(transformer):
            spans = []
            for dim in dims:
                spans.append(list(range(start, start + dim)))
                start += dim
            if kind == 'continuous':
                tanh += spans[0]
                soft.append(spans[1])
                modes.append(spans[1])
                column_means, column_stds = gaussian_modes(encoder)
                means.append(column_means)
                stds.append(column_stds)
            else:
                soft.append(spans[0])
                discrete.append(spans[0])
        self.data_dim = start
        self.tanh_index = torch.tensor(tanh, dtype=torch.long)
        self.soft_index, self.soft_mask = _pad(soft)
        self.discrete_index, self.discrete_mask = _pad(discrete)
        self.mode_index, self.mode_mask = _pad(modes)
        self.mode_means, self.mode_stds = _pad_values(means), _pad_values(stds)
        # Scale of each continuous column, to standardize decoded values.
        self.value_center = torch.tensor([m.mean() for m in means], dtype=torch.float32)
        self.value_scale = torch.tensor(
            [max(np.ptp(m) + STD_MULTIPLIER * s.max(), 1e-6) / 2 for m, s in zip(means, stds)],
            dtype=torch.float32)
        self.n_discrete = len(discrete)
        self.n_categories = sum(len(span) for span in discrete)
        self.category_offsets = torch.tensor(
            [0] + [len(span) for span in discrete], dtype=torch.long).cumsum(0)[:-1]
        # Position of each (discrete column, category) in the conditional vector.
        self.cond_index = (self.category_offsets[:, None]
                           + torch.arange(self.discrete_index.shape[1])) * self.discrete_mask
        # Flat positions of the real (unpadded) entries, so that no step indexes with a
        # boolean mask: that would synchronize with the host to count the entries.
        self.soft_positions = torch.nonzero(self.soft_mask.flatten()).squeeze(1)
        self.discrete_columns = self.discrete_index[self.discrete_mask]
        # Output columns in the order (tanh scalars, softmax spans); the inverse order
        # puts activated pieces back in place with one gather.
        order = torch.cat([self.tanh_index, self.soft_index[self.soft_mask]])
        self.inverse_order = torch.argsort(order)
        self.feature_dim = len(tanh) + self.n_categories

    def to(self, device):
        for name, value in vars(self).items():
            if isinstance(value, torch.Tensor):
                setattr(self, name, value.to(device))
        return self

    def activate(self, logits, tau=0.2, hard=False):
        """tanh for scalars, Gumbel-softmax for every one-hot span. With ``hard``, each
        span is the one-hot of a category drawn from it (the Gumbel-max trick: what the
        data transformer's argmax makes of a Gumbel-softmax output)."""
        spans = _gumbel_softmax(self.spans(logits), tau)
        if hard:
            spans = one_hot_argmax(spans)
        return self.assemble(torch.tanh(logits[..., self.tanh_index]), spans)

    def assemble(self, scalars, spans):
        """Rows ``(..., data_dim)`` from the scalars ``(..., n_tanh)`` and padded spans
        ``(..., n_spans, width)``."""
        pieces = torch.cat([scalars, spans.flatten(-2)[..., self.soft_positions]], dim=-1)
        return pieces[..., self.inverse_order]

    def spans(self, logits):
        """Each one-hot span of ``logits``, padded with ``-inf``: ``(..., n_spans, width)``."""
        return logits[..., self.soft_index].masked_fill(~self.soft_mask, float('-inf'))

    def features(self, rows):
        """Data-space features of activated rows ``(..., data_dim)``: each continuous
        column's decoded value (standardized; differentiable through the soft mode
        choice) and each discrete column's one-hot."""
        modes = rows[..., self.mode_index] * self.mode_mask
        scalar = rows[..., self.tanh_index].clamp(-1, 1)
        values = scalar * STD_MULTIPLIER * (modes * self.mode_stds).sum(-1) \
            + (modes * self.mode_means).sum(-1)
        values = (values - self.value_center) / self.value_scale
        return torch.cat([values, rows[..., self.discrete_columns]], dim=-1)

    def condition_loss(self, logits, column, category):
        """CTGAN's ``_cond_loss``: cross-entropy between the generated span of each row's
        conditioned column and its category, summed, divided by the number of rows."""
        logits = logits.reshape(-1, logits.shape[-1])
        column = column.reshape(-1)
        span = logits.gather(1, self.discrete_index[column])
        span = span.masked_fill(~self.discrete_mask[column], float('-inf'))
        loss = functional.cross_entropy(span, category.reshape(-1), reduction='sum')
        return loss / logits.shape[0]

    def categories(self, data):
        """Local category of every row in every discrete column, ``(n, n_discrete)``."""
        spans = data[:, self.discrete_index].masked_fill(~self.discrete_mask, -1.0)
        return spans.argmax(-1)


def one_hot_argmax(scores):
    """The one-hot of each last-axis argmax (a scatter: ``functional.one_hot`` checks its
    indices on the host)."""
    return torch.zeros_like(scores).scatter_(-1, scores.argmax(-1, keepdim=True), 1.0)


def softmax(scores):
    """Softmax over the last axis, written out: on CPU, torch's kernel over a last axis as
    short as a span costs about twice as much (forward and backward). ``-inf`` padding
    gets probability 0."""
    scores = (scores - scores.amax(-1, keepdim=True).detach()).exp()
    return scores / scores.sum(-1, keepdim=True)


def log_softmax(scores):
    """Log-softmax over the last axis, written out (about three times faster than torch's
    on spans, forward and backward); ``-inf`` padding stays ``-inf``."""
    shifted = scores - scores.amax(-1, keepdim=True).detach()
    return shifted - shifted.exp().sum(-1, keepdim=True).log()


def _gumbel_softmax(logits, tau):
    """``functional.gumbel_softmax`` over the last axis, written out: on CPU, torch's
    exponential sampler and its softmax over a last axis this short (the widest span)
    cost about four times as much. Gumbel noise is ``-log(-log(U))``; ``U`` is kept
    above zero so that a one-entry span never gets ``-inf``."""
    gumbels = -torch.log(-torch.log(torch.rand_like(logits).clamp_(min=1e-12)))
    return softmax((logits + gumbels) / tau)


def _pad(spans):
    width = max((len(span) for span in spans), default=1)
    index = torch.zeros((len(spans), width), dtype=torch.long)
    mask = torch.zeros((len(spans), width), dtype=torch.bool)
    for i, span in enumerate(spans):
        index[i, :len(span)] = torch.tensor(span)
        mask[i, :len(span)] = True
    return index, mask


def _pad_values(arrays):
    width = max((len(a) for a in arrays), default=1)
    padded = torch.zeros((len(arrays), width), dtype=torch.float32)
    for i, values in enumerate(arrays):
        padded[i, :len(values)] = torch.as_tensor(values, dtype=torch.float32)
    return padded
