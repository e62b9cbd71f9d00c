"""The post-hoc gauge of an image model on three views of its samples.

``component_distinguishability`` trains a fresh classifier to tell the components'
samples apart. On images, what it picks up depends on what it is shown:

- ``pixels``: the released images, flattened (what ``get_component_distinguishability``
  reports). Two GANs trained on the *same* images differ in pixel-level fingerprints
  (a background a shade lighter, a stroke a pixel wider, the texture of transposed
  convolutions) that say nothing about which images either one saw.
- ``blurred``: the images average-pooled by ``factor`` (8x8 -> 4x4, 28x28 -> 14x14): the
  coarse shape of each image, without its finest detail.
- ``features``: a fixed CNN's last hidden layer. The CNN is trained once, on real images
  that are not the model's training images, to recognise their classes; it then maps
  every sample to what it looks like as content (class evidence, stroke style, shape),
  and the classifier compares the components there.

Each view keeps the label one-hots beside the image features (all components draw labels
from the same frequencies, so the label alone tells nothing). ``docs/images.md`` says
which view the privacy claim rests on, and why.
"""

import numpy as np
import torch
from torch.nn import functional

from sdv_privgan.evaluation.distinguishability import component_distinguishability


class ContentFeatures:
    """A fixed feature map of images: the last hidden layer of a CNN trained to classify
    real images.

    ``images`` are in model space ``(N, C, S, S)`` in ``[-1, 1]``, ``labels`` integer codes
    ``0..n_classes-1``; train it on images the gauged model never saw.
    """

    def __init__(self, images, labels, n_classes, epochs=30, seed=0, device='cpu'):
        from sdv_privgan.image.evaluation import train_cnn

        self.device = device
        network = train_cnn(np.asarray(images, dtype=np.float32), np.asarray(labels),
                            n_classes, epochs=epochs, seed=seed, device=device)
        self.network = network[:-1].eval()  # up to the last hidden activation

    @torch.no_grad()
    def __call__(self, images):
        x = torch.as_tensor(np.asarray(images, dtype=np.float32), device=self.device)
        chunks = [self.network(x[i:i + 1024]) for i in range(0, len(x), 1024)]
        return torch.cat(chunks).cpu().numpy()


def blurred(images, factor=2):
    """Model-space images ``(N, C, S, S)`` average-pooled by ``factor``, flattened."""
    x = torch.as_tensor(np.asarray(images, dtype=np.float32))
    return functional.avg_pool2d(x, factor).flatten(1).numpy()


def image_gauges(synthesizer, features=None, n_per_component=500, seed=0, factor=2):
    """``{view: component_distinguishability result}`` of a fitted ``PrivImageSynthesizer``
    on its released samples: ``pixels``, ``blurred`` and, given a ``ContentFeatures``,
    ``features``.

    All views see the same samples (``released_in_model_space``)."""
    k = synthesizer.n_partitions
    if k < 2:
        raise ValueError('Component distinguishability needs at least two components.')
    model_space, onehot = synthesizer.released_in_model_space(n_per_component)
    views = {'pixels': model_space.reshape(len(model_space), -1),
             'blurred': blurred(model_space, factor)}
    if features is not None:
        views['features'] = features(model_space)
    component = np.repeat(np.arange(k), n_per_component)
    return {name: component_distinguishability(np.hstack([view, onehot]), component, seed=seed)
            for name, view in views.items()}
