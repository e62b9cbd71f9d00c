"""The training game of the image model: K DCGANs on disjoint partitions plus the regularizer.

Each step draws ``m = batch_size // K`` real images from every partition, generates ``m``
images per component in one call, and updates

1. the K discriminators (discriminator k scores real images of partition k only, against
   component k's images: the data isolation the protection rests on);
2. the component classifier, on generated images only (``MembershipRegularizer.step``);
3. the generators: non-saturating adversarial loss per component plus
   ``MembershipRegularizer.generator_loss``.

The adversarial loss is the non-saturating one of DCGAN rather than WGAN-GP: it is the loss
of the published privGAN and LOGAN experiments, so the white-box attack on the
discriminators (which reads their probability) means the same here as there, and it needs
no second backward pass for a gradient penalty. With one partition the classifier is never
built and the loss is exactly DCGAN's.
"""

import torch
from torch.nn import functional

from sdv_privgan.image.networks import (
    BatchedImageDiscriminator, BatchedImageGenerator, conv_classifier, with_label_maps)
from sdv_privgan.components import adam
from sdv_privgan.regularizer import MembershipRegularizer, WeightAverage


class ImageGANTrainer:
    """Networks, optimizers and one training step of the image model.

    ``n_classes=0`` means unconditional. ``class_probs`` (length ``n_classes``) are the
    class frequencies of all training images: every component draws its labels from the
    same distribution, so the classifier cannot tell components apart by label frequency.
    """

    def __init__(self, n_partitions, channels, image_size, n_classes, class_probs, latent_dim,
                 generator_width, discriminator_width, classifier_width, privacy_weight,
                 privacy_loss, generator_lr, discriminator_lr, classifier_lr, classifier_steps,
                 replay_size, device, generator, ema_decay=0.0):
        self.k, self.n_classes, self.latent_dim = n_partitions, n_classes, latent_dim
        self.device, self.rng = device, generator
        self.class_probs = None if not n_classes else torch.as_tensor(
            class_probs, dtype=torch.float32, device=device)
        self.generator = BatchedImageGenerator(
            n_partitions, latent_dim + n_classes, channels, image_size, generator_width).to(device)
        self.discriminator = BatchedImageDiscriminator(
            n_partitions, channels + n_classes, image_size, discriminator_width).to(device)
        self.regularizer = None
        if n_partitions > 1:  # a classifier only exists when there is something to tell apart
            classifier = conv_classifier(channels + n_classes, n_partitions, classifier_width,
                                         stem_stride=2)
            self.regularizer = MembershipRegularizer(
                classifier, n_partitions, weight=privacy_weight, form=privacy_loss,
                lr=classifier_lr, classifier_steps=classifier_steps,
                replay_size=replay_size).to(device)
        self.g_optimizer = adam(self.generator, generator_lr, betas=(0.5, 0.999))
        # The released generators: the average of their weights and batch-norm statistics.
        self.average = WeightAverage(self.generator, ema_decay, buffers=True) \
            if ema_decay else None
        self.d_optimizer = adam(self.discriminator, discriminator_lr, betas=(0.5, 0.999))

    # ------------------------------------------------------------------ drawing
    def noise(self, m):
        return torch.randn(self.k, m, self.latent_dim, device=self.device, generator=self.rng)

    def fake_labels(self, m):
        if not self.n_classes:
            return None
        draws = torch.multinomial(self.class_probs, self.k * m, replacement=True,
                                  generator=self.rng)
        return draws.reshape(self.k, m)

    def generate(self, noise, labels):
        """Images of every component ``(K, m, C, S, S)`` from noise and labels ``(K, m)``."""
        if self.n_classes:
            onehot = functional.one_hot(labels, self.n_classes).to(noise.dtype)
            noise = torch.cat([noise, onehot], dim=2)
        return self.generator(noise)

    def _inputs(self, images, labels):
        return with_label_maps(images, labels, self.n_classes)

    # ------------------------------------------------------------------ one step
    def step(self, real, real_labels, noise=None, fake_labels=None, regularize=True):
        """One update of discriminators, classifier and generators; returns the losses.

        ``real`` is ``(K, m, C, S, S)`` with row k drawn from partition k only.
        """
        m = real.shape[1]
        noise = self.noise(m) if noise is None else noise
        if fake_labels is None:
            fake_labels = self.fake_labels(m)
        fake = self.generate(noise, fake_labels)
        fake_in = self._inputs(fake, fake_labels)

        d_real = self.discriminator(self._inputs(real, real_labels))
        d_fake = self.discriminator(fake_in.detach())
        d_loss = (functional.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real))
                  + functional.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake)))
        self.d_optimizer.zero_grad(set_to_none=True)
        d_loss.backward()
        self.d_optimizer.step()

        c_loss = jsd = torch.full((), float('nan'), device=self.device)
        if self.regularizer is not None:
            c_loss, jsd = self.regularizer.step(fake_in)

        g_scores = self.discriminator(fake_in)
        g_loss = functional.binary_cross_entropy_with_logits(g_scores, torch.ones_like(g_scores))
        if self.regularizer is not None and regularize:
            g_loss = g_loss + self.regularizer.generator_loss(fake_in)
        self.g_optimizer.zero_grad(set_to_none=True)
        g_loss.backward()
        self.g_optimizer.step()
        if self.average is not None:
            self.average.update()
        return {'Generator Loss': g_loss.detach(), 'Discriminator Loss': d_loss.detach(),
                'Classifier Loss': c_loss, 'JSD Estimate': jsd}

    # ------------------------------------------------------------------ an epoch
    def partition_table(self, partitions):
        """Row indices of each partition, padded: ``(K, max_size)`` and the sizes ``(K,)``."""
        sizes = torch.bincount(partitions, minlength=self.k)
        table = torch.zeros(self.k, int(sizes.max()), dtype=torch.long, device=self.device)
        for k in range(self.k):  # once per fit, not per step
            rows = torch.nonzero(partitions == k).squeeze(1)
            table[k, :len(rows)] = rows
        return table, sizes.to(self.device)

    def draw_real(self, images, labels, table, sizes, m):
        """``m`` real images of each partition, drawn on the device with one gather."""
        u = torch.rand(self.k, m, device=self.device, generator=self.rng)
        rows = table.gather(1, (u * sizes[:, None]).long())
        return images[rows], (labels[rows] if labels is not None else None)

    def train_epoch(self, images, labels, table, sizes, m, steps, regularize=True):
        """``steps`` training steps; returns the epoch's mean losses. The losses stay on
        the device until the end of the epoch: one host synchronization per epoch."""
        totals = None
        for _ in range(steps):
            real, real_labels = self.draw_real(images, labels, table, sizes, m)
            losses = self.step(real, real_labels, regularize=regularize)
            values = torch.stack([value.float() for value in losses.values()])
            totals = values if totals is None else totals + values
        return dict(zip(losses, (totals / steps).tolist()))

    def release(self, keep_training_state):
        """Drop what holds the imprint of the training images, unless asked to keep it."""
        self.rng = None
        self.g_optimizer = None
        if self.average is not None:
            self.generator, self.average = self.average.module.requires_grad_(True), None
        if not keep_training_state:
            self.discriminator = self.regularizer = self.d_optimizer = None
        elif self.regularizer is not None:
            self.regularizer.reset_replay()
