"""What ``PrivCTGANSynthesizer`` and ``PrivTVAESynthesizer`` share: the SDV plumbing.

Both are thin SDV wrappers (as SDV's own ``CTGANSynthesizer`` and ``TVAESynthesizer``
are) that check their arguments, hand the processed table to ``PrivTabularModel`` with
their components, and expose the privacy gauges. The saved file records the version of
this package that wrote it, and loading a file of another format fails with both
versions named instead of failing later.
"""

import warnings

import pandas as pd
from sdv.errors import InvalidDataError, NotFittedError, SamplingError, VersionError
from sdv.single_table.base import BaseSingleTableSynthesizer
from sdv.single_table.ctgan import LossValuesMixin
from sdv.single_table.utils import detect_discrete_columns

from sdv_privgan._checks import column_errors
from sdv_privgan._compat import choose_device, field_transformers, validate_no_category_dtype
from sdv_privgan.config import DEVICE, OPTIONAL_POSITIVE_INT, GameConfig, check_arguments
from sdv_privgan.evaluation.distinguishability import component_gauge
from sdv_privgan.game import seeded
from sdv_privgan.losses import loss_values_plot
from sdv_privgan.sampling import BATCH_SIZE, iter_chunks, output_path, write_chunks
from sdv_privgan.tabular.encoded import TRANSFORMER_SAMPLE_SIZE
from sdv_privgan.tabular.model import PrivTabularModel
from sdv_privgan._version import __version__

#: Bumped whenever a saved synthesizer of the previous format cannot be read.
FILE_FORMAT = 2


