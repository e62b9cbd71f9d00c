"""``PrivCTGANSynthesizer`` and ``PrivTVAESynthesizer``: drop-in SDV synthesizers with the
membership regularizer. Measured effects are in ``docs/benchmarks.md``."""

from sdv_privgan.config import invalid
from sdv_privgan.tabular import ctgan, tvae
from sdv_privgan.tabular.access import PrivCTGANAccess, PrivTVAEAccess
from sdv_privgan.tabular.base import PrivTabularSynthesizer
from sdv_privgan.tabular.encoded import TRANSFORMER_SAMPLE_SIZE

_SHARED_ARGS = """
        n_partitions (int):
            Number of disjoint partitions of the training rows, one component each.
            1 with ``privacy_weight=0`` is the plain model. Defaults to 2.
        privacy_weight (float):
            Weight ``lambda`` of the membership regularizer. Defaults to 1.0.
        privacy_loss (str):
            ``'jsd'`` (the min-max JSD term, ``mean log C_k``) or ``'uniform'``
            (cross-entropy of the component classifier against the uniform
            distribution, bounded). Defaults to ``'jsd'``.
        classifier_dim (tuple of int):
            Hidden layer sizes of the component classifier. Defaults to (256, 256).
        classifier_lr (float):
            Learning rate of the component classifier. Defaults to 1e-3.
        classifier_steps (int):
            Classifier updates per generator update. Defaults to 1.
        replay_size (int):
            Earlier generated rows per component the classifier keeps training on, so
            generators cannot escape it by moving back to where it forgot. Defaults to 500.
        ema_decay (float):
            The released generators are an exponential moving average of their weights
            over training, with this decay per step; 0 releases the last weights.
        warmup_epochs (int):
            Epochs before the regularizer's term reaches the generators (the classifier
            trains from the start). Defaults to 0.
        keep_training_state (bool):
            Keep the critics or encoders and the component classifier after ``fit``
            (needed for white-box evaluation). They carry an imprint of the training
            rows, so by default they are dropped: a saved model holds the generators and
            the data transformers only. Defaults to False.
        device (str or None):
            Torch device to train on (e.g. ``'cuda:1'``); overrides ``enable_gpu``.
        seed (int or None):
            Seed for training (partitioning, initialization, batches); with a seed,
            fitting on CPU is reproducible. Defaults to None.
        transformer_sample_size (int or None):
            Rows the data transformer (CTGAN's Gaussian mixtures per continuous column and
            one-hot encoders) is fitted on when the table has more: a random sample plus
            the rows that hold every category and each column's extremes. None fits it on
            all rows, as CTGAN does. Defaults to 100,000.
"""


class PrivCTGANSynthesizer(PrivTabularSynthesizer):
    __doc__ = """CTGAN with K generator components trained on disjoint partitions of the
    rows and a regularizer that makes the components indistinguishable (membership
    protection).

    Every argument of SDV's ``CTGANSynthesizer`` has the same name, default and meaning;
    each component's share of a batch (``batch_size / n_partitions``) must hold whole
    groups of ``pac`` rows. The extra arguments:

    Args:""" + _SHARED_ARGS + """        classifier_pac (int):
            Rows of one component the classifier scores together. Defaults to 1.
    """

    _components = ctgan.CTGANComponents
    _access = PrivCTGANAccess
    _rules = ctgan.RULES
    _pac_argument = 'pac'

    def __init__(self, metadata, enforce_min_max_values=True, enforce_rounding=True,
                 locales=['en_US'], embedding_dim=128, generator_dim=(256, 256),
                 discriminator_dim=(256, 256), generator_lr=2e-4, generator_decay=1e-6,
                 discriminator_lr=2e-4, discriminator_decay=1e-6, batch_size=500,
                 discriminator_steps=1, log_frequency=True, verbose=False, epochs=300, pac=10,
                 enable_gpu=True, n_partitions=2, privacy_weight=1.0, privacy_loss='jsd',
                 classifier_dim=(256, 256), classifier_lr=1e-3, classifier_steps=1,
                 classifier_pac=1, replay_size=500, ema_decay=0.995, warmup_epochs=0,
                 keep_training_state=False, device=None, seed=None,
                 transformer_sample_size=TRANSFORMER_SAMPLE_SIZE):
        super().__init__(metadata=metadata, enforce_min_max_values=enforce_min_max_values,
                         enforce_rounding=enforce_rounding, locales=locales)
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
        self.warmup_epochs = warmup_epochs
        self.keep_training_state = keep_training_state
        self.device = device
        self.seed = seed
        self.transformer_sample_size = transformer_sample_size
        self._checked()

    def _checked(self):
        config, options = super()._checked()
        if config.component_batch % options['classifier_pac']:
            invalid('classifier_pac', self.classifier_pac,
                    f'a divisor of batch_size / n_partitions = {config.component_batch}')
        return config, options


