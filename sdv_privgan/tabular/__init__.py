"""Tabular models with the membership regularizer: CTGAN's and TVAE's."""

from sdv_privgan.tabular.synthesizer import PrivCTGANSynthesizer, PrivTVAESynthesizer

__all__ = ['PrivCTGANSynthesizer', 'PrivTVAESynthesizer']
