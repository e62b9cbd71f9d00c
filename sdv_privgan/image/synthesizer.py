"""``PrivImageSynthesizer``: a DCGAN with K components and the membership regularizer.

Same vocabulary as the tabular synthesizer (``n_partitions``, ``privacy_weight``,
``epochs``, ``batch_size``, ``enable_gpu``, ``verbose``, ``keep_training_state``, ``fit``,
``sample``, ``save`` / ``load``, ``get_loss_values``), for arrays, torch datasets and
folders of image files. The released model is the mixture of the components, each drawn
with the weight of its partition.
"""

import dataclasses
import inspect
import secrets
import warnings

import numpy as np
import pandas as pd
import torch

from sdv_privgan.config import BOOLEAN, DEVICE, GameConfig, check_arguments, invalid
from sdv_privgan.evaluation.distinguishability import component_gauge
from sdv_privgan.game import (
    ComponentGame, derived_seed, partition_rows, partition_weights, rank_within, seeded)
from sdv_privgan.image.data import ImageFormat, encode_labels
from sdv_privgan.image.loading import read_images, save_image_grid
from sdv_privgan.image.training import RULES, ImageComponents
from sdv_privgan.losses import loss_values_plot

_CHUNK = 1024  # images per component per generator call when sampling


class PrivImageSynthesizer:
    """Image GAN whose K components are pushed, by a component classifier, to agree.

    Args:
        n_partitions (int): K, the number of disjoint partitions / generator components.
            ``1`` with ``privacy_weight=0`` is a plain (conditional) DCGAN.
        privacy_weight (float): lambda, the weight of the membership regularizer (the
            image default, 3, and the other game defaults come from the benchmark in
            docs/images.md).
        epochs (int): passes over the training images (each partition once per epoch).
        batch_size (int): images per step over all components (``batch_size // K`` each).
        conditional (bool or 'auto'): class-conditional generation; 'auto' = when labels exist.
        classifier_blur (int): the component classifier sees the images average-pooled by
            this factor (1: full resolution).
        classifier_spectral_norm (bool): spectral normalization of the classifier's layers.
        privacy_loss ('uniform' or 'jsd'): the regularizer's generator term (see
            ``MembershipRegularizer``).
        warmup_epochs (int or None): epochs before the regularizer's term reaches the
            generators (the classifier trains from the start); None: three quarters of
            ``epochs``, so that the components learn the images first and are then pulled
            together (see docs/images.md).
        ema_decay (float): release the moving average of the generators' weights (and
            batch-norm statistics) with this decay per step; 0 releases the last weights.
        image_size (int or None): the network's side; None pads to the next power of two.
        keep_training_state (bool): keep discriminators and classifier after ``fit`` (needed
            for ``get_white_box_scores``); they hold an imprint of the training images.
        seed (int or None): seed for partitions, initialization, training, sampling.
    """

    def __init__(self, n_partitions=2, privacy_weight=3.0, epochs=300, batch_size=64,
                 generator_lr=2e-4, discriminator_lr=2e-4, classifier_lr=1e-3, latent_dim=64,
                 generator_width=64, discriminator_width=64, classifier_width=32,
                 classifier_blur=1, classifier_spectral_norm=False, conditional='auto',
                 privacy_loss='uniform', classifier_steps=3, replay_size=256, warmup_epochs=None,
                 ema_decay=0.999, image_size=None, keep_training_state=False,
                 enable_gpu=True, device=None, verbose=False, seed=None):
        self.n_partitions = n_partitions
        self.privacy_weight = privacy_weight
        self.epochs = epochs
        self.batch_size = batch_size
        self.generator_lr = generator_lr
        self.discriminator_lr = discriminator_lr
        self.classifier_lr = classifier_lr
        self.latent_dim = latent_dim
        self.generator_width = generator_width
        self.discriminator_width = discriminator_width
        self.classifier_width = classifier_width
        self.classifier_blur = classifier_blur
        self.classifier_spectral_norm = classifier_spectral_norm
        self.conditional = conditional
        self.privacy_loss = privacy_loss
        self.classifier_steps = classifier_steps
        self.replay_size = replay_size
        self.warmup_epochs = warmup_epochs
        self.ema_decay = ema_decay
        self.image_size = image_size
        self.keep_training_state = keep_training_state
        self.enable_gpu = enable_gpu
        self.device = device
        self.verbose = verbose
        self.seed = seed
        self._checked()
        self._components = self._regularizer = self._format = self._classes = None
        self._weights = self._losses = None
        self._seed = self._sample_calls = 0

    def _checked(self):
        """``(GameConfig, options)``; raises ``InvalidArgumentError`` (a ``ValueError``)
        naming the first invalid argument."""
        arguments = vars(self)
        warmup = self.warmup_epochs
        config = GameConfig.from_arguments({**arguments, 'warmup_epochs': warmup or 0})
        if warmup is None:
            config = dataclasses.replace(config, warmup_epochs=3 * config.epochs // 4)
        options = check_arguments(arguments, RULES)
        check_arguments(arguments, {'enable_gpu': BOOLEAN, 'device': DEVICE})
        if self.conditional not in (True, False, 'auto'):
            invalid('conditional', self.conditional, "True, False or 'auto'")
        return config, options

    def get_parameters(self):
        """The constructor arguments, as passed."""
        names = inspect.signature(type(self).__init__).parameters
        return {name: getattr(self, name) for name in names if name != 'self'}

    def _device(self):
        if self.device is not None:
            return torch.device(self.device)
        return torch.device('cuda' if self.enable_gpu and torch.cuda.is_available() else 'cpu')

    # ------------------------------------------------------------------ fit
    def fit(self, images, labels=None, value_range=None):
        """Fit on images: an array ``(N, H, W[, C])``, a torch tensor or ``Dataset``, or a
        folder path (files, or one sub-folder per class). ``labels``: one per image, any
        hashable values; a folder's class names or a dataset's labels are used otherwise.
        ``value_range``: the ``(low, high)`` of float or non-uint8 pixel values when it is
        not ``[0, 1]`` or ``[-1, 1]``."""
        images, source_labels, layout = read_images(images)
        labels = source_labels if labels is None else labels
        fmt = ImageFormat.fit(images, value_range, self.image_size, layout)
        n = len(images)
        if self.conditional is True and labels is None:
            raise ValueError('conditional=True needs labels: pass labels=... or class folders.')
        codes = classes = None
        if labels is not None and self.conditional is not False:
            codes, classes = encode_labels(labels, n)
        if self.n_partitions > n:
            raise ValueError(f'Cannot split {n} images into n_partitions={self.n_partitions}.')
        data = fmt.to_model(images)

        config, options = self._checked()
        if config.n_partitions > 1 and config.privacy_weight and \
                config.warmup_epochs >= config.epochs:
            warnings.warn(f'warmup_epochs={config.warmup_epochs} >= epochs={config.epochs}: the '
                          'regularizer never reaches the generators.', stacklevel=2)
        # Unseeded, a fit still draws and keeps a seed: its samples are then reproducible.
        seed = secrets.randbits(32) if config.seed is None else config.seed
        device, k = self._device(), config.n_partitions
        with seeded(seed, device):
            partitions = partition_rows(n, k)
            weights = partition_weights(partitions, k)
            class_probs = None if codes is None else np.bincount(codes) / n
            components = ImageComponents(
                options, k, fmt.channels, fmt.size, class_probs, device,
                images=torch.as_tensor(data, device=device),
                labels=None if codes is None else torch.as_tensor(codes, device=device),
                partitions=partitions.to(device))
            game = ComponentGame(components, config, weights, device)
            losses = game.fit(max(1, n // config.batch_size))
            game.release()
        self._components, self._regularizer, self._losses = components, game.regularizer, losses
        self._format, self._classes = fmt, classes
        self._weights, self._seed, self._sample_calls = weights, seed, 0
        return self

    def _check_fitted(self):
        if self._components is None:
            raise RuntimeError('This PrivImageSynthesizer has not been fitted: call fit() first.')

    # ------------------------------------------------------------------ sample
    def _encode(self, labels, n):
        if self._classes is None:
            raise ValueError('This model is unconditional: sample() takes no labels.')
        labels = np.asarray(labels)
        labels = np.repeat(labels, n) if labels.ndim == 0 else labels
        if labels.ndim != 1 or len(labels) != n:
            raise ValueError(f'labels must have one value per sample: got shape {labels.shape} '
                             f'for n={n}.')
        codes = np.searchsorted(self._classes, labels)
        codes = np.clip(codes, 0, len(self._classes) - 1)
        unknown = self._classes[codes] != labels
        if unknown.any():
            raise ValueError(f'Unknown label(s) {sorted(set(labels[unknown].tolist()))[:5]}; the '
                             f'model knows {self._classes.tolist()}.')
        return codes

    @torch.no_grad()
    def _generate(self, components, codes, rng):
        """Model-space images ``(n, C, S, S)`` of the given components and label codes:
        each component generates its images in one call, in eval mode."""
        model, k = self._components, self.n_partitions
        counts = torch.bincount(components, minlength=k)
        slots = rank_within(components, counts)
        m = int(counts.max())
        labels = None
        if codes is not None:
            labels = torch.zeros(k, m, dtype=torch.long)
            labels[components, slots] = torch.as_tensor(codes)
            labels = labels.to(model.device)
        noise = torch.randn(k, m, self.latent_dim, generator=rng).to(model.device)
        model.generator.eval()
        return model.generate(noise, labels).cpu()[components, slots]

    def _rng(self):
        self._sample_calls += 1
        return torch.Generator().manual_seed(derived_seed(self._seed, self._sample_calls))

    def sample(self, n, labels=None):
        """Generate ``n`` images in the training images' format (dtype, value range, layout,
        size: uint8 in, uint8 out; ``(N, H, W)`` in, ``(n, H, W)`` out).

        Returns the images for an unconditional model, and ``(images, labels)`` for a
        conditional one: ``labels`` as given (a scalar is repeated ``n`` times), or drawn
        with the training class frequencies, as an array of the training labels' values.
        """
        self._check_fitted()
        if int(n) != n or n < 1:
            raise ValueError(f'n must be a positive integer; got {n!r}.')
        n, rng = int(n), self._rng()
        components = torch.multinomial(self._weights, n, replacement=True, generator=rng)
        codes = None
        if labels is not None:
            codes = self._encode(labels, n)
        elif self._classes is not None:
            probs = self._components.class_probs.cpu()
            codes = torch.multinomial(probs, n, replacement=True, generator=rng).numpy()
        chunks = []
        for start in range(0, n, _CHUNK * self.n_partitions):
            stop = start + _CHUNK * self.n_partitions
            chunk_codes = None if codes is None else codes[start:stop]
            chunks.append(self._generate(components[start:stop], chunk_codes, rng))
        images = self._format.from_model(torch.cat(chunks).numpy())
        return images if codes is None else (images, self._classes[codes])

    def save_sample_grid(self, path, n_per_class=10, n=64, upscale=4):
        """Write a PNG grid of samples: one row per class for a conditional model
        (``n_per_class`` each), else ``n`` images. Returns the path."""
        if self._classes is not None:
            labels = np.repeat(self._classes, n_per_class)
            images, _ = self.sample(len(labels), labels=labels)
            columns = n_per_class
        else:
            images, columns = self.sample(n), None
        if self._format.layout == 'channels_first':
            images = np.moveaxis(images, 1, -1)
        return save_image_grid(images, path, columns, upscale, self._format.value_range)

    # ------------------------------------------------------------------ privacy gauges
    def get_component_distinguishability(self, n_per_component=500, seed=0):
        """Post-hoc privacy gauge: a fresh classifier's held-out figures at telling the
        components' samples (image and label) apart (see ``component_distinguishability``)."""
        self._check_fitted()
        return component_gauge(self, n_per_component, seed=seed)

    def sample_component_images(self, n_per_component):
        """``n_per_component`` fresh images of each component, as ``sample`` releases them
        (the training images' format), ``(K, n, *image shape)``, and their labels ``(K, n)``
        (None for an unconditional model). Labels are drawn with the training class
        frequencies, the same for every component; the draw is fixed by the fit's seed and
        ``n_per_component``."""
        self._check_fitted()
        k = self.n_partitions
        rng = torch.Generator().manual_seed(derived_seed(self._seed, n_per_component))
        components = torch.arange(k).repeat_interleave(n_per_component)
        codes = None
        if self._classes is not None:
            probs = self._components.class_probs.cpu()
            codes = torch.multinomial(probs, len(components), True, generator=rng).numpy()
        images = self._format.from_model(self._generate(components, codes, rng).numpy())
        labels = None if codes is None else self._classes[codes].reshape(k, n_per_component)
        return images.reshape(k, n_per_component, *images.shape[1:]), labels

    def sample_components(self, n_per_component):
        """The gauge's protocol, ``(K, n, features)``: the images of ``released_in_model_space``
        flattened, beside their label one-hots."""
        images, onehot = self.released_in_model_space(n_per_component)
        features = np.hstack([images.reshape(len(images), -1), onehot])
        return features.reshape(self.n_partitions, n_per_component, -1)

    def released_in_model_space(self, n_per_component):
        """The released images of ``sample_component_images`` back in model space, so that
        uint8 images are compared as the user gets them (quantized, not the generator's
        floats), ``(K * n, C, S, S)`` component by component, and their label one-hots
        ``(K * n, n_classes)`` (no columns for an unconditional model)."""
        images, labels = self.sample_component_images(n_per_component)
        flat = images.reshape(self.n_partitions * n_per_component, *images.shape[2:])
        model_space = self._format.to_model(flat)
        if labels is None:
            return model_space, np.zeros((len(model_space), 0), np.float32)
        codes = np.searchsorted(self._classes, labels.reshape(-1))
        return model_space, np.eye(len(self._classes), dtype=np.float32)[codes]

    @torch.no_grad()
    def get_white_box_scores(self, images, labels=None):
        """Membership scores from the kept training state, one row per image.

        Columns: ``critic``, the highest probability of "real" among the K partition
        discriminators (LOGAN); ``classifier``, the component classifier's top confidence
        (NaN with one partition). Higher means more likely a member. A conditional model
        scores each image with its label, or with the most favourable label if none given.
        """
        self._check_fitted()
        model, regularizer = self._components, self._regularizer
        if model.discriminator is None:
            raise RuntimeError('White-box scores need the discriminators: fit with '
                               'keep_training_state=True.')
        device = model.device
        x = torch.as_tensor(self._format.to_model(read_images(images)[0]))
        if self._classes is None:
            candidates = [None]
        elif labels is not None:
            candidates = [torch.as_tensor(self._encode(labels, len(x)))]
        else:
            candidates = [torch.full((len(x),), c) for c in range(len(self._classes))]
        critic = torch.full((len(x),), -np.inf)
        confidence = torch.full((len(x),), -np.inf)
        k = self.n_partitions
        for codes in candidates:
            for start in range(0, len(x), _CHUNK):
                batch = x[start:start + _CHUNK].to(device)
                batch_codes = None if codes is None else codes[start:start + _CHUNK].to(device)
                inputs = model.inputs(batch, batch_codes)
                scores = model.discriminator(inputs.expand(k, *inputs.shape))
                part = slice(start, start + len(batch))
                critic[part] = torch.maximum(critic[part], torch.sigmoid(scores).max(0).values.cpu())
                if regularizer is not None:
                    view = model.classifier_view(inputs[None])[0]
                    probs = regularizer.classifier.eval()(view).softmax(1)
                    confidence[part] = torch.maximum(confidence[part], probs.max(1).values.cpu())
        if regularizer is None:
            confidence[:] = float('nan')
        return pd.DataFrame({'critic': critic.numpy(), 'classifier': confidence.numpy()})

    # ------------------------------------------------------------------ losses, persistence
    def get_loss_values(self):
        """Per-epoch losses: Epoch, Generator / Discriminator / Classifier Loss, JSD Estimate
        (NaN for the classifier columns with one partition)."""
        self._check_fitted()
        return self._losses.copy()

    def get_loss_values_plot(self, title='PrivImageSynthesizer losses'):
        """A plotly figure of the losses, with the JSD estimate on its own y axis."""
        return loss_values_plot(self.get_loss_values(), title)

    def save(self, path):
        """Save the model (generators, image format, labels; no training image)."""
        torch.save(self, path)

    @classmethod
    def load(cls, path):
        """Load a saved model onto the GPU if it was saved there and one is here, else CPU."""
        location = None if torch.cuda.is_available() else 'cpu'
        model = torch.load(path, map_location=location, weights_only=False)
        if not isinstance(model, cls):
            raise TypeError(f'{path!r} holds a {type(model).__name__}, not a {cls.__name__}.')
        return model
