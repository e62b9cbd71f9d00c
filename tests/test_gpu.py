"""Checks that need a CUDA device; they run on the GPU machine (benchmarks/gpu.sh) and
are skipped elsewhere."""

import pickle
import warnings

import numpy as np
import pytest
import torch

from sdv_privgan import PrivCTGANSynthesizer, PrivImageSynthesizer

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA device')


def test_tabular_trains_on_gpu_and_pickles_for_cpu(mixed_table, metadata):
    synthesizer = PrivCTGANSynthesizer(metadata, epochs=3, batch_size=40, seed=0,
                                       keep_training_state=True)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        synthesizer.fit({'people': mixed_table})
    assert next(synthesizer._model._components.generator.parameters()).is_cuda
    assert synthesizer._model._layout.tanh_index.is_cuda
    assert len(synthesizer.sample(100)['people']) == 100
    assert len(synthesizer.get_white_box_scores(mixed_table.head(10))) == 10
    restored = pickle.loads(pickle.dumps(synthesizer))
    restored._model.set_device('cpu')
    assert len(restored.sample(20)['people']) == 20


def test_images_train_on_gpu():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (64, 8, 8), dtype=np.uint8)
    synthesizer = PrivImageSynthesizer(epochs=2, batch_size=16, seed=0)
    synthesizer.fit(images)
    assert synthesizer.sample(8).shape == (8, 8, 8)
