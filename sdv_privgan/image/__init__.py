"""Image synthesis with the membership regularizer: data preparation, model, evaluation."""

from sdv_privgan.image.data import ImageFormat
from sdv_privgan.image.loading import load_folder, read_images, save_image_grid
from sdv_privgan.image.synthesizer import PrivImageSynthesizer

__all__ = ['ImageFormat', 'PrivImageSynthesizer', 'load_folder', 'read_images', 'save_image_grid']
