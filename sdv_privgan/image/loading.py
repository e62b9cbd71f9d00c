"""Reading images from arrays, torch datasets and folders; writing sample grids to PNG.

Everything ends up as one array per source (plus labels when the source has them), so the
rest of the package deals with arrays only. Pillow reads and writes files; torchvision is
not needed (and does not install beside a CPU-only torch on every machine).
"""

import os
from pathlib import Path

import numpy as np
import torch

IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp', '.gif', '.tif', '.tiff', '.webp')


def _read_file(path, mode):
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert(mode))


def _image_files(folder):
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def load_folder(path):
    """Images under ``path``: files directly in it, or one sub-folder per class.

    Returns ``(images, labels)``: a uint8 array ``(N, H, W)`` (all greyscale) or
    ``(N, H, W, 3)`` (any colour file makes all RGB) and the class-folder name of each image
    (``None`` without class folders). All images must have the same size.
    """
    from PIL import Image

    folder = Path(path)
    if not folder.is_dir():
        raise ValueError(f'{os.fspath(path)!r} is not a folder.')
    files, labels = _image_files(folder), None
    if not files:
        classes = sorted(p for p in folder.iterdir() if p.is_dir())
        per_class = [(c.name, _image_files(c)) for c in classes]
        files = [f for _, fs in per_class for f in fs]
        labels = np.array([name for name, fs in per_class for _ in fs])
    if not files:
        raise ValueError(f'No image files ({", ".join(IMAGE_SUFFIXES)}) in {os.fspath(path)!r} '
                         'or in its sub-folders.')
    modes = set()
    sizes = {}
    for f in files:
        with Image.open(f) as image:
            modes.add(image.mode)
            sizes.setdefault(image.size, f)
    if len(sizes) > 1:
        examples = ', '.join(f'{w}x{h} ({p.name})' for (w, h), p in list(sizes.items())[:3])
        raise ValueError(f'Images in {os.fspath(path)!r} differ in size: {examples}. Resize them '
                         'to one size first.')
    mode = 'L' if modes <= {'L', '1', 'I', 'I;16', 'F'} else 'RGB'
    return np.stack([_read_file(f, mode) for f in files]), labels


def _as_array(item):
    if isinstance(item, torch.Tensor):
        return item.detach().cpu().numpy()
    return np.asarray(item)  # numpy arrays and PIL images


def load_dataset(dataset):
    """Images (and labels) from a map-style torch ``Dataset``.

    Items are images or ``(image, label)`` pairs; an image is a torch tensor ``(C, H, W)``
    (torch's convention), a numpy array ``(H, W[, C])`` or a PIL image. Returns
    ``(images, labels, layout)``.
    """
    if len(dataset) == 0:
        raise ValueError('The dataset is empty: there is nothing to fit.')
    images, labels = [], []
    for i in range(len(dataset)):
        item = dataset[i]
        if isinstance(item, (tuple, list)):
            if len(item) != 2:
                raise ValueError(f'Dataset items must be an image or (image, label); item {i} '
                                 f'has {len(item)} parts.')
            item, label = item
            labels.append(label.item() if isinstance(label, torch.Tensor) else label)
        images.append(item)
    tensors = isinstance(images[0], torch.Tensor)
    images = [_as_array(image) for image in images]
    shapes = {image.shape for image in images}
    if len(shapes) > 1:
        raise ValueError(f'Dataset images differ in shape: {sorted(shapes)[:3]}.')
    array = np.stack(images)
    if tensors and array.ndim == 4:
        layout = 'channels_first'
    elif tensors and array.ndim == 3:  # (C, H, W) tensors with C == 1 are common
        layout = 'gray'
    else:
        layout = None
    if labels and len(labels) != len(images):
        raise ValueError('Some dataset items have labels and some do not.')
    return array, (np.asarray(labels) if labels else None), layout


def read_images(source):
    """``(images, labels_or_None, layout_or_None)`` from an array, tensor, Dataset or folder."""
    if isinstance(source, (str, os.PathLike)):
        images, labels = load_folder(source)
        return images, labels, None
    if isinstance(source, torch.utils.data.Dataset):
        return load_dataset(source)
    if isinstance(source, torch.Tensor):
        return source.detach().cpu(), None, None
    if isinstance(source, np.ndarray):
        return source, None, None
    raise TypeError(f'images must be a numpy array, a torch tensor, a torch Dataset or a folder '
                    f'path; got {type(source).__name__}.')