class PrivTVAESynthesizer(PrivTabularSynthesizer):
    __doc__ = """TVAE with K encoder/decoder pairs trained on disjoint partitions of the
    rows and a regularizer that pushes the decoders to be indistinguishable; the
    released model is the mixture of the decoders. How much membership protection that
    gives TVAE is measured in docs/benchmarks.md (the audit section): audit your table
    with ``PrivacyReport`` before relying on it.

    Every argument of SDV's ``TVAESynthesizer`` has the same name, default and meaning;
    each component trains on ``batch_size // n_partitions`` rows per step. The extra
    arguments:

    Args:""" + _SHARED_ARGS + """        split_widths (bool):
            Divide ``compress_dims`` and ``decompress_dims`` among the components: each
            encoder and decoder is ``1 / n_partitions`` as wide, so that the K together
            are as wide as TVAE's network and each has capacity for its share of the
            rows. False gives every component TVAE's full widths, which lets each one
            memorize its fewer rows more (docs/benchmarks.md). Defaults to True.
    """

    _components = tvae.TVAEComponents
    _access = PrivTVAEAccess
    _rules = tvae.RULES

    def __init__(self, metadata, enforce_min_max_values=True, enforce_rounding=True,
                 embedding_dim=128, compress_dims=(128, 128), decompress_dims=(128, 128),
                 l2scale=1e-5, batch_size=500, verbose=False, epochs=300, loss_factor=2,
                 enable_gpu=True, n_partitions=2, privacy_weight=1.0, privacy_loss='jsd',
                 classifier_dim=(256, 256), classifier_lr=1e-3, classifier_steps=1,
                 replay_size=500, ema_decay=0.995, warmup_epochs=0, split_widths=True,
                 keep_training_state=False, device=None, seed=None,
                 transformer_sample_size=TRANSFORMER_SAMPLE_SIZE):
        super().__init__(metadata=metadata, enforce_min_max_values=enforce_min_max_values,
                         enforce_rounding=enforce_rounding)
        self.embedding_dim = embedding_dim
        self.compress_dims = compress_dims
        self.decompress_dims = decompress_dims
        self.l2scale = l2scale
        self.batch_size = batch_size
        self.verbose = verbose
        self.epochs = epochs
        self.loss_factor = loss_factor
        self.enable_gpu = enable_gpu
        self.n_partitions = n_partitions
        self.privacy_weight = privacy_weight
        self.privacy_loss = privacy_loss
        self.classifier_dim = classifier_dim
        self.classifier_lr = classifier_lr
        self.classifier_steps = classifier_steps
        self.replay_size = replay_size
        self.ema_decay = ema_decay
        self.warmup_epochs = warmup_epochs
        self.split_widths = split_widths
        self.keep_training_state = keep_training_state
        self.device = device
        self.seed = seed
        self.transformer_sample_size = transformer_sample_size
        self._checked()

    def _checked(self):
        config, options = super()._checked()
        return config, tvae.component_widths(options, config.n_partitions)

    def __setstate__(self, state):
        super().__setstate__(state)
        self.__dict__.setdefault('split_widths', False)  # files saved before the argument
