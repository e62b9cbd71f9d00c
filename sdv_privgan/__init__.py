"""Membership-inference-regularized GAN synthesizers for the SDV ecosystem."""

# SDV imports this package through its ``sdv_modules`` entry point while ``sdv`` itself
# initializes; importing ``sdv`` first makes that order hold whichever is imported first.
import sdv  # noqa: F401

from sdv_privgan._version import __version__
from sdv_privgan.tabular.synthesizer import PrivCTGANSynthesizer, PrivTVAESynthesizer

__all__ = ['PrivCTGANSynthesizer', 'PrivImageSynthesizer', 'PrivTVAESynthesizer', '__version__']


def __getattr__(name):
    # The image synthesizer is imported lazily: SDV imports this package on every
    # ``import sdv`` (entry point), and most users only need the tabular class.
    if name == 'PrivImageSynthesizer':
        from sdv_privgan.image import PrivImageSynthesizer
        return PrivImageSynthesizer
    raise AttributeError(f"module 'sdv_privgan' has no attribute '{name}'")
