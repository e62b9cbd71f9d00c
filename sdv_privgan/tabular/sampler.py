"""Training-by-sampling on the device, per partition, without Python loops over rows.

CTGAN trains with conditional vectors: pick a discrete column, pick one of its categories
with (log-)frequency probability, ask the generator for a row of that category and show
the critic a real row of it. Here every partition keeps its own category frequencies and
its own row lists, so critic ``k`` only ever sees rows of partition ``k``. Everything
lives in a few flat tensors: rows sorted by (partition, category), with offsets.
"""

import torch

from sdv_privgan.game import PartitionIndex


def _category_probabilities(counts, layout, log_frequency):
    """Per discrete column, sampling probabilities of its categories, padded:
    ``(..., n_discrete, max_categories)``."""
    weights = torch.log1p(counts) if log_frequency else counts
    padded = weights[..., layout.cond_index] * layout.discrete_mask
    return padded / padded.sum(-1, keepdim=True).clamp_min(1e-12)


class PartitionSampler:
    """Samples conditional vectors and matching real rows for each partition of an
    ``EncodedTable``.

    Holds the training data, so it is dropped at the end of ``fit``.
    """

    def __init__(self, data, partitions, layout, log_frequency=True):
        self.data = data
        self.layout = layout
        self.n_partitions = int(partitions.max()) + 1
        device = data.device
        k, n_cat = self.n_partitions, layout.n_categories
        self._index = PartitionIndex(partitions, k)
        if layout.n_discrete:
            category = data.categories() + layout.category_offsets  # (n, n_disc)
            keys = (partitions[:, None] * n_cat + category).reshape(-1)
            rows = torch.arange(len(data), device=device).repeat_interleave(layout.n_discrete)
            order, self._offsets = _sorted_offsets(keys, k * n_cat)
            self._rows = rows[order]
            counts = self._offsets.diff().reshape(k, n_cat).float()
            self.partition_probs = _category_probabilities(counts, layout, log_frequency)
            # The whole table's frequencies, also when this process holds some partitions.
            whole = counts.sum(0) if data.category_counts is None else data.category_counts
            self.global_probs = _category_probabilities(whole, layout, log_frequency)

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
        # scatter, not functional.one_hot: that checks its indices on the host.
        index = (self.layout.category_offsets[column] + category)[..., None]
        shape = index.shape[:-1] + (self.layout.n_categories,)
        return torch.zeros(shape, device=index.device).scatter_(-1, index, 1.0)

    def critic_batch(self, m):
        """``m`` conditional vectors per partition and ``m`` real rows of each partition
        that satisfy a shuffled copy of them (as CTGAN does): ``(cond, real, real_cond)``,
        each ``(K, m, ...)``; ``cond`` is None when the table has no discrete column."""
        k, device = self.n_partitions, self.data.device
        if not self.layout.n_discrete:
            return None, self.data[self._index.draw(m)], None
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
