"""Training-by-sampling on the device, per partition, without Python loops over rows.

CTGAN trains with conditional vectors: pick a discrete column, pick one of its categories
with (log-)frequency probability, ask the generator for a row of that category and show
the critic a real row of it. Here every partition keeps its own category frequencies and
its own row lists, so critic ``k`` only ever sees rows of partition ``k``. Everything
lives in a few flat tensors: rows sorted by (partition, category), with offsets.
"""

import torch


class DataLayout:
    """Where the CTGAN data transformer put each column in its output vector."""

    def __init__(self, output_info_list):
        tanh, soft, discrete, start = [], [], [], 0
        for column_info in output_info_list:
            is_discrete = len(column_info) == 1 and column_info[0].activation_fn == 'softmax'
            for span in column_info:
                indices = list(range(start, start + span.dim))
                if span.activation_fn == 'tanh':
                    tanh += indices
                else:
                    soft.append(indices)
                    if is_discrete:
                        discrete.append(indices)
                start += span.dim
        self.data_dim = start
        self.tanh_index = torch.tensor(tanh, dtype=torch.long)
        self.soft_index, self.soft_mask = _pad(soft)
        self.discrete_index, self.discrete_mask = _pad(discrete)
        self.n_discrete = len(discrete)
        self.n_categories = sum(len(span) for span in discrete)
        self.category_offsets = torch.tensor(
            [0] + [len(span) for span in discrete], dtype=torch.long).cumsum(0)[:-1]
        # Position of each (discrete column, category) in the conditional vector.
        self.cond_index = (self.category_offsets[:, None]
                           + torch.arange(self.discrete_index.shape[1])) * self.discrete_mask
        # Columns of the output in the order tanh, then softmax spans; its inverse puts
        # activated pieces back in place with one gather.
        order = torch.cat([self.tanh_index, self.soft_index[self.soft_mask]])
        self.inverse_order = torch.argsort(order)

    def to(self, device):
        for name in ('tanh_index', 'soft_index', 'soft_mask', 'discrete_index',
                     'discrete_mask', 'category_offsets', 'cond_index', 'inverse_order'):
            setattr(self, name, getattr(self, name).to(device))
        return self

    def activate(self, logits, tau=0.2, hard=False):
        """tanh for scalars, Gumbel-softmax for every one-hot span, over the last axis."""
        spans = logits[..., self.soft_index].masked_fill(~self.soft_mask, float('-inf'))
        if hard:
            spans = torch.nn.functional.one_hot(spans.argmax(-1), spans.shape[-1]).to(logits)
        else:
            spans = torch.nn.functional.gumbel_softmax(spans, tau=tau, dim=-1)
        pieces = torch.cat([torch.tanh(logits[..., self.tanh_index]),
                            spans[..., self.soft_mask]], dim=-1)
        return pieces[..., self.inverse_order]

    def condition_loss(self, logits, column, category):
        """Cross-entropy between the generated span of the conditioned column and its
        category, summed over rows and divided by their number (CTGAN's ``_cond_loss``)."""
        logits = logits.reshape(-1, logits.shape[-1])
        index = self.discrete_index[column.reshape(-1)]
        span = logits.gather(1, index).masked_fill(~self.discrete_mask[column.reshape(-1)],
                                                   float('-inf'))
        return torch.nn.functional.cross_entropy(span, category.reshape(-1), reduction='sum') \
            / logits.shape[0]

    def categories(self, data):
        """Local category of every row in every discrete column, ``(n, n_discrete)``."""
        spans = data[:, self.discrete_index].masked_fill(~self.discrete_mask, -1.0)
        return spans.argmax(-1)


def _pad(spans):
    width = max((len(span) for span in spans), default=1)
    index = torch.zeros((len(spans), width), dtype=torch.long)
    mask = torch.zeros((len(spans), width), dtype=torch.bool)
    for i, span in enumerate(spans):
        index[i, :len(span)] = torch.tensor(span)
        mask[i, :len(span)] = True
    return index, mask


def _category_probabilities(counts, layout, log_frequency):
    """Per discrete column, sampling probabilities of its categories, padded:
    ``(..., n_discrete, max_categories)``."""
    weights = torch.log1p(counts) if log_frequency else counts
    padded = weights[..., layout.cond_index] * layout.discrete_mask
    return padded / padded.sum(-1, keepdim=True).clamp_min(1e-12)


