"""The training table in compact form, and ctgan's data transformer fitted on a sample.

ctgan's ``DataTransformer`` encodes every row as a float vector of one scalar and one
one-hot per continuous column and one one-hot per discrete column: hundreds of floats
per row for a wide table, almost all zeros. ``EncodedTable`` keeps what that vector
holds and nothing more: the scalars as float32 and the index of the hot entry of each
span as a small integer (one byte for spans of up to 256 entries), and decodes a batch
of rows back into the transformer's vector on the device when it is drawn. The decoded
rows are exactly the transformer's output rounded to float32, the form training used
before.

The table sits on the training device when it fits there, otherwise in host memory;
then each batch of rows is gathered on the host, pinned and copied to the device
asynchronously, which costs one wait per drawn batch for its row indices. (Pinning
the whole table would not help: a gather from it makes an unpinned copy.)
"""

import numpy as np
import torch
from ctgan.data_transformer import DataTransformer

from sdv_privgan._compat import column_spans

#: Rows the transformer is fitted on by default (all of them in smaller tables).
TRANSFORMER_SAMPLE_SIZE = 100_000
_CHUNK_VALUES = 5_000_000  # floats per chunk of transformed rows (40 MB as float64)
_DEVICE_SHARE = 0.5  # of the free device memory the table and its indexes may take


def transformer_rows(data, discrete_columns, sample_size, generator=None):
    """Positions of the rows to fit the transformer on: ``sample_size`` rows at random,
    plus, whatever the size, the first row of every category of each discrete column and
    the smallest, largest and first missing value of each continuous column, so that
    every value the transformer must encode was seen when it was fitted (``None``: all
    rows)."""
    if sample_size is None or len(data) <= sample_size:
        return None
    cover = []
    for column in data.columns:
        values = data[column]
        if column in discrete_columns:
            cover.append(np.flatnonzero(~values.duplicated().to_numpy()))
        else:
            numbers = values.to_numpy(dtype=float)
            missing = np.flatnonzero(np.isnan(numbers))
            ends = [] if len(missing) == len(numbers) else \
                [np.nanargmin(numbers), np.nanargmax(numbers)]
            cover.append(np.asarray(ends + list(missing[:1]), dtype=np.int64))
    drawn = torch.randperm(len(data), generator=generator)[:sample_size].numpy()
    return np.unique(np.concatenate(cover + [drawn]))


def fit_transformer(data, discrete_columns, sample_size=TRANSFORMER_SAMPLE_SIZE, seed=None):
    """ctgan's ``DataTransformer`` fitted on ``data``, or on a sample of its rows
    (``transformer_rows``, drawn with ``seed``) when there are more than ``sample_size``."""
    transformer = DataTransformer()
    generator = None if seed is None else torch.Generator().manual_seed(seed)
    rows = transformer_rows(data, discrete_columns, sample_size, generator)
    transformer.fit(data if rows is None else data.iloc[rows], discrete_columns)
    return transformer


