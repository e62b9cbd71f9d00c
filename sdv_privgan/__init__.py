"""Membership-inference-regularized GAN synthesizers for the SDV ecosystem."""

__version__ = '0.1.0'
