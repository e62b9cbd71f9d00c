"""The tabular model behind the synthesizers: ctgan's data transformer, K components of
CTGAN or TVAE trained on the component game, and sampling from their mixture.

Data flows one way: DataFrame -> ``DataTransformer`` (fitted on a sample of a large
table) -> the compact ``EncodedTable`` on the device -> per-partition batches -> the K
components (``tabular/ctgan.py``, ``tabular/tvae.py``). Sampling goes back the same road
in chunks. Under ``torchrun`` each process trains its share of the components on its
partitions' rows only (``sdv_privgan.distributed``); rank 0 holds the released model.
"""

import dataclasses

import numpy as np
import pandas as pd
import torch
from ctgan.synthesizers.base import BaseSynthesizer, random_state

from sdv_privgan._compat import choose_device, column_spans, fixed_mode_draws
from sdv_privgan.config import invalid
from sdv_privgan.distributed import current_shard
from sdv_privgan.game import (
    ComponentGame, derived_seed, partition_rows, partition_weights, sample_components,
    sample_mixture, seeded)
from sdv_privgan.tabular.encoded import TRANSFORMER_SAMPLE_SIZE, encode_table, fit_transformer
from sdv_privgan.tabular.layout import DataLayout

MAX_TRIES = 100  # batches tried for conditional rows before returning what was found
MAX_BATCH = 100_000  # most rows generated in one try