class EncodedTable:
    """Encoded rows of one table (or of one rank's partitions of it), compactly.

    ``table[rows]`` for a ``LongTensor`` of row positions of any shape returns the
    transformer's vectors of those rows ``rows.shape + (data_dim,)`` on ``device``.
    ``category_counts`` are the counts of every category of the whole table (every rank's
    rows), which conditional sampling draws from.
    """

    def __init__(self, layout, kinds, scalars, codes, device, on_device=True):
        self.layout = layout
        self.device = torch.device(device)
        self.on_device = on_device
        self.scalars = scalars.to(self.device) if on_device else scalars
        self.codes = codes.to(self.device) if on_device else codes
        self.discrete_spans = torch.tensor(
            [i for i, kind in enumerate(kinds) if kind == 'discrete'], dtype=torch.long,
            device=self.codes.device)
        self.category_counts = None

    @property
    def shape(self):
        return (len(self.codes), self.layout.data_dim)

    def __len__(self):
        return len(self.codes)

    def nbytes(self):
        return self.scalars.nbytes + self.codes.nbytes

    def __getitem__(self, rows):
        return self.with_codes(rows)[0]

    def with_codes(self, rows):
        """``(self[rows], codes)``: the vectors and, as a ``LongTensor`` ``rows.shape +
        (n_spans, 1)``, the position of the 1 in each of their one-hot spans."""
        if not isinstance(rows, torch.Tensor):
            raise TypeError('An EncodedTable is indexed by a LongTensor of row positions.')
        if self.on_device:
            scalars, codes = self.scalars[rows], self.codes[rows]
        else:  # host memory: gather there, copy without blocking the host
            flat = rows.reshape(-1).cpu()
            scalars, codes = _to_device(self.scalars[flat], self.codes[flat], self.device)
            scalars = scalars.reshape(rows.shape + scalars.shape[-1:])
            codes = codes.reshape(rows.shape + codes.shape[-1:])
        codes = codes.long()[..., None]
        width = self.layout.soft_index.shape[1]
        spans = torch.zeros(codes.shape[:-1] + (width,), device=self.device)
        spans.scatter_(-1, codes, 1.0)
        return self.layout.assemble(scalars, spans), codes

    def categories(self):
        """Local category of every row in every discrete column ``(n, n_discrete)``, on
        the device (``DataLayout.categories`` of the decoded rows)."""
        return self.codes[:, self.discrete_spans].long().to(self.device)

    def counts(self):
        """Rows of every category, in conditional-vector order ``(n_categories,)``."""
        category = self.categories() + self.layout.category_offsets
        return torch.bincount(category.reshape(-1),
                              minlength=self.layout.n_categories).float()


def encode_table(transformer, data, layout, device, *, rows=None, placement='auto'):
    """The ``EncodedTable`` of ``data`` (or of the rows at positions ``rows``), transformed
    chunk by chunk so that the transformer's float64 vectors never exist for the whole
    table. ``placement``: ``'device'``, ``'host'`` or ``'auto'`` (the device when the table
    and its sampling indexes take at most half its free memory)."""
    spans = column_spans(transformer)
    kinds = [kind for _, kind, dims, _ in spans for _ in dims[1 if kind == 'continuous' else 0:]]
    n = len(data) if rows is None else len(rows)
    width = layout.soft_index.shape[1]
    code_dtype = torch.uint8 if width <= 256 else torch.int16 if width <= 32767 else torch.int32
    scalars = torch.empty((n, len(layout.tanh_index)), dtype=torch.float32)
    codes = torch.empty((n, len(kinds)), dtype=code_dtype)
    soft_index, soft_mask = layout.soft_index.cpu(), layout.soft_mask.cpu()
    chunk = max(_CHUNK_VALUES // max(layout.data_dim, soft_index.numel(), 1), 1000)
    tanh_index = layout.tanh_index.cpu()
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        part = data.iloc[start:stop] if rows is None else data.iloc[rows[start:stop]]
        vectors = torch.from_numpy(transformer.transform(part))
        scalars[start:stop] = vectors[:, tanh_index]
        hot, index = vectors[:, soft_index].masked_fill(~soft_mask, -1.0).max(-1)
        if len(kinds) and not bool((hot == 1).all()):
            raise ValueError(
                'The data transformer left a value of the training data without a category '
                'or mode; fit it on rows that include every category (or on all rows, '
                'transformer_sample_size=None).')
        codes[start:stop] = index.to(code_dtype)
    device = torch.device(device)
    nbytes = scalars.nbytes + codes.nbytes
    return EncodedTable(layout, kinds, scalars, codes, device,
                        on_device=_fits(nbytes, n, layout, device, placement))


def _fits(nbytes, n, layout, device, placement):
    if placement not in ('auto', 'device', 'host'):
        raise ValueError(f"Invalid placement '{placement}': use 'auto', 'device' or 'host'.")
    if device.type != 'cuda' or placement != 'auto':
        return placement != 'host'
    # The sampler keeps a few long indexes per row and discrete column beside the table.
    indexes = 8 * n * (3 * layout.n_discrete + 2)
    free, _ = torch.cuda.mem_get_info(device)
    return nbytes + indexes <= _DEVICE_SHARE * free


def _to_device(scalars, codes, device):
    if device.type != 'cuda':
        return scalars.to(device), codes.to(device)
    return (scalars.pin_memory().to(device, non_blocking=True),
            codes.pin_memory().to(device, non_blocking=True))