class PartitionSampler:
    """Samples conditional vectors and matching real rows for each partition.

    Holds the training data, so it is dropped at the end of ``fit``.
    """

    def __init__(self, data, partitions, layout, log_frequency=True):
        self.data = data
        self.layout = layout
        self.n_partitions = int(partitions.max()) + 1
        device = data.device
        k, n_cat = self.n_partitions, layout.n_categories
        self._row_order, self._row_offsets = _sorted_offsets(partitions, k)
        if layout.n_discrete:
            category = layout.categories(data) + layout.category_offsets  # (n, n_disc)
            keys = (partitions[:, None] * n_cat + category).reshape(-1)
            rows = torch.arange(len(data), device=device).repeat_interleave(layout.n_discrete)
            order, self._offsets = _sorted_offsets(keys, k * n_cat)
            self._rows = rows[order]
            counts = self._offsets.diff().reshape(k, n_cat).float()
            self.partition_probs = _category_probabilities(counts, layout, log_frequency)
            self.global_probs = _category_probabilities(counts.sum(0), layout, log_frequency)

    def _draw(self, probs, shape):
        """Column and local category per row, drawn with ``probs[..., column, :]``."""
        column = torch.randint(self.layout.n_discrete, shape, device=self.data.device)
        if probs.dim() == 3:  # one distribution per partition
            chosen = probs[torch.arange(shape[0], device=column.device)[:, None], column]
        else:
            chosen = probs[column]
        cdf = chosen.cumsum(-1)
        u = torch.rand(shape + (1,), device=column.device) * cdf[..., -1:]
        category = (cdf <= u).sum(-1).clamp_max(chosen.shape[-1] - 1)
        return column, category

    def _one_hot(self, column, category):
        index = self.layout.category_offsets[column] + category
        return torch.nn.functional.one_hot(index, self.layout.n_categories).float()

    def critic_batch(self, m):
        """``m`` conditional vectors per partition and ``m`` real rows of each partition
        that satisfy a shuffled copy of them (as CTGAN does): ``(cond, real, real_cond)``,
        each ``(K, m, ...)``; ``cond`` is None when the table has no discrete column."""
        k, device = self.n_partitions, self.data.device
        if not self.layout.n_discrete:
            start, count = self._row_offsets[:-1, None], self._row_offsets.diff()[:, None]
            pick = start + (torch.rand(k, m, device=device) * count).long()
            return None, self.data[self._row_order[pick]], None
        column, category = self._draw(self.partition_probs, (k, m))
        cond = self._one_hot(column, category)
        perm = torch.argsort(torch.rand(k, m, device=device), dim=1)
        column, category = column.gather(1, perm), category.gather(1, perm)
        key = (torch.arange(k, device=device)[:, None] * self.layout.n_categories
               + self.layout.category_offsets[column] + category)
        start, count = self._offsets[key], self._offsets[key + 1] - self._offsets[key]
        pick = start + (torch.rand(k, m, device=device) * count).long()
        real_cond = cond.gather(1, perm[..., None].expand_as(cond))
        return cond, self.data[self._rows[pick]], real_cond

    def generator_conditions(self, m):
        """``m`` conditional vectors from the whole table's frequencies, shared by all
        components so the classifier compares them on equal conditions:
        ``(cond (m, n_cat), column (m,), category (m,))`` or Nones."""
        if not self.layout.n_discrete:
            return None, None, None
        column, category = self._draw(self.global_probs, (m,))
        return self._one_hot(column, category), column, category

    def release_probabilities(self):
        """What sampling needs after ``fit``: CTGAN's flattened category probabilities."""
        if not self.layout.n_discrete:
            return None
        flat = self.global_probs[self.layout.discrete_mask]
        return flat / flat.sum()


def _sorted_offsets(keys, n_keys):
    """Stable order of ``keys`` and offsets so rows of key ``j`` are
    ``order[offsets[j]:offsets[j + 1]]``."""
    order = torch.argsort(keys, stable=True)
    counts = torch.bincount(keys, minlength=n_keys)
    offsets = torch.zeros(n_keys + 1, dtype=torch.long, device=keys.device)
    offsets[1:] = counts.cumsum(0)
    return order, offsets