def save_image_grid(images, path, n_columns=None, upscale=4, value_range=None):
    """Write images ``(N, H, W)`` or ``(N, H, W, C)`` as one PNG grid; returns the path.

    uint8 images are written as they are; float images are mapped from ``value_range``
    (default ``(0, 1)``, or ``(-1, 1)`` when any value is negative) to 0..255.
    """
    from PIL import Image

    images = np.asarray(images)
    if images.ndim not in (3, 4):
        raise ValueError(f'images must be (N, H, W) or (N, H, W, C); got shape {images.shape}.')
    if images.dtype != np.uint8:
        low, high = value_range or ((-1.0, 1.0) if images.min() < 0 else (0.0, 1.0))
        images = np.clip((images.astype(np.float64) - low) / (high - low), 0, 1)
        images = np.rint(images * 255).astype(np.uint8)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    n, h, w = images.shape[:3]
    n_columns = n_columns or int(np.ceil(np.sqrt(n)))
    n_rows = int(np.ceil(n / n_columns))
    grid = np.zeros((n_rows * (h + 1) + 1, n_columns * (w + 1) + 1) + images.shape[3:], np.uint8)
    for i, image in enumerate(images):
        r, c = divmod(i, n_columns)
        grid[1 + r * (h + 1):1 + r * (h + 1) + h, 1 + c * (w + 1):1 + c * (w + 1) + w] = image
    picture = Image.fromarray(grid)
    if upscale > 1:
        picture = picture.resize((picture.width * upscale, picture.height * upscale),
                                 Image.NEAREST)
    picture.save(path)
    return path


# ------------------------------------------------------------------ IDX files (MNIST's format)
#: Where Debian's ``dataset-fashion-mnist`` package installs the Fashion-MNIST files.
FASHION_MNIST_FOLDER = '/usr/share/datasets/fashion-mnist'
_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: '>i2', 0x0C: '>i4', 0x0D: '>f4', 0x0E: '>f8'}


def read_idx(path):
    """An IDX file (the format of MNIST and Fashion-MNIST, gzipped or not) as an array."""
    import gzip

    path = Path(path)
    opener = gzip.open if path.suffix == '.gz' else open
    with opener(path, 'rb') as file:
        data = file.read()
    if len(data) < 4 or data[:2] != b'\x00\x00' or data[2] not in _IDX_TYPES:
        raise ValueError(f'{path.name} is not an IDX file (its first bytes are {data[:4]!r}).')
    ndim = data[3]
    shape = tuple(int(d) for d in np.frombuffer(data, '>u4', ndim, 4))
    dtype = np.dtype(_IDX_TYPES[data[2]])
    expected = 4 + 4 * ndim + int(np.prod(shape)) * dtype.itemsize
    if len(data) != expected:
        raise ValueError(f'{path.name} holds {len(data)} bytes; its header {shape} says '
                         f'{expected}.')
    array = np.frombuffer(data, dtype, offset=4 + 4 * ndim).reshape(shape)
    return array.astype(dtype.newbyteorder('='))


def _idx_file(folder, stem):
    for name in (f'{stem}.gz', stem):
        if (folder / name).exists():
            return folder / name
    return None


def load_fashion_mnist(folder=None, split='train'):
    """Fashion-MNIST (Xiao et al. 2017, MIT licence) from its IDX files: uint8 images
    ``(N, 28, 28)`` and labels 0..9; ``split`` is 'train' (60,000) or 'test' (10,000).

    Nothing is downloaded. ``folder`` defaults to where Debian's ``dataset-fashion-mnist``
    package puts the files; any folder with ``train-images-idx3-ubyte`` and the three
    other files (gzipped or not) works, e.g. MNIST's.
    """
    if split not in ('train', 'test'):
        raise ValueError(f"split must be 'train' or 'test'; got {split!r}.")
    folder = Path(folder or FASHION_MNIST_FOLDER)
    prefix = 'train' if split == 'train' else 't10k'
    images = _idx_file(folder, f'{prefix}-images-idx3-ubyte')
    labels = _idx_file(folder, f'{prefix}-labels-idx1-ubyte')
    if images is None or labels is None:
        raise FileNotFoundError(
            f'No Fashion-MNIST {split} files ({prefix}-images-idx3-ubyte[.gz], '
            f'{prefix}-labels-idx1-ubyte[.gz]) in {os.fspath(folder)!r}. Nothing is '
            'downloaded: on Debian or Ubuntu, `apt-get install dataset-fashion-mnist` '
            f'installs them in {FASHION_MNIST_FOLDER}; otherwise pass the folder that '
            'holds them.')
    x, y = read_idx(images), read_idx(labels)
    if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
        raise ValueError(f'{images.name} and {labels.name} do not match: shapes {x.shape} '
                         f'and {y.shape}.')
    return x, y.astype(np.int64)
