"""The image model's components for the game: K DCGANs on disjoint partitions.

Each step draws ``m`` real images from every partition and generates ``m`` images per
component in one call; discriminator k scores real images of partition k only, against
component k's images (the data isolation the protection rests on).

The adversarial loss is the non-saturating one of DCGAN rather than WGAN-GP: it is the loss
of the published privGAN and LOGAN experiments, so the white-box attack on the
discriminators (which reads their probability) means the same here as there, and it needs
no second backward pass for a gradient penalty. With one partition the classifier is never
built and the loss is exactly DCGAN's.
"""

import torch
from torch.nn import functional

from sdv_privgan.components import adam
from sdv_privgan.config import BOOLEAN, POSITIVE, POSITIVE_INT, check_arguments
from sdv_privgan.game import ComponentModel, PartitionIndex
from sdv_privgan.image.networks import (
    BatchedImageDiscriminator, BatchedImageGenerator, conv_classifier, with_label_maps)

#: The image model's own arguments and the rules that check them.
RULES = {
    'generator_lr': POSITIVE, 'discriminator_lr': POSITIVE, 'latent_dim': POSITIVE_INT,
    'generator_width': POSITIVE_INT, 'discriminator_width': POSITIVE_INT,
    'classifier_width': POSITIVE_INT, 'classifier_blur': POSITIVE_INT,
    'classifier_spectral_norm': BOOLEAN,
}
BETAS = (0.5, 0.999)  # DCGAN's


class ImageComponents(ComponentModel):
    """K DCGAN generators and discriminators, trained through the game.

    ``n_classes=0`` means unconditional. ``class_probs`` (length ``n_classes``) are the
    class frequencies of all training images: every component draws its labels from the
    same distribution, so the classifier cannot tell components apart by label frequency.
    ``images`` and ``labels`` are the training set on the device, ``partitions`` the
    partition of each image.
    """

    average_buffers = True  # images are sampled in eval mode: batch-norm statistics too

    def __init__(self, options, n_partitions, channels, image_size, class_probs, device,
                 images=None, labels=None, partitions=None):
        options = check_arguments(options, RULES)
        k = self.n_components = n_partitions
        self.options, self.latent_dim, self.channels = options, options['latent_dim'], channels
        self.n_classes = 0 if class_probs is None else len(class_probs)
        self.class_probs = None if class_probs is None else torch.as_tensor(
            class_probs, dtype=torch.float32, device=device)
        self.images, self.labels = images, labels
        self.index = None if partitions is None else PartitionIndex(partitions, k)
        self.generator = BatchedImageGenerator(
            k, self.latent_dim + self.n_classes, channels, image_size,
            options['generator_width']).to(device)
        self.discriminator = BatchedImageDiscriminator(
            k, channels + self.n_classes, image_size, options['discriminator_width']).to(device)
        self.generator_optimizer = adam(self.generator, options['generator_lr'], betas=BETAS)
        self.discriminator_optimizer = adam(self.discriminator, options['discriminator_lr'],
                                            betas=BETAS)
        self._fake = None

    @property
    def device(self):
        return next(self.generator.parameters()).device

    def classifier(self, n_classes):
        return conv_classifier(self.channels + self.n_classes, n_classes,
                               self.options['classifier_width'], stem_stride=2,
                               spectral_norm=self.options['classifier_spectral_norm'])

    def classifier_view(self, samples):
        """The images (with their label maps) average-pooled by ``classifier_blur``: with
        a factor above 1 the classifier, and so the generators' term, compares the
        components' coarse content instead of their finest pixels."""
        factor = self.options['classifier_blur']
        if factor == 1:
            return samples
        k, m = samples.shape[:2]
        pooled = functional.avg_pool2d(samples.flatten(0, 1), factor)
        return pooled.reshape(k, m, *pooled.shape[1:])

    # ------------------------------------------------------------------ drawing
    def noise(self, m):
        return torch.randn(self.n_components, m, self.latent_dim, device=self.device)

    def fake_labels(self, m):
        if not self.n_classes:
            return None
        draws = torch.multinomial(self.class_probs, self.n_components * m, replacement=True)
        return draws.reshape(self.n_components, m)

    def draw_real(self, m):
        """``m`` real images (and labels) of each partition, drawn with one gather."""
        rows = self.index.draw(m)
        return self.images[rows], (self.labels[rows] if self.labels is not None else None)

    def generate(self, noise, labels):
        """Images of every component ``(K, m, C, S, S)`` from noise and labels ``(K, m)``."""
        if self.n_classes:
            onehot = functional.one_hot(labels, self.n_classes).to(noise.dtype)
            noise = torch.cat([noise, onehot], dim=2)
        return self.generator(noise)

    def inputs(self, images, labels):
        """Images with their labels as constant maps: what discriminators and the
        classifier see."""
        return with_label_maps(images, labels, self.n_classes)

    # ------------------------------------------------------------------ one step
    def critic_step(self, m):
        """The discriminators' update; the generated images are kept for the generators'
        step, as in DCGAN."""
        real, real_labels = self.draw_real(m)
        fake_labels = self.fake_labels(m)
        fake_in = self.inputs(self.generate(self.noise(m), fake_labels), fake_labels)
        d_real = self.discriminator(self.inputs(real, real_labels))
        d_fake = self.discriminator(fake_in.detach())
        loss = (functional.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real))
                + functional.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake)))
        self.discriminator_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.discriminator_optimizer.step()
        self._fake = fake_in
        return loss.detach()

    def generator_loss(self, m):
        fake_in, self._fake = self._fake, None
        scores = self.discriminator(fake_in)
        return functional.binary_cross_entropy_with_logits(scores, torch.ones_like(scores)), fake_in

    def release(self, keep_training_state):
        self.images = self.labels = self.index = self.discriminator_optimizer = None
        if not keep_training_state:
            self.discriminator = None
