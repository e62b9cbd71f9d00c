"""CTGAN-style tabular model with the membership regularizer."""

from sdv_privgan.tabular.synthesizer import PrivCTGANSynthesizer

__all__ = ['PrivCTGANSynthesizer']
