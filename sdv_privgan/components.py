"""Layers that evaluate K independent networks in one call.

Every tensor flowing through these layers is shaped ``(K, batch, features)``: component
``k`` only ever touches slice ``k`` and its own weights, so K small networks cost one
batched matrix product instead of a Python loop over K. With ``K = 1`` each layer is the
ordinary torch layer it replaces (same initialization, same arithmetic).
"""

import math

import torch
from torch import nn


def adam(module, lr, betas=(0.5, 0.9), weight_decay=0.0):
    """Adam over ``module``'s parameters with torch's fused kernel, one call for all
    tensors (on CPU about 5x faster than the per-tensor loop torch uses by default,
    which matters for networks this small); the multi-tensor version where this torch
    has no fused Adam for the device."""
    try:
        return torch.optim.Adam(module.parameters(), lr=lr, betas=betas,
                                weight_decay=weight_decay, fused=True)
    except RuntimeError:
        return torch.optim.Adam(module.parameters(), lr=lr, betas=betas,
                                weight_decay=weight_decay, foreach=True)


class BatchedLinear(nn.Module):
    """K independent ``nn.Linear(in_features, out_features)`` layers."""

    def __init__(self, n_components, in_features, out_features):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_components, in_features, out_features))
        self.bias = nn.Parameter(torch.empty(n_components, 1, out_features))
        bound = 1 / math.sqrt(in_features)  # nn.Linear's default initialization
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        return torch.baddbmm(self.bias, x, self.weight)


class BatchedBatchNorm1d(nn.BatchNorm1d):
    """K independent ``nn.BatchNorm1d(features)``: statistics per component and feature."""

    def __init__(self, n_components, features):
        super().__init__(n_components * features)

    def forward(self, x):
        k, b, f = x.shape
        return super().forward(x.transpose(0, 1).reshape(b, k * f)).reshape(b, k, f).transpose(0, 1)


class BatchedResidual(nn.Module):
    """CTGAN's residual block (linear, batch norm, ReLU, concatenated input), K at once."""

    def __init__(self, n_components, in_features, out_features):
        super().__init__()
        self.fc = BatchedLinear(n_components, in_features, out_features)
        self.bn = BatchedBatchNorm1d(n_components, out_features)

    def forward(self, x):
        return torch.cat([torch.relu(self.bn(self.fc(x))), x], dim=2)


class BatchedGenerator(nn.Module):
    """K CTGAN generators: residual blocks, then a linear output layer."""

    def __init__(self, n_components, input_dim, hidden_dims, output_dim):
        super().__init__()
        layers, dim = [], input_dim
        for width in hidden_dims:
            layers.append(BatchedResidual(n_components, dim, width))
            dim += width
        layers.append(BatchedLinear(n_components, dim, output_dim))
        self.seq = nn.Sequential(*layers)

    def forward(self, x):
        return self.seq(x)


class BatchedCritic(nn.Module):
    """K PacGAN critics: each scores groups of ``pac`` rows of its own component.

    Input ``(K, batch, features)`` with ``batch`` divisible by ``pac``; output
    ``(K, batch // pac)``.
    """

    def __init__(self, n_components, input_dim, hidden_dims, pac=10, dropout=0.5):
        super().__init__()
        self.pac = pac
        layers, dim = [], input_dim * pac
        for width in hidden_dims:
            layers += [BatchedLinear(n_components, dim, width), nn.LeakyReLU(0.2),
                       nn.Dropout(dropout)]
            dim = width
        layers.append(BatchedLinear(n_components, dim, 1))
        self.seq = nn.Sequential(*layers)

    def forward(self, x):
        k, b, f = x.shape
        return self.seq(x.reshape(k, b // self.pac, self.pac * f)).squeeze(2)

    def gradient_penalty(self, real, fake, weight=10.0):
        """WGAN-GP on pac groups, per component, averaged over components and groups."""
        k, b, f = real.shape
        alpha = torch.rand(k, b // self.pac, 1, 1, device=real.device)
        alpha = alpha.expand(k, b // self.pac, self.pac, f).reshape(k, b, f)
        mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
        scores = self(mixed)
        grads, = torch.autograd.grad(scores.sum(), mixed, create_graph=True)
        norms = grads.reshape(k, b // self.pac, self.pac * f).norm(2, dim=2)
        return weight * ((norms - 1) ** 2).mean()


# Convolutional layers. A grouped convolution needs the components' channels side by
# side, so these layers take the grouped layout ``(batch, K * channels, H, W)`` (component
# k's channels in slice k) rather than ``(K, batch, ...)``; a network converts with
# ``to_grouped`` / ``from_grouped`` once at its entry and exit, not around every layer.
# ``groups=K`` keeps the components apart, and torch initializes each group from its own
# fan-in, so with any K each component starts like the ordinary layer it replaces.

def to_grouped(x):
    """``(K, batch, C, H, W)`` -> ``(batch, K * C, H, W)``."""
    k, b, c = x.shape[:3]
    return x.transpose(0, 1).reshape(b, k * c, *x.shape[3:])


def from_grouped(x, n_components):
    """``(batch, K * C, H, W)`` -> ``(K, batch, C, H, W)``."""
    b, kc = x.shape[:2]
    return x.reshape(b, n_components, kc // n_components, *x.shape[2:]).transpose(0, 1)


class BatchedConv2d(nn.Conv2d):
    """K independent ``nn.Conv2d(in_channels, out_channels, ...)`` on the grouped layout."""

    def __init__(self, n_components, in_channels, out_channels, kernel_size, stride=1,
                 padding=0, bias=True):
        super().__init__(n_components * in_channels, n_components * out_channels, kernel_size,
                         stride=stride, padding=padding, bias=bias, groups=n_components)


class BatchedConvTranspose2d(nn.ConvTranspose2d):
    """K independent ``nn.ConvTranspose2d`` on the grouped layout."""

    def __init__(self, n_components, in_channels, out_channels, kernel_size, stride=1,
                 padding=0, bias=True):
        super().__init__(n_components * in_channels, n_components * out_channels, kernel_size,
                         stride=stride, padding=padding, bias=bias, groups=n_components)


class BatchedBatchNorm2d(nn.BatchNorm2d):
    """K independent ``nn.BatchNorm2d(channels)``: statistics per component and channel."""

    def __init__(self, n_components, channels):
        super().__init__(n_components * channels)
