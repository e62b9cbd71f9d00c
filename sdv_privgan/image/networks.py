"""DCGAN-style networks for K components at once, and a small conv classifier.

Generators and discriminators take and return ``(K, m, ...)`` tensors like the tabular
components; inside, grouped convolutions (``groups=K``) run the K networks in one call.
Images are ``(C, S, S)`` with ``S`` a power of two >= 8; a generator starts from a 4x4 map
and doubles it until it reaches ``S``, a discriminator halves down to 4x4.
"""

import math

import torch
from torch import nn

from sdv_privgan.components import (
    BatchedBatchNorm2d, BatchedConv2d, BatchedConvTranspose2d, BatchedLinear, from_grouped,
    to_grouped)


def _n_doublings(image_size):
    return int(math.log2(image_size)) - 2


def dcgan_init(module):
    """DCGAN's initialization: N(0, 0.02) weights, N(1, 0.02) batch-norm scales."""
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(layer.weight, 0.0, 0.02)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
        elif isinstance(layer, nn.BatchNorm2d):
            nn.init.normal_(layer.weight, 1.0, 0.02)
            nn.init.zeros_(layer.bias)
    return module


class BatchedImageGenerator(nn.Module):
    """K DCGAN generators: ``(K, m, input_dim)`` -> ``(K, m, channels, S, S)`` in ``[-1, 1]``."""

    def __init__(self, n_components, input_dim, channels, image_size, width=64):
        super().__init__()
        n_up = _n_doublings(image_size)
        self.n_components, self.start_channels = n_components, width * 2 ** (n_up - 1)
        c = self.start_channels
        self.project = BatchedLinear(n_components, input_dim, c * 16)
        layers = [BatchedBatchNorm2d(n_components, c), nn.ReLU()]
        for _ in range(n_up - 1):
            layers += [BatchedConvTranspose2d(n_components, c, c // 2, 4, 2, 1, bias=False),
                       BatchedBatchNorm2d(n_components, c // 2), nn.ReLU()]
            c //= 2
        layers += [BatchedConvTranspose2d(n_components, c, channels, 4, 2, 1), nn.Tanh()]
        self.seq = nn.Sequential(*layers)
        dcgan_init(self)

    def forward(self, x):
        k, m = x.shape[:2]
        h = self.project(x).reshape(k, m, self.start_channels, 4, 4)
        return from_grouped(self.seq(to_grouped(h)), k)


class BatchedImageDiscriminator(nn.Module):
    """K DCGAN discriminators: ``(K, m, channels, S, S)`` -> logits ``(K, m)``.

    No batch norm: an image's score must not depend on the rest of its batch, so that the
    white-box scores of single images mean what they say and no statistic mixes real and
    generated images of different components.
    """

    def __init__(self, n_components, channels, image_size, width=64):
        super().__init__()
        layers, c_in, c = [], channels, width
        for _ in range(_n_doublings(image_size)):
            layers += [BatchedConv2d(n_components, c_in, c, 4, 2, 1), nn.LeakyReLU(0.2)]
            c_in, c = c, c * 2
        self.features = nn.Sequential(*layers)
        self.out = BatchedLinear(n_components, c_in * 16, 1)
        dcgan_init(self)

    def forward(self, x):
        k, m = x.shape[:2]
        h = from_grouped(self.features(to_grouped(x)), k).reshape(k, m, -1)
        return self.out(h).squeeze(2)


def conv_classifier(channels, n_outputs, width=32, dropout=0.0, stem_stride=1,
                    spectral_norm=False):
    """A small CNN ``(C, S, S)`` -> ``n_outputs`` logits, for any ``S >= 2``.

    The component classifier of the regularizer and the downstream (train-on-synthetic)
    classifier of the evaluation are both this network. The component classifier runs
    on every step, so it uses ``stem_stride=2``: a first convolution at full resolution
    made it cost four times the K generators and discriminators together.
    ``spectral_norm`` bounds every layer's Lipschitz constant (Miyato et al. 2018): a
    smoother classifier whose gradients do not point the generators at isolated pixels.
    """
    layers = [nn.Conv2d(channels, width, 3, stem_stride, 1), nn.LeakyReLU(0.2),
              nn.Conv2d(width, 2 * width, 3, 2, 1), nn.LeakyReLU(0.2),
              nn.Conv2d(2 * width, 2 * width, 3, 2, 1), nn.LeakyReLU(0.2),
              nn.AdaptiveAvgPool2d(2), nn.Flatten()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers += [nn.Linear(8 * width, 4 * width), nn.LeakyReLU(0.2), nn.Linear(4 * width, n_outputs)]
    if spectral_norm:
        layers = [nn.utils.parametrizations.spectral_norm(layer)
                  if isinstance(layer, (nn.Conv2d, nn.Linear)) else layer for layer in layers]
    return nn.Sequential(*layers)


def with_label_maps(images, labels, n_classes):
    """Append one constant map per class (one-hot) as extra channels, any leading shape."""
    if not n_classes:
        return images
    onehot = torch.nn.functional.one_hot(labels, n_classes).to(images.dtype)
    maps = onehot[..., None, None].expand(*onehot.shape, *images.shape[-2:])
    return torch.cat([images, maps], dim=-3)