class PrivTabularModel(BaseSynthesizer):
    """K components of ``components`` (a ``ComponentModel`` class) on the game.

    Works on a DataFrame of any dtypes ctgan's ``DataTransformer`` accepts (no nulls in
    continuous columns). ``config`` is the checked ``GameConfig``, ``options`` the checked
    arguments of the components; the transformer is fitted on ``transformer_sample_size``
    rows (all when None or fewer); ``placement`` of the encoded table: ``'auto'``,
    ``'device'`` or ``'host'`` (see ``EncodedTable``).
    """

    def __init__(self, components, config, options, device='cpu', *,
                 transformer_sample_size=TRANSFORMER_SAMPLE_SIZE, placement='auto'):
        self.components_class = components
        self.config = config
        self.options = options
        self.transformer_sample_size = transformer_sample_size
        self.placement = placement
        self._device = torch.device(device)
        self._transformer = self._layout = self._components = self._regularizer = None
        self._weights = None
        self._rank = 0
        self.loss_values = None

    @property
    def n_partitions(self):
        return self.config.n_partitions

    def fit(self, train_data, discrete_columns=()):
        """Fit on a DataFrame; ``discrete_columns`` as in ``ctgan.CTGAN.fit``."""
        config = self.config
        shard = current_shard(config.n_partitions, self._device)
        if shard.world_size > 1 and config.keep_training_state:
            invalid('keep_training_state', True, 'False when the components are trained by '
                    f'{shard.world_size} processes: no process holds every critic')
        device = self._device = shard.device
        seed = config.seed if shard.world_size == 1 else shard.broadcast_object(
            lambda: config.seed if config.seed is not None else derived_seed(
                np.random.SeedSequence().entropy))
        with seeded(seed, device):
            # Fitted once, on rank 0: every process must encode the rows alike.
            self._transformer = shard.broadcast_object(lambda: fit_transformer(
                train_data, discrete_columns, self.transformer_sample_size,
                seed=None if seed is None else derived_seed(seed, 1)))
            self._layout = DataLayout(self._transformer).to(device)
            k = config.n_partitions
            partitions = partition_rows(len(train_data), k)  # alike on every process
            self._weights = partition_weights(partitions, k)
            own, local = shard.local_rows(partitions)
            rows = None if shard.world_size == 1 else torch.nonzero(own).squeeze(1).numpy()
            table = encode_table(self._transformer, train_data, self._layout, device,
                                 rows=rows, placement=self.placement)
            if shard.world_size > 1:  # one process: the sampler counts the rows it holds
                table.category_counts = shard.sum(table.counts())
            if shard.rank:  # other noise and initial weights than rank 0's
                torch.manual_seed(derived_seed(seed, shard.rank))
                np.random.seed(derived_seed(seed, shard.rank) % 2**32)
            mine = dataclasses.replace(config, n_partitions=shard.n_local,
                                       batch_size=config.component_batch * shard.n_local)
            components = self.components_class(self._layout, table, local.to(device), mine,
                                               self.options, device)
            del table
            game = ComponentGame(components, config, self._weights, device, shard)
            steps = components.steps_per_epoch(int(own.sum()), mine.batch_size)
            self.loss_values = game.fit(steps)
            generator = shard.gather_components(game.release())
        self._rank = shard.rank
        self._components, self._regularizer = None, game.regularizer
        if generator is not None:  # rank 0 holds the released model
            components.generator, components.n_components = generator, k
            self._components = components
        return self

    # ------------------------------------------------------------------ sampling
    def _chunk(self):
        # Generators whose batch norm uses batch statistics sample in whole batches.
        return max(self.config.component_batch, 2)

    def _rows(self, n, category_index=None):
        rows, _ = sample_mixture(lambda m: self._components.decode(m, category_index),
                                 self._weights, n, self._chunk())
        return rows

    @random_state
    def sample(self, n, condition_column=None, condition_value=None, conditions=None):
        """``n`` rows of the mixture of the components, in the transformer's space.

        Conditions (``condition_column`` / ``condition_value`` as in ctgan, or a
        ``{column: value}`` dict, values as the transformer sees them) are met by the
        model: a CTGAN generator is fed one of the discrete conditions per row, and rows whose
        generated values do not match every condition are discarded and regenerated,
        up to ``MAX_TRIES`` batches; fewer than ``n`` rows come back when the model
        hardly ever makes the requested combination."""
        conditions = dict(conditions or {})
        if condition_column is not None and condition_value is not None:
            conditions[condition_column] = condition_value
        if not conditions:
            return self._transformer.inverse_transform(self._rows(n).numpy())
        return self._sample_conditioned(n, conditions)

    def _sample_conditioned(self, n, conditions):
        """Rows that match every condition: generated, checked and regenerated in batches.

        A CTGAN generator is fed the conditional vector of one of the discrete
        conditions, drawn for each row: a row fed column ``A``'s vector has ``A``'s
        relations to the other columns as the critic taught them, and the others only as
        well as the generator learned them unconditioned, so no single condition decides
        them for every row. Rows whose generated categories (or numerical values, within
        1 %) differ from a condition are discarded."""
        fixed = self._discrete_conditions(conditions)
        numeric = {column: value for column, value in conditions.items()
                   if column in self._columns('continuous')}
        offsets = self._layout.category_offsets.tolist()
        fed = None
        if fixed and self._components.conditional:
            fed = [offsets[column] + value for column, value in fixed]
        frames, found, tried, batch = [], 0, 0, n
        for _ in range(MAX_TRIES):
            rows = self._rows(batch, fed)
            keep = torch.ones(len(rows), dtype=torch.bool)
            if fixed:
                categories = self._layout.categories(rows.to(self._device)).cpu()
                for column, value in fixed:
                    keep &= categories[:, column] == value
            tried += batch
            if keep.any():
                frame = self._transformer.inverse_transform(rows[keep].numpy())
                for column, value in numeric.items():
                    frame = frame[np.abs(frame[column] - value) <= abs(value) * 0.01]
                frames.append(frame)
                found += len(frame)
            if found >= n:
                break
            rate = max(found, 1) / tried
            batch = int(min(MAX_BATCH, max(10 * n, (n - found) / rate)))
        if not frames:
            return self._transformer.inverse_transform(self._rows(1).numpy()).iloc[:0]
        return pd.concat(frames).iloc[:n].reset_index(drop=True)

    def _columns(self, kind):
        return [name for name, column_type, _, _ in column_spans(self._transformer)
                if column_type == kind]

    def _discrete_conditions(self, conditions):
        """``(discrete column, category)`` of each discrete condition the model knows;
        values it never saw are left to the caller's reject sampling."""
        pairs = []
        for index, name in enumerate(self._columns('discrete')):
            if name not in conditions:
                continue
            try:
                ids = self._transformer.convert_column_name_value_to_id(name, conditions[name])
            except ValueError:
                continue
            pairs.append((index, int(ids['value_id'])))
        return pairs

    # ------------------------------------------------------------------ gauges
    def sample_components(self, n_per_component):
        """Data-space features of ``n_per_component`` fresh rows of each component,
        ``(K, n, features)``, drawn as the released model draws them."""
        rows = sample_components(self._components.decode, n_per_component, self._chunk())
        return self._layout.features(rows.to(self._device)).cpu().numpy()

    @torch.no_grad()
    def white_box_scores(self, data):
        """Membership scores from the kept training state (higher = member): the
        components' own (``critic`` and ``critic_contrast`` for CTGAN, ``elbo`` for
        TVAE) and ``classifier``, the component classifier's highest probability."""
        if not self.config.keep_training_state:
            raise ValueError('White-box scores need the training state: fit with '
                             'keep_training_state=True.')
        with fixed_mode_draws(self._transformer):
            encoded = self._transformer.transform(data)
        x = torch.as_tensor(encoded, dtype=torch.float32, device=self._device)
        result = self._components.white_box_scores(x)
        if self._regularizer is not None:
            pac = self.options.get('classifier_pac', 1)
            classifier = self._regularizer.classifier.eval()
            probs = torch.softmax(classifier(self._layout.features(x).repeat(1, pac)), dim=1)
            classifier.train()
            result['classifier'] = probs.max(1).values
        return pd.DataFrame({name: value.cpu().numpy() for name, value in result.items()},
                            index=data.index)

    def set_device(self, device):
        self._device = choose_device(True, device)
        if self._layout is not None:
            self._layout.to(self._device)
        if self._weights is not None:
            self._weights = self._weights.to(self._device)
        if self._regularizer is not None:
            self._regularizer.to(self._device)
        if self._components is not None:
            for module in self._components.modules():
                if module is not None:
                    module.to(self._device)
            for name in self._components.tensors():
                value = getattr(self._components, name)
                if value is not None:
                    setattr(self._components, name, value.to(self._device))
