"""The one module that touches private internals of ctgan, rdt and SDV.

Everything here reads or sets an attribute that its library does not document. When a
new release of ctgan, rdt or SDV moves one, this is the file to change.
"""

import contextlib

import numpy as np
from ctgan.synthesizers._utils import _set_device
from sdv.single_table.ctgan import _validate_no_category_dtype

validate_no_category_dtype = _validate_no_category_dtype


def choose_device(enable_gpu, device=None):
    """The torch device SDV's synthesizers would pick: ``device`` if given, else CUDA
    (or Apple's MPS) when ``enable_gpu`` and available, else CPU."""
    return _set_device(enable_gpu, device)


def column_spans(transformer):
    """Per column of a fitted ``ctgan`` ``DataTransformer``: ``(name, column_type, span
    dims, encoder)``. A continuous column has a scalar span and a one-hot span of modes,
    a discrete column one one-hot span."""
    return [(info.column_name, info.column_type, [span.dim for span in info.output_info],
             info.transform) for info in transformer._column_transform_info_list]


def gaussian_modes(encoder):
    """Means and standard deviations of the modes an rdt ``ClusterBasedNormalizer`` kept,
    in the order of its one-hot span."""
    valid = encoder.valid_component_indicator
    means = encoder._bgm_transformer.means_.reshape(-1)[valid]
    stds = np.sqrt(encoder._bgm_transformer.covariances_).reshape(-1)[valid]
    return means, stds


def gaussian_mode_weights(encoder):
    """The mixture weights of the modes ``gaussian_modes`` returns, summing to 1."""
    weights = encoder._bgm_transformer.weights_[encoder.valid_component_indicator]
    return weights / weights.sum()


@contextlib.contextmanager
def fixed_mode_draws(transformer, seed=0):
    """Within the block, ``transformer.transform`` draws each value's Gaussian mode from a
    fixed seed (rdt's encoders keep their own random state), so that the same rows always
    get the same encoding; the encoders' state is restored after."""
    encoders = [encoder for _, kind, _, encoder in column_spans(transformer)
                if kind == 'continuous']
    saved = [encoder.random_states['transform'] for encoder in encoders]
    for encoder in encoders:
        encoder.random_states['transform'] = np.random.RandomState(seed)
    try:
        yield
    finally:
        for encoder, state in zip(encoders, saved):
            encoder.random_states['transform'] = state


def field_transformers(synthesizer):
    """The RDT transformer of each column of a fitted or configured SDV synthesizer."""
    return synthesizer._data_processor._hyper_transformer.field_transformers
