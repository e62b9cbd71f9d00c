"""Image data preparation: formats, scaling round trips, readers and their errors."""

import numpy as np
import pytest
import torch
from PIL import Image

from sdv_privgan.image.data import ImageFormat, encode_labels
from sdv_privgan.image.loading import load_folder, read_images, save_image_grid

torch.set_num_threads(1)


def _random_uint8(shape, seed=0):
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def test_uint8_gray_round_trip_is_exact():
    images = _random_uint8((5, 8, 8))
    fmt = ImageFormat.fit(images)
    model = fmt.to_model(images)
    assert model.shape == (5, 1, 8, 8) and model.dtype == np.float32
    assert model.min() >= -1 and model.max() <= 1
    back = fmt.from_model(model)
    assert back.dtype == np.uint8 and np.array_equal(back, images)


def test_float_channels_last_round_trip_and_clipping():
    images = np.random.default_rng(1).random((4, 16, 16, 3)).astype(np.float32)
    fmt = ImageFormat.fit(images)
    assert fmt.value_range == (0.0, 1.0) and fmt.size == 16
    back = fmt.from_model(fmt.to_model(images))
    assert back.shape == images.shape and back.dtype == np.float32
    np.testing.assert_allclose(back, images, atol=1e-6)
    # Generator outputs outside [-1, 1] never leave the user's value range.
    out = fmt.from_model(np.full((2, 3, 16, 16), 3.0, np.float32))
    assert out.max() == pytest.approx(1.0)


def test_odd_size_is_padded_with_a_warning_and_cropped_back():
    images = _random_uint8((3, 28, 28))
    with pytest.warns(UserWarning, match='Padding 28x28 images to 32x32'):
        fmt = ImageFormat.fit(images)
    model = fmt.to_model(images)
    assert model.shape == (3, 1, 32, 32)
    assert (model[:, :, :2] == -1).all()  # the border is background, not data
    assert np.array_equal(fmt.from_model(model), images)


def test_explicit_smaller_size_resizes_and_says_so():
    images = _random_uint8((2, 20, 20, 3))
    with pytest.warns(UserWarning, match='Resizing 20x20 images to 8x8'):
        fmt = ImageFormat.fit(images, image_size=8)
    assert fmt.to_model(images).shape == (2, 3, 8, 8)
    assert fmt.from_model(fmt.to_model(images)).shape == images.shape


def test_value_range_needed_for_unusual_ranges():
    digits = np.random.default_rng(2).integers(0, 17, (3, 8, 8)).astype(np.float64)
    digits[0, 0, 0] = 16
    with pytest.raises(ValueError, match='pass value_range'):
        ImageFormat.fit(digits)
    fmt = ImageFormat.fit(digits, value_range=(0, 16))
    np.testing.assert_allclose(fmt.from_model(fmt.to_model(digits)), digits, atol=1e-5)
    with pytest.raises(ValueError, match='outside value_range'):
        ImageFormat.fit(digits, value_range=(0, 10))


@pytest.mark.parametrize('images, message', [
    (np.zeros((4, 8)), 'dimension'),
    (np.zeros((2, 3, 8, 8, 1)), 'dimension'),
    (np.zeros((2, 3, 8, 8)), 'channels-first'),
    (np.zeros((2, 8, 8, 5)), '5 channels'),
    (np.zeros((0, 8, 8)), 'empty'),
    (np.array([[[np.nan] * 8] * 8]), 'NaN'),
    (np.array([['a'] * 8] * 8)[None], 'numeric'),
])
def test_bad_arrays_get_clear_errors(images, message):
    with pytest.raises(ValueError, match=message):
        ImageFormat.fit(images)


def test_to_model_rejects_images_of_another_shape():
    fmt = ImageFormat.fit(_random_uint8((2, 8, 8)))
    with pytest.raises(ValueError, match=r'shape \(N, 8, 8\)'):
        fmt.to_model(_random_uint8((2, 16, 16)))


def test_labels_are_checked_and_encoded():
    codes, classes = encode_labels(['b', 'a', 'b'], 3)
    assert codes.tolist() == [1, 0, 1] and classes.tolist() == ['a', 'b']
    with pytest.raises(ValueError, match='one value per image'):
        encode_labels([0, 1], 3)
    with pytest.raises(ValueError, match='NaN'):
        encode_labels([0.0, np.nan, 1.0], 3)


def _write(folder, name, array):
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(folder / name)


