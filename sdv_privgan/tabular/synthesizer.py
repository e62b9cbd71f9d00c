"""``PrivCTGANSynthesizer``: a drop-in SDV synthesizer with the membership regularizer."""

import warnings

import numpy as np
from ctgan.synthesizers._utils import _set_device
from sdv.errors import NotFittedError, SamplingError, SynthesizerInputError
from sdv.single_table.base import BaseSingleTableSynthesizer
from sdv.single_table.ctgan import LossValuesMixin, _validate_no_category_dtype
from sdv.single_table.utils import detect_discrete_columns

from sdv_privgan.losses import loss_values_plot
from sdv_privgan.regularizer import FORMS
from sdv_privgan.tabular.model import PrivCTGAN


class PrivCTGANSynthesizer(LossValuesMixin, BaseSingleTableSynthesizer):
    """CTGAN with K generator components trained on disjoint partitions of the rows and a
    regularizer that makes the components indistinguishable (membership protection).

    Every argument of SDV's ``CTGANSynthesizer`` has the same name, default and meaning.
    The extra ones:

    Args:
        n_partitions (int):
            Number of disjoint partitions of the training rows, one generator component
            and one critic each. 1 with ``privacy_weight=0`` is plain CTGAN. Defaults to 2.
        privacy_weight (float):
            Weight ``lambda`` of the membership regularizer. Defaults to 1.0.
        privacy_loss (str):
            ``'jsd'`` (the min-max JSD term, ``mean log C_k``) or ``'uniform'``
            (cross-entropy of the component classifier against the uniform
            distribution, bounded). Defaults to ``'jsd'``, which left the components
            least distinguishable in ``benchmarks/distinguishability.py``.
        classifier_dim (tuple of int):
            Hidden layer sizes of the component classifier. Defaults to (256, 256).
        classifier_lr (float):
            Learning rate of the component classifier. Defaults to 1e-3.
        classifier_steps (int):
            Classifier updates per generator update. Defaults to 1: with the weight
            average (``ema_decay``) and the replay buffer, five steps protected no
            better at 1.4 times the cost per epoch.
        classifier_pac (int):
            Rows of one component the classifier scores together. Defaults to 1.
        replay_size (int):
            Earlier generated rows per component the classifier keeps training on, so
            generators cannot escape it by moving back to where it forgot; each
            classifier step sees as many replayed rows as fresh ones. Defaults to 500:
            with small per-component batches it is what lowered the black-box
            membership attacks (``benchmarks/privacy_utility.py``), at no measurable
            cost in time.
        ema_decay (float):
            The released generators are an exponential moving average of their weights
            over training, with this decay per step; 0 releases the last weights, as
            CTGAN does. Averaging damps the generators' dodging of the classifier and
            left the components least distinguishable in
            ``benchmarks/distinguishability.py``. Defaults to 0.995.
        keep_training_state (bool):
            Keep the critics and the component classifier after ``fit`` (needed for
            white-box evaluation). They carry an imprint of the training rows, so by
            default they are dropped and a saved model holds the generators and the
            data transformers only. Defaults to False.
        device (str or None):
            Torch device to train on (e.g. ``'cuda:1'``); overrides ``enable_gpu``.
        seed (int or None):
            Seed for training (partitioning, initialization, batches); with a seed,
            fitting on CPU is reproducible. Defaults to None.
    """

    _model_sdtype_transformers = {'categorical': None, 'boolean': None, 'ordinal': None}

    def __init__(self, metadata, enforce_min_max_values=True, enforce_rounding=True,
                 locales=['en_US'], embedding_dim=128, generator_dim=(256, 256),
                 discriminator_dim=(256, 256), generator_lr=2e-4, generator_decay=1e-6,
                 discriminator_lr=2e-4, discriminator_decay=1e-6, batch_size=500,
                 discriminator_steps=1, log_frequency=True, verbose=False, epochs=300, pac=10,
                 enable_gpu=True, n_partitions=2, privacy_weight=1.0, privacy_loss='jsd',
                 classifier_dim=(256, 256), classifier_lr=1e-3, classifier_steps=1,
                 classifier_pac=1, replay_size=500, ema_decay=0.995, keep_training_state=False,
                 device=None, seed=None):
        super().__init__(metadata=metadata, enforce_min_max_values=enforce_min_max_values,
                         enforce_rounding=enforce_rounding, locales=locales)
        _check_arguments(batch_size, pac, n_partitions, privacy_weight, privacy_loss, epochs)
        self.embedding_dim = embedding_dim
        self.generator_dim = generator_dim
        self.discriminator_dim = discriminator_dim
        self.generator_lr = generator_lr
        self.generator_decay = generator_decay
        self.discriminator_lr = discriminator_lr
        self.discriminator_decay = discriminator_decay
        self.batch_size = batch_size
        self.discriminator_steps = discriminator_steps
        self.log_frequency = log_frequency
        self.verbose = verbose
        self.epochs = epochs
        self.pac = pac
        self.enable_gpu = enable_gpu
        self.n_partitions = n_partitions
        self.privacy_weight = privacy_weight
        self.privacy_loss = privacy_loss
        self.classifier_dim = classifier_dim
        self.classifier_lr = classifier_lr
        self.classifier_steps = classifier_steps
        self.classifier_pac = classifier_pac
        self.replay_size = replay_size
        self.ema_decay = ema_decay
        self.keep_training_state = keep_training_state
        self.device = device
        self.seed = seed

    def _model_kwargs(self):
        names = ['embedding_dim', 'generator_dim', 'discriminator_dim', 'generator_lr',
                 'generator_decay', 'discriminator_lr', 'discriminator_decay', 'batch_size',
                 'discriminator_steps', 'log_frequency', 'verbose', 'epochs', 'pac',
                 'n_partitions', 'privacy_weight', 'privacy_loss', 'classifier_dim',
                 'classifier_lr', 'classifier_steps', 'classifier_pac', 'replay_size',
                 'ema_decay', 'keep_training_state', 'seed']
        kwargs = {name: getattr(self, name) for name in names}
        kwargs['device'] = _set_device(self.enable_gpu, self.device)
        return kwargs

    def _validate(self, data):
        errors = []
        if len(data) == 0:
            return ['The training data is empty.']
        _validate_no_category_dtype(data)
        empty = [str(column) for column in data.columns if data[column].isna().all()]
        if empty:
            errors.append(f'Columns {empty} contain only missing values; drop them or fill '
                          'them before fitting.')
        smallest = len(data) // self.n_partitions
        if smallest < self.pac:
            errors.append(
                f'{len(data)} rows in {self.n_partitions} partitions leave {smallest} rows per '
                f'partition, fewer than pac={self.pac}. Use fewer partitions or a smaller pac.')
        return errors

    def _fit(self, processed_data):
        transformers = self._data_processor._hyper_transformer.field_transformers
        discrete = detect_discrete_columns(self.metadata, processed_data, transformers)
        self._model = PrivCTGAN(**self._model_kwargs())
        with warnings.catch_warnings():
            warnings.filterwarnings('ignore', message='.*Attempting to run cuBLAS.*')
            self._model.fit(processed_data, discrete_columns=discrete)

    def _sample(self, num_rows, conditions=None):
        """Discrete conditions are met by the model itself (see ``PrivCTGAN.sample``);
        SDV's reject sampling then enforces the others."""
        return self._model.sample(num_rows, conditions=conditions)

    def add_constraints(self, constraints):
        """Add constraints, keeping categorical columns raw for the model (SDV 2.0 drops
        that setting when it rebuilds its data processor)."""
        super().add_constraints(constraints)
        self._update_default_transformers()

    def _check_fitted(self, what):
        if not self._fitted or self._model is None:
            raise NotFittedError(f'{what} needs a fitted synthesizer. Please fit it first.')

    def get_component_distinguishability(self, num_rows_per_component=2000):
        """How well a classifier trained from scratch tells the components apart.

        Samples ``num_rows_per_component`` rows of each component, trains a fresh
        gradient-boosting classifier on half and scores the other half. Returns a dict:
        ``auc`` (0.5 means indistinguishable), ``accuracy``, ``chance_accuracy``, ``jsd``
        and ``max_jsd`` (nats). This, not the training-time JSD estimate, is the privacy
        gauge: generators can dodge the classifier they train against, not a fresh one.
        """
        self._check_fitted('Distinguishability')
        return self._model.component_distinguishability(num_rows_per_component)

    def get_white_box_scores(self, data):
        """Membership scores of rows from the kept critics (LOGAN: max over partition
        critics) and component classifier (max confidence); higher = more likely a
        training row. Needs ``keep_training_state=True``."""
        self._check_fitted('White-box scoring')
        if not self.keep_training_state:
            raise SamplingError('White-box scores need the critics: fit with '
                                'keep_training_state=True.')
        table = data.get(self._table_name) if isinstance(data, dict) else data
        processed = self._data_processor.transform(table)
        return self._model.white_box_scores(processed).set_axis(table.index)

    def get_loss_values_plot(self, title='PrivCTGAN loss function'):
        """Generator, critic and classifier losses per epoch, with the JSD estimate (nats)
        on a second axis."""
        self._check_fitted('The loss plot')
        return loss_values_plot(self._model.loss_values, title)


def _check_arguments(batch_size, pac, n_partitions, privacy_weight, privacy_loss, epochs):
    def invalid(name, value, expected):
        raise SynthesizerInputError(
            f"Invalid value '{value}' for parameter '{name}'. Please provide {expected}.")

    if not isinstance(n_partitions, (int, np.integer)) or n_partitions < 1:
        invalid('n_partitions', n_partitions, 'an integer >= 1')
    if not isinstance(privacy_weight, (int, float)) or privacy_weight < 0:
        invalid('privacy_weight', privacy_weight, 'a number >= 0')
    if privacy_loss not in FORMS:
        invalid('privacy_loss', privacy_loss, f'one of {FORMS}')
    if not isinstance(epochs, (int, np.integer)) or epochs < 1:
        invalid('epochs', epochs, 'an integer >= 1')
    step = pac * n_partitions
    if not isinstance(batch_size, (int, np.integer)) or batch_size < step \
            or batch_size % step or batch_size % 2:
        near = max(step * round(batch_size / step), step) if isinstance(batch_size, int) else step
        near += near % 2 * step
        invalid('batch_size', batch_size,
                f'an even multiple of pac * n_partitions = {step}, for example {near}')