class PrivTabularSynthesizer(LossValuesMixin, BaseSingleTableSynthesizer):
    """Base class: subclasses set ``_components`` (a ``ComponentModel`` class) and
    ``_rules`` (its own arguments' rules), and store every argument under its name."""

    _model_sdtype_transformers = {'categorical': None, 'boolean': None, 'ordinal': None}
    _components = None
    _rules = {}
    _pac_argument = None  # the argument whose groups each component's batch must hold
    _access = None  # the GeneratorAccess class of the released model

    def _checked(self):
        """``(GameConfig, options)`` from the current arguments (``options``: the
        components' own, and ``transformer_sample_size``); raises
        ``SynthesizerInputError`` naming the first invalid one."""
        arguments = vars(self)
        options = check_arguments(arguments, self._rules)
        pac = options[self._pac_argument] if self._pac_argument else None
        config = GameConfig.from_arguments(arguments, pac=pac, even_batch=pac is not None)
        others = check_arguments(arguments, {
            'enable_gpu': GameConfig.RULES['verbose'], 'device': DEVICE,
            'transformer_sample_size': OPTIONAL_POSITIVE_INT})
        options['transformer_sample_size'] = others['transformer_sample_size']
        return config, options

    def validate(self, data):
        """SDV's checks of ``data`` against the metadata and constraints, after one that
        names every numerical or datetime column holding values of another kind."""
        if isinstance(data, dict) and len(data) == 1:
            table = next(iter(data.values()))
            columns = self._original_metadata.tables[self._table_name].columns
            if isinstance(table, pd.DataFrame) and (errors := column_errors(table, columns)):
                raise InvalidDataError(errors)
        super().validate(data)

    def _validate_conditions_unseen_columns(self, conditions):
        """SDV's check of the conditioned columns, then of their values' kinds."""
        super()._validate_conditions_unseen_columns(conditions)
        columns = self._original_metadata.tables[self._table_name].columns
        if errors := column_errors(conditions, columns):
            raise ValueError('Invalid conditions: ' + ' '.join(errors))

    def _validate(self, data):
        if len(data) == 0:
            return ['The training data is empty.']
        validate_no_category_dtype(data)
        errors = []
        smallest = len(data) // self.n_partitions
        needed = getattr(self, self._pac_argument) if self._pac_argument else 1
        if smallest < max(needed, 1):
            what = f'pac={needed}' if self._pac_argument else 'one row'
            errors.append(
                f'{len(data)} rows in {self.n_partitions} partitions leave {smallest} rows per '
                f'partition, fewer than {what}. Use fewer partitions'
                + (' or a smaller pac.' if self._pac_argument else '.'))
        return errors

    def _fit(self, processed_data):
        config, options = self._checked()
        discrete = detect_discrete_columns(self.metadata, processed_data,
                                           field_transformers(self))
        device = choose_device(self.enable_gpu, self.device)
        self._model = PrivTabularModel(
            self._components, config, options, device,
            transformer_sample_size=options['transformer_sample_size'])
        with warnings.catch_warnings():
            warnings.filterwarnings('ignore', message='.*Attempting to run cuBLAS.*')
            self._model.fit(processed_data, discrete_columns=discrete)

    def _sample(self, num_rows, conditions=None):
        """Conditions are met by the model itself (see ``PrivTabularModel.sample``);
        SDV's reject sampling then checks them all."""
        self._check_released()
        return self._model.sample(num_rows, conditions=conditions)

    # ------------------------------------------------------------------ sampling at scale
    def _check_released(self):
        if self._model is not None and self._model._components is None:
            raise SamplingError(
                f'This synthesizer was fitted by several processes and this copy is from '
                f'rank {self._model._rank}, which holds no released model: sample and save '
                'it on rank 0.')

    def sample(self, num_rows, main_table_name=None, max_tries_per_batch=100, batch_size=None,
               output_folder_path=None):
        """SDV's ``sample``: ``{table: DataFrame}``; with ``output_folder_path``, the rows
        are also written to ``<folder>/<table>.csv`` batch by batch as SDV does (all rows
        are still returned in memory: ``sample_to_folder`` does not keep them)."""
        if self._fitted:
            self._check_released()
        return super().sample(num_rows, main_table_name=main_table_name,
                              max_tries_per_batch=max_tries_per_batch, batch_size=batch_size,
                              output_folder_path=output_folder_path)

    def sample_batches(self, num_rows, batch_size=BATCH_SIZE, seed=None,
                       max_tries_per_batch=100):
        """``num_rows`` synthetic rows as an iterator of DataFrames of ``batch_size`` rows
        (the last one shorter), drawn one at a time: memory does not grow with
        ``num_rows``. Batch ``i`` is drawn with a seed derived from ``(seed, i)``, so the
        same ``seed`` gives the same rows, also from ``sdv_privgan.sampling
        .sample_parallel`` with any number of workers; ``seed=None`` draws one from the
        synthesizer's sampling state (reproducible after ``reset_sampling``)."""
        self._validate_fit_before_sample()
        self._check_released()
        return iter_chunks(self, num_rows, batch_size=batch_size, seed=seed,
                           max_tries_per_batch=max_tries_per_batch)

    def sample_to_folder(self, num_rows, output_folder_path, file_format='parquet',
                         batch_size=BATCH_SIZE, seed=None, max_tries_per_batch=100,
                         show_progress_bar=True):
        """Write ``num_rows`` synthetic rows to ``<output_folder_path>/<table>.parquet``
        (or ``.csv``) in batches of ``batch_size`` rows, with constant memory and a
        progress bar; the rows are those of ``sample_batches`` with the same ``seed``.
        Returns the path of the file (an existing one is never overwritten)."""
        self._validate_fit_before_sample()
        self._check_released()
        path = output_path(output_folder_path, self._table_name, file_format)
        batches = self.sample_batches(num_rows, batch_size=batch_size, seed=seed,
                                      max_tries_per_batch=max_tries_per_batch)
        write_chunks(batches, path, num_rows, file_format=file_format,
                     show_progress_bar=show_progress_bar)
        return path

    def add_constraints(self, constraints):
        """Add constraints, keeping categorical columns raw for the model (SDV 2.0 drops
        that setting when it rebuilds its data processor)."""
        super().add_constraints(constraints)
        self._update_default_transformers()

    def _check_fitted(self, what):
        if not self._fitted or self._model is None:
            raise NotFittedError(f'{what} needs a fitted synthesizer. Please fit it first.')

    def get_component_distinguishability(self, num_rows_per_component=2000, seed=0):
        """How well a classifier trained from scratch tells the components apart.

        Samples ``num_rows_per_component`` rows of each component, trains a fresh
        gradient-boosting classifier on half and scores the other half. Returns a dict:
        ``auc`` (0.5 means indistinguishable), ``accuracy``, ``chance_accuracy``, ``jsd``
        and ``max_jsd`` (nats). This, not the training-time JSD estimate, is the privacy
        gauge: generators can dodge the classifier they train against, not a fresh one.
        ``seed`` seeds both the rows drawn and the classifier.
        """
        self._check_fitted('Distinguishability')
        with seeded(seed, self._model._device):  # the same rows for the same seed
            return component_gauge(self._model, num_rows_per_component, seed=seed)

    def sample_components(self, n_per_component):
        """Features of fresh rows of each component (the gauge's protocol)."""
        self._check_fitted('Sampling components')
        return self._model.sample_components(n_per_component)

    def get_generator_access(self):
        """The released generators (decoders) for the latent-reconstruction attack of
        ``sdv_privgan.evaluation`` (``PrivacyReport.generate(latent_attack=True)``): what
        anyone holding the saved file can run."""
        self._check_fitted('The latent attack')
        return self._access(self)

    def get_white_box_scores(self, data):
        """Membership scores of rows from the kept training state (critics or encoders,
        and the component classifier); higher = more likely a training row. Needs
        ``keep_training_state=True``."""
        self._check_fitted('White-box scoring')
        if not self.keep_training_state:
            raise SamplingError('White-box scores need the training state: fit with '
                                'keep_training_state=True.')
        table = data.get(self._table_name) if isinstance(data, dict) else data
        processed = self._data_processor.transform(table)
        return self._model.white_box_scores(processed).set_axis(table.index)

    def get_loss_values_plot(self, title=None):
        """The per-epoch losses, with the JSD estimate (nats) on a second axis."""
        self._check_fitted('The loss plot')
        return loss_values_plot(self._model.loss_values,
                                title or f'{type(self).__name__} losses')

    # ------------------------------------------------------------------ persistence
    def __getstate__(self):
        state = self.__dict__.copy()
        state['_file_format'] = FILE_FORMAT
        state['_sdv_privgan_version'] = __version__
        return state

    def __setstate__(self, state):
        saved = state.get('_sdv_privgan_version', '0.1.0 or earlier')
        if state.get('_file_format') != FILE_FORMAT:
            raise VersionError(
                f'This {type(self).__name__} was saved by sdv_privgan {saved}, whose file '
                f'format this sdv_privgan {__version__} cannot read. Load it '
                f'with sdv_privgan {saved}, or fit the synthesizer again.')
        if saved != __version__:
            warnings.warn(f'This {type(self).__name__} was saved by sdv_privgan {saved} and '
                          f'is loaded by {__version__}.')
        self.__dict__.update(state)
        # Files saved before the argument existed fit their transformer as the default does.
        self.__dict__.setdefault('transformer_sample_size', TRANSFORMER_SAMPLE_SIZE)