def test_folder_with_class_subfolders(tmp_path):
    images = _random_uint8((4, 8, 8))
    for i, image in enumerate(images):
        _write(tmp_path / ('cat' if i < 2 else 'dog'), f'{i}.png', image)
    loaded, labels = load_folder(tmp_path)
    assert np.array_equal(loaded, images)
    assert labels.tolist() == ['cat', 'cat', 'dog', 'dog']


def test_flat_folder_mixed_modes_become_rgb(tmp_path):
    _write(tmp_path, 'a.png', _random_uint8((8, 8)))
    _write(tmp_path, 'b.png', _random_uint8((8, 8, 3)))
    loaded, labels = load_folder(tmp_path)
    assert loaded.shape == (2, 8, 8, 3) and labels is None


def test_folder_errors(tmp_path):
    (tmp_path / 'empty' / 'sub').mkdir(parents=True)
    with pytest.raises(ValueError, match='No image files'):
        load_folder(tmp_path / 'empty')
    with pytest.raises(ValueError, match='not a folder'):
        load_folder(tmp_path / 'missing')
    _write(tmp_path / 'mixed', 'a.png', _random_uint8((8, 8)))
    _write(tmp_path / 'mixed', 'b.png', _random_uint8((9, 8)))
    with pytest.raises(ValueError, match='differ in size'):
        load_folder(tmp_path / 'mixed')


class _Pairs(torch.utils.data.Dataset):
    def __init__(self, images, labels):
        self.images, self.labels = images, labels

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.images[i], self.labels[i]


def test_torch_dataset_of_chw_tensors():
    tensors = torch.rand(3, 3, 8, 8)
    images, labels, layout = read_images(_Pairs(tensors, torch.tensor([0, 1, 1])))
    assert layout == 'channels_first' and images.shape == (3, 3, 8, 8)
    assert labels.tolist() == [0, 1, 1]
    fmt = ImageFormat.fit(images, layout=layout)
    np.testing.assert_allclose(fmt.from_model(fmt.to_model(images)), tensors.numpy(), atol=1e-6)


def test_read_images_rejects_other_types():
    with pytest.raises(TypeError, match='numpy array'):
        read_images([[0, 1]])


def test_save_image_grid(tmp_path):
    path = save_image_grid(_random_uint8((6, 8, 8)), tmp_path / 'grid.png', n_columns=3, upscale=2)
    with Image.open(path) as grid:
        assert grid.size == ((3 * 9 + 1) * 2, (2 * 9 + 1) * 2)


def _write_idx(path, array, gz=False):
    import gzip

    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, '>u4').tobytes()
    opener = gzip.open if gz else open
    with opener(path, 'wb') as file:
        file.write(header + array.astype(np.uint8).tobytes())


def test_idx_files_read_back_and_bad_files_are_refused(tmp_path):
    from sdv_privgan.image.loading import load_fashion_mnist, read_idx

    images, labels = _random_uint8((6, 28, 28)), np.arange(6, dtype=np.uint8)
    _write_idx(tmp_path / 'train-images-idx3-ubyte.gz', images, gz=True)
    _write_idx(tmp_path / 'train-labels-idx1-ubyte', labels)
    assert np.array_equal(read_idx(tmp_path / 'train-images-idx3-ubyte.gz'), images)
    x, y = load_fashion_mnist(tmp_path)
    assert np.array_equal(x, images) and y.tolist() == list(range(6)) and y.dtype == np.int64
    with pytest.raises(FileNotFoundError, match='apt-get install dataset-fashion-mnist'):
        load_fashion_mnist(tmp_path, split='test')
    with pytest.raises(ValueError, match="'train' or 'test'"):
        load_fashion_mnist(tmp_path, split='valid')
    (tmp_path / 'not.idx').write_bytes(b'\x89PNG\r\n')
    with pytest.raises(ValueError, match='not an IDX file'):
        read_idx(tmp_path / 'not.idx')
    _write_idx(tmp_path / 'short.idx', images)
    (tmp_path / 'short.idx').write_bytes((tmp_path / 'short.idx').read_bytes()[:-5])
    with pytest.raises(ValueError, match='its header'):
        read_idx(tmp_path / 'short.idx')
    _write_idx(tmp_path / 't10k-images-idx3-ubyte', images)
    _write_idx(tmp_path / 't10k-labels-idx1-ubyte', labels[:5])
    with pytest.raises(ValueError, match='do not match'):
        load_fashion_mnist(tmp_path, split='test')
