"""Image data preparation: validate, scale to [-1, 1], pad or resize, and undo it all.

The networks work on float tensors ``(N, C, S, S)`` in ``[-1, 1]`` with ``S`` a power of
two (at least 8). Users hand over whatever their pipeline has; ``ImageFormat`` remembers
how their images looked (layout, dtype, value range, size) so that samples come back in
the same format. It stores no pixel of any training image.
"""

import math
import warnings
from dataclasses import dataclass

import numpy as np
import torch

#: Layouts of user arrays: (N, H, W); (N, H, W, C); (N, C, H, W) as torch datasets yield.
LAYOUTS = ('gray', 'channels_last', 'channels_first')
MIN_SIZE = 8
_IMPLIED_RANGES = {np.dtype(np.uint8): (0.0, 255.0), np.dtype(np.uint16): (0.0, 65535.0),
                   np.dtype(bool): (0.0, 1.0)}


def guess_layout(images):
    """The layout of an image array, or a ValueError saying what shapes are accepted."""
    if images.ndim == 3:
        return 'gray'
    if images.ndim == 4:
        if isinstance(images, torch.Tensor):
            return 'channels_first'  # torch's own convention for image batches
        if images.shape[-1] in (1, 3, 4):
            return 'channels_last'
        if images.shape[1] in (1, 3, 4):
            raise ValueError(
                f'images of shape {tuple(images.shape)} look channels-first; numpy arrays '
                'must be (N, H, W, C): use np.moveaxis(images, 1, -1).')
        raise ValueError(f'Cannot read {images.shape[-1]} channels: images of shape '
                         f'{tuple(images.shape)} must have 1, 3 or 4 channels in the last axis.')
    raise ValueError(f'images must be an array of shape (N, H, W) or (N, H, W, C); got '
                     f'{images.ndim} dimension(s), shape {tuple(images.shape)}.')


def to_nchw(images, layout):
    """A float64 array ``(N, C, H, W)`` from an array in ``layout``."""
    array = images.detach().cpu().numpy() if isinstance(images, torch.Tensor) else images
    array = np.asarray(array)
    if layout == 'gray':
        array = array[:, None]
    elif layout == 'channels_last':
        array = np.moveaxis(array, -1, 1)
    return array


def infer_value_range(images, value_range=None):
    """The ``(low, high)`` range the pixel values live in; checks they really do.

    uint8 and uint16 imply their full range. Floats in ``[0, 1]`` or ``[-1, 1]`` are
    recognized; anything else needs an explicit ``value_range`` (e.g. ``(0, 16)`` for
    scikit-learn's digits), because guessing it from the data would make the black of one
    dataset the grey of another.
    """
    dtype = images.dtype if isinstance(images, np.ndarray) else np.dtype(
        str(images.dtype).replace('torch.', ''))
    array = images if isinstance(images, np.ndarray) else images.detach().cpu().numpy()
    if not (np.issubdtype(dtype, np.number) or dtype == bool):
        raise ValueError(f'images must be numeric; got dtype {dtype}.')
    if array.size == 0:
        raise ValueError('images is empty: there is nothing to fit.')
    if np.issubdtype(dtype, np.floating) and not np.isfinite(array).all():
        bad = int((~np.isfinite(array)).reshape(len(array), -1).any(1).sum())
        raise ValueError(f'images contain NaN or infinite values ({bad} image(s)).')
    low, high = float(array.min()), float(array.max())
    if value_range is None:
        value_range = _IMPLIED_RANGES.get(dtype)
    if value_range is None:
        if low >= 0 and high <= 1:
            value_range = (0.0, 1.0)
        elif low >= -1 and high <= 1:
            value_range = (-1.0, 1.0)
        else:
            raise ValueError(
                f'Cannot tell the value range of {dtype} images with values in '
                f'[{low:g}, {high:g}]: pass value_range=(low, high), e.g. (0, 255).')
    value_range = (float(value_range[0]), float(value_range[1]))
    if value_range[0] >= value_range[1]:
        raise ValueError(f'value_range must be (low, high) with low < high; got {value_range}.')
    if low < value_range[0] or high > value_range[1]:
        raise ValueError(f'images have values in [{low:g}, {high:g}], outside value_range '
                         f'{value_range}.')
    return value_range


def _model_size(height, width, image_size):
    if image_size is None:
        return max(MIN_SIZE, 2 ** math.ceil(math.log2(max(height, width))))
    if image_size < MIN_SIZE or image_size & (image_size - 1):
        raise ValueError(f'image_size must be a power of two >= {MIN_SIZE}; got {image_size}.')
    return image_size


