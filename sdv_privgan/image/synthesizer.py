"""``PrivImageSynthesizer``: a DCGAN with K components and the membership regularizer.

Same vocabulary as the tabular synthesizer (``n_partitions``, ``privacy_weight``,
``epochs``, ``batch_size``, ``enable_gpu``, ``verbose``, ``keep_training_state``, ``fit``,
``sample``, ``save`` / ``load``, ``get_loss_values``), for arrays, torch datasets and
folders of image files. The released model is the mixture of the components, each drawn
with the weight of its partition.
"""

import inspect

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from sdv_privgan.image.data import ImageFormat, encode_labels
from sdv_privgan.image.loading import read_images, save_image_grid
from sdv_privgan.image.training import ImageGANTrainer
from sdv_privgan.losses import LOSS_COLUMNS, loss_values_plot
from sdv_privgan.regularizer import component_distinguishability, partition_rows

_CHUNK = 1024  # images per component per generator call when sampling


class PrivImageSynthesizer:
    """Image GAN whose K components are pushed, by a component classifier, to agree.

    Args:
        n_partitions (int): K, the number of disjoint partitions / generator components.
            ``1`` with ``privacy_weight=0`` is a plain (conditional) DCGAN.
        privacy_weight (float): lambda, the weight of the membership regularizer.
        epochs (int): passes over the training images (each partition once per epoch).
        batch_size (int): images per step over all components (``batch_size // K`` each).
        conditional (bool or 'auto'): class-conditional generation; 'auto' = when labels exist.
        privacy_loss ('uniform' or 'jsd'): the regularizer's generator term (see
            ``MembershipRegularizer``).
        warmup_epochs (int): epochs before the regularizer's term reaches the generators
            (the classifier trains from the start).
        ema_decay (float): release the moving average of the generators' weights (and
            batch-norm statistics) with this decay per step; 0 releases the last weights.
        image_size (int or None): the network's side; None pads to the next power of two.
        keep_training_state (bool): keep discriminators and classifier after ``fit`` (needed
            for ``get_white_box_scores``); they hold an imprint of the training images.
        seed (int or None): seed for partitions, initialization, training, sampling.
    """

    def __init__(self, n_partitions=2, privacy_weight=1.0, epochs=300, batch_size=64,
                 generator_lr=2e-4, discriminator_lr=2e-4, classifier_lr=2e-4, latent_dim=64,
                 generator_width=64, discriminator_width=64, classifier_width=32,
                 conditional='auto', privacy_loss='uniform', classifier_steps=1,
                 replay_size=256, warmup_epochs=0, ema_decay=0.0, image_size=None,
                 keep_training_state=False,
                 enable_gpu=True, device=None, verbose=False, seed=None):
        if n_partitions < 1:
            raise ValueError(f'n_partitions must be at least 1; got {n_partitions}.')
        if batch_size < n_partitions:
            raise ValueError(f'batch_size ({batch_size}) must be at least n_partitions '
                             f'({n_partitions}): each component needs images in every step.')
        if conditional not in (True, False, 'auto'):
            raise ValueError(f"conditional must be True, False or 'auto'; got {conditional!r}.")
        self.n_partitions, self.privacy_weight = n_partitions, privacy_weight
        self.epochs, self.batch_size = epochs, batch_size
        self.generator_lr, self.discriminator_lr = generator_lr, discriminator_lr
        self.classifier_lr, self.latent_dim = classifier_lr, latent_dim
        self.generator_width, self.discriminator_width = generator_width, discriminator_width
        self.classifier_width, self.conditional = classifier_width, conditional
        self.privacy_loss, self.classifier_steps = privacy_loss, classifier_steps
        self.replay_size, self.warmup_epochs = replay_size, warmup_epochs
        self.ema_decay = ema_decay
        self.image_size, self.keep_training_state = image_size, keep_training_state
        self.enable_gpu, self.device, self.verbose = enable_gpu, device, verbose
        self.seed = seed
        self._trainer = self._format = self._classes = self._weights = None
        self._loss_rows, self._sample_calls = [], 0

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

        seed = self.seed
        if seed is None:
            seed = int(np.random.default_rng().integers(2 ** 62))
        device = self._device()
        k = self.n_partitions
        forked = [device] if device.type == 'cuda' else []
        with torch.random.fork_rng(devices=forked):
            torch.manual_seed(seed)
            rng = torch.Generator(device).manual_seed(seed)
            partitions = partition_rows(n, k, generator=torch.Generator().manual_seed(seed))
            weights = torch.bincount(partitions, minlength=k).float() / n
            class_probs = None if codes is None else np.bincount(codes) / n
            trainer = ImageGANTrainer(
                k, fmt.channels, fmt.size, 0 if codes is None else len(classes), class_probs,
                self.latent_dim, self.generator_width, self.discriminator_width,
                self.classifier_width, self.privacy_weight, self.privacy_loss,
                self.generator_lr, self.discriminator_lr, self.classifier_lr,
                self.classifier_steps, self.replay_size, device, rng, self.ema_decay)
            self._loss_rows = self._train(trainer, data, codes, partitions, device)
        trainer.release(self.keep_training_state)
        self._trainer, self._format, self._classes = trainer, fmt, classes
        self._weights, self._seed, self._sample_calls = weights, seed, 0
        return self

    def _train(self, trainer, data, codes, partitions, device):
        images = torch.as_tensor(data, device=device)
        labels = None if codes is None else torch.as_tensor(codes, device=device)
        table, sizes = trainer.partition_table(partitions.to(device))
        m = self.batch_size // self.n_partitions
        steps = max(1, len(images) // self.batch_size)
        rows = []
        bar = tqdm(range(self.epochs), disable=not self.verbose, desc='Fitting')
        for epoch in bar:
            losses = trainer.train_epoch(images, labels, table, sizes, m, steps,
                                         regularize=epoch >= self.warmup_epochs)
            rows.append({'Epoch': epoch, **losses})
            bar.set_postfix(gen=f"{losses['Generator Loss']:.2f}",
                            disc=f"{losses['Discriminator Loss']:.2f}",
                            jsd=f"{losses['JSD Estimate']:.3f}")
        return rows

    def _check_fitted(self):
        if self._trainer is None:
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
        """Model-space images ``(n, C, S, S)`` of the given components and label codes."""
        trainer, k = self._trainer, self.n_partitions
        device = next(trainer.generator.parameters()).device
        order = torch.argsort(components, stable=True)
        ranked = components[order]
        starts = torch.searchsorted(ranked, torch.arange(k))
        slots = torch.arange(len(ranked)) - starts[ranked]
        m = int(slots.max()) + 1
        labels = None
        if codes is not None:
            labels = torch.zeros(k, m, dtype=torch.long)
            labels[ranked, slots] = torch.as_tensor(codes)[order]
            labels = labels.to(device)
        noise = torch.randn(k, m, self.latent_dim, generator=rng).to(device)
        trainer.generator.eval()
        images = trainer.generate(noise, labels).cpu()
        out = torch.empty(len(components), *images.shape[2:])
        out[order] = images[ranked, slots]
        return out

    def _rng(self):
        self._sample_calls += 1
        return torch.Generator().manual_seed(self._seed * 1_000_003 + self._sample_calls)

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
            probs = self._trainer.class_probs.cpu()
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
        if self.n_partitions < 2:
            raise ValueError('Component distinguishability needs n_partitions >= 2.')
        rng = torch.Generator().manual_seed(seed)
        components = torch.arange(self.n_partitions).repeat_interleave(n_per_component)
        codes = None
        if self._classes is not None:
            probs = self._trainer.class_probs.cpu()
            codes = torch.multinomial(probs, len(components), True, generator=rng).numpy()
        features = self._generate(components, codes, rng).flatten(1).numpy()
        if codes is not None:
            features = np.hstack([features, np.eye(len(self._classes))[codes]])
        return component_distinguishability(features, components.numpy(), seed=seed)

    @torch.no_grad()
    def get_white_box_scores(self, images, labels=None):
        """Membership scores from the kept training state, one row per image.

        Columns: ``critic``, the highest probability of "real" among the K partition
        discriminators (LOGAN); ``classifier``, the component classifier's top confidence
        (NaN with one partition). Higher means more likely a member. A conditional model
        scores each image with its label, or with the most favourable label if none given.
        """
        self._check_fitted()
        trainer = self._trainer
        if trainer.discriminator is None:
            raise RuntimeError('White-box scores need the discriminators: fit with '
                               'keep_training_state=True.')
        device = next(trainer.discriminator.parameters()).device
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
                inputs = trainer._inputs(batch, batch_codes)
                scores = trainer.discriminator(inputs.expand(k, *inputs.shape))
                part = slice(start, start + len(batch))
                critic[part] = torch.maximum(critic[part], torch.sigmoid(scores).max(0).values.cpu())
                if trainer.regularizer is not None:
                    probs = trainer.regularizer.classifier.eval()(inputs).softmax(1)
                    confidence[part] = torch.maximum(confidence[part], probs.max(1).values.cpu())
        if trainer.regularizer is None:
            confidence[:] = float('nan')
        return pd.DataFrame({'critic': critic.numpy(), 'classifier': confidence.numpy()})

    # ------------------------------------------------------------------ losses, persistence
    def get_loss_values(self):
        """Per-epoch losses: Epoch, Generator / Discriminator / Classifier Loss, JSD Estimate
        (NaN for the classifier columns with one partition)."""
        self._check_fitted()
        return pd.DataFrame(self._loss_rows, columns=LOSS_COLUMNS)

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