def _resize(array, height, width):
    from PIL import Image

    out = np.empty(array.shape[:2] + (height, width), dtype=np.float32)
    for i, image in enumerate(array):
        for c, plane in enumerate(image):
            out[i, c] = np.asarray(Image.fromarray(plane.astype(np.float32), mode='F')
                                   .resize((width, height), Image.BILINEAR))
    return out


@dataclass
class ImageFormat:
    """How the user's images looked, and how they map to the model's ``(C, S, S)``."""

    layout: str
    height: int
    width: int
    channels: int
    dtype: str
    value_range: tuple
    size: int

    @classmethod
    def fit(cls, images, value_range=None, image_size=None, layout=None):
        """Read the format of ``images`` and check it; warn when padding or resizing."""
        layout = layout or guess_layout(images)
        value_range = infer_value_range(images, value_range)
        n, c, h, w = to_nchw(images[:1], layout).shape
        size = _model_size(h, w, image_size)
        dtype = str(images.dtype).replace('torch.', '')
        fmt = cls(layout, h, w, c, dtype, value_range, size)
        if fmt.resizes:
            warnings.warn(f'Resizing {h}x{w} images to {size}x{size} for the network; '
                          f'samples are resized back to {h}x{w}.', stacklevel=3)
        elif (h, w) != (size, size):
            warnings.warn(f'Padding {h}x{w} images to {size}x{size} (the generator makes '
                          'square images whose side is a power of two >= 8); samples are '
                          f'cropped back to {h}x{w}.', stacklevel=3)
        return fmt

    @property
    def resizes(self):
        return max(self.height, self.width) > self.size

    @property
    def shape(self):
        """The shape of one image in the user's layout."""
        return {'gray': (self.height, self.width),
                'channels_last': (self.height, self.width, self.channels),
                'channels_first': (self.channels, self.height, self.width)}[self.layout]

    def _offsets(self):
        return (self.size - self.height) // 2, (self.size - self.width) // 2

    def to_model(self, images):
        """User images -> float32 ``(N, C, S, S)`` in ``[-1, 1]`` (checked against the format)."""
        if images.ndim != len(self.shape) + 1 or tuple(images.shape[1:]) != self.shape:
            raise ValueError(f'Expected images of shape (N, {", ".join(map(str, self.shape))}) '
                             f'like the training images; got {tuple(images.shape)}.')
        infer_value_range(images, self.value_range)
        low, high = self.value_range
        array = (to_nchw(images, self.layout).astype(np.float32) - low) / (high - low) * 2 - 1
        if self.resizes:
            return _resize(array, self.size, self.size)
        out = np.full(array.shape[:2] + (self.size, self.size), -1.0, dtype=np.float32)
        top, left = self._offsets()
        out[:, :, top:top + self.height, left:left + self.width] = array
        return out

    def from_model(self, array):
        """Model output ``(N, C, S, S)`` in ``[-1, 1]`` -> images in the user's format."""
        array = np.asarray(array, dtype=np.float32)
        if self.resizes:
            array = _resize(array, self.height, self.width)
        else:
            top, left = self._offsets()
            array = array[:, :, top:top + self.height, left:left + self.width]
        low, high = self.value_range
        array = (np.clip(array, -1, 1) + 1) / 2 * (high - low) + low
        if self.layout == 'gray':
            array = array[:, 0]
        elif self.layout == 'channels_last':
            array = np.moveaxis(array, 1, -1)
        dtype = np.dtype(self.dtype)
        if np.issubdtype(dtype, np.integer) or dtype == bool:
            array = np.rint(array)
        return array.astype(dtype)


def encode_labels(labels, n_images):
    """Labels of any hashable type -> ``(codes, classes)``; checks length and missing values."""
    labels = np.asarray(labels.detach().cpu() if isinstance(labels, torch.Tensor) else labels)
    if labels.ndim != 1 or len(labels) != n_images:
        raise ValueError(f'labels must be one value per image: got shape {labels.shape} for '
                         f'{n_images} images.')
    if labels.dtype.kind == 'f' and np.isnan(labels).any():
        raise ValueError('labels contain NaN.')
    if labels.dtype == object and any(label is None for label in labels):
        raise ValueError('labels contain None.')
    classes, codes = np.unique(labels, return_inverse=True)
    return codes.astype(np.int64), classes
