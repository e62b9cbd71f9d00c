"""PrivImageSynthesizer on tiny digits: fit, sample, persistence, isolation, reduction."""

import copy
import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from torch.nn import functional

from sdv_privgan.components import BatchedConv2d, BatchedConvTranspose2d, to_grouped
from sdv_privgan.image import ImageFormat, PrivImageSynthesizer
from sdv_privgan.image.demo import load_digits_images
from sdv_privgan.image.networks import with_label_maps
from sdv_privgan.config import GameConfig
from sdv_privgan.game import ComponentGame
from sdv_privgan.image.training import ImageComponents

torch.set_num_threads(1)
IMAGES, LABELS = load_digits_images()
SMALL = dict(epochs=2, batch_size=32, generator_width=16, discriminator_width=16,
             classifier_width=8, latent_dim=16, enable_gpu=False)


OPTIONS = {'generator_lr': 2e-4, 'discriminator_lr': 2e-4, 'latent_dim': 16,
           'generator_width': 16, 'discriminator_width': 16, 'classifier_width': 8,
           'classifier_blur': 1, 'classifier_spectral_norm': False}


def _fit(n=96, labels=True, **kwargs):
    params = {**SMALL, **kwargs}
    model = PrivImageSynthesizer(**params)
    return model.fit(IMAGES[:n], LABELS[:n] if labels else None)


@pytest.fixture(scope='module')
def kept():
    return _fit(n_partitions=2, privacy_weight=1.0, keep_training_state=True, seed=0)


def test_sample_with_and_without_labels(kept):
    images, labels = kept.sample(25)
    assert images.shape == (25, 8, 8) and images.dtype == np.uint8
    assert set(labels) <= set(range(10))
    images, labels = kept.sample(4, labels=[3, 3, 7, 0])
    assert labels.tolist() == [3, 3, 7, 0] and images.shape == (4, 8, 8)
    _, labels = kept.sample(3, labels=5)
    assert labels.tolist() == [5, 5, 5]


def test_sample_errors(kept):
    with pytest.raises(ValueError, match='one value per sample'):
        kept.sample(3, labels=[1, 2])
    with pytest.raises(ValueError, match='Unknown label'):
        kept.sample(2, labels=[1, 42])
    with pytest.raises(ValueError, match='positive integer'):
        kept.sample(0)


def test_unconditional_model_returns_images_only():
    model = _fit(labels=False, n_partitions=2, seed=1)
    images = model.sample(6)
    assert isinstance(images, np.ndarray) and images.shape == (6, 8, 8)
    with pytest.raises(ValueError, match='unconditional'):
        model.sample(2, labels=[0, 1])


def test_float_rgb_images_come_back_in_their_format():
    rgb = np.repeat(IMAGES[:64, :, :, None], 3, axis=3).astype(np.float32) / 255
    model = PrivImageSynthesizer(**{**SMALL, 'epochs': 1}, conditional=False, seed=0)
    images = model.fit(rgb).sample(5)
    assert images.shape == (5, 8, 8, 3) and images.dtype == np.float32
    assert images.min() >= 0 and images.max() <= 1


def test_fit_errors():
    model = PrivImageSynthesizer(**SMALL)
    with pytest.raises(ValueError, match='one value per image'):
        model.fit(IMAGES[:20], LABELS[:19])
    with pytest.raises(ValueError, match='dimension'):
        model.fit(IMAGES[:20].reshape(20, 64))
    bad = IMAGES[:20].astype(np.float32) / 255
    bad[3, 1, 1] = np.nan
    with pytest.raises(ValueError, match='NaN'):
        model.fit(bad)
    with pytest.raises(ValueError, match='needs labels'):
        PrivImageSynthesizer(**SMALL, conditional=True).fit(IMAGES[:20])
    with pytest.raises(ValueError, match='batch_size'):
        PrivImageSynthesizer(n_partitions=8, batch_size=4)
    with pytest.raises(ValueError, match='warmup_epochs'):
        PrivImageSynthesizer(warmup_epochs=-1)
    with pytest.warns(UserWarning, match='never reaches the generators'):
        PrivImageSynthesizer(**{**SMALL, 'epochs': 1}, warmup_epochs=1).fit(IMAGES[:20])
    with pytest.raises(RuntimeError, match='not been fitted'):
        PrivImageSynthesizer().sample(3)


def test_same_seed_same_model_other_seed_other_model():
    a, b = _fit(n=64, seed=3), _fit(n=64, seed=3)
    c = _fit(n=64, seed=4)
    pd.testing.assert_frame_equal(a.get_loss_values(), b.get_loss_values())
    assert np.array_equal(a.sample(20)[0], b.sample(20)[0])
    assert not np.array_equal(a.sample(20)[0], c.sample(20)[0])


def test_weight_average_changes_the_released_generators_not_training():
    last, averaged = _fit(n=64, seed=3, ema_decay=0.0), _fit(n=64, seed=3, ema_decay=0.9)
    pd.testing.assert_frame_equal(last.get_loss_values(), averaged.get_loss_values())
    state = averaged._components.generator.state_dict()
    final = last._components.generator.state_dict()
    weights = [name for name, value in averaged._components.generator.named_parameters()]
    assert any(not torch.equal(state[name], final[name]) for name in weights)
    assert any(not torch.equal(state[name], final[name]) for name in state
               if 'running_mean' in name)  # batch-norm statistics are averaged too
    assert averaged.sample(5)[0].shape == (5, 8, 8)


def test_save_load_and_nothing_of_the_training_state(tmp_path, kept):
    dropped = _fit(n_partitions=2, seed=0)
    assert dropped._components.discriminator is None and dropped._regularizer is None
    with pytest.raises(RuntimeError, match='keep_training_state=True'):
        dropped.get_white_box_scores(IMAGES[:3], LABELS[:3])
    dropped.save(tmp_path / 'model.pt')
    loaded = PrivImageSynthesizer.load(tmp_path / 'model.pt')
    state = dropped._sample_calls
    expected = dropped.sample(10, labels=np.arange(10))[0]
    loaded._sample_calls = state
    assert np.array_equal(loaded.sample(10, labels=np.arange(10))[0], expected)


def test_pickle_holds_no_training_image_and_does_not_grow():
    small, large = (_fit(n=n, n_partitions=2, seed=0) for n in (64, 320))
    small_bytes, large_bytes = pickle.dumps(small), pickle.dumps(large)
    # 256 more images would add 256 * 64 bytes as uint8, four times that as float32.
    assert abs(len(large_bytes) - len(small_bytes)) < 1024
    model_space = large._format.to_model(IMAGES[:320])
    for i in (0, 100, 319):
        assert IMAGES[i].tobytes() not in large_bytes
        assert model_space[i].tobytes() not in large_bytes


def test_white_box_scores(kept):
    scores = kept.get_white_box_scores(IMAGES[:7], LABELS[:7])
    assert list(scores.columns) == ['critic', 'classifier'] and len(scores) == 7
    assert scores['critic'].between(0, 1).all()
    assert scores['classifier'].between(0.5, 1).all()  # max of 2 probabilities
    unlabelled = kept.get_white_box_scores(IMAGES[:7])
    # Without labels, the most favourable label is used: never below the true label's score.
    assert (unlabelled['critic'] >= scores['critic'] - 1e-6).all()


def test_losses_plot_parameters_and_gauge(kept, tmp_path):
    losses = kept.get_loss_values()
    assert list(losses.columns) == ['Epoch', 'Generator Loss', 'Discriminator Loss',
                                    'Classifier Loss', 'JSD Estimate']
    assert len(losses) == 2 and losses.notna().all().all()
    figure = kept.get_loss_values_plot()
    assert {trace.name for trace in figure.data} >= {'JSD Estimate', 'Generator Loss'}
    params = kept.get_parameters()
    assert params['n_partitions'] == 2 and params['keep_training_state'] is True
    assert PrivImageSynthesizer(**params).get_parameters() == params
    gauge = kept.get_component_distinguishability(n_per_component=100)
    assert 0 <= gauge['auc'] <= 1 and gauge['chance_accuracy'] == 0.5
    path = kept.save_sample_grid(tmp_path / 'grid.png', n_per_class=3)
    assert path.exists()


def test_one_partition_no_weight_is_a_plain_dcgan():
    """K=1, lambda=0: no classifier, and one step is exactly DCGAN's step."""
    model = _fit(n_partitions=1, privacy_weight=0.0, seed=0)
    assert model._regularizer is None
    assert model.get_loss_values()['Classifier Loss'].isna().all()
    ignored = _fit(n_partitions=1, privacy_weight=5.0, seed=0)
    assert np.array_equal(model.sample(8)[0], ignored.sample(8)[0])

    torch.manual_seed(0)
    trainer = ImageComponents(OPTIONS, 1, 1, 8, np.full(10, 0.1), torch.device('cpu'))
    generator, discriminator = copy.deepcopy(trainer.generator), copy.deepcopy(trainer.discriminator)
    real = torch.rand(1, 8, 1, 8, 8) * 2 - 1
    real_labels, fake_labels = torch.randint(10, (1, 8)), torch.randint(10, (1, 8))
    noise = torch.randn(1, 8, 16)
    trainer.draw_real = lambda m: (real, real_labels)  # the step's inputs, fixed
    trainer.noise, trainer.fake_labels = lambda m: noise, lambda m: fake_labels
    game = ComponentGame(trainer, GameConfig(n_partitions=1, privacy_weight=0.0, ema_decay=0.0),
                         torch.ones(1), 'cpu')
    game.step(8)

    d_opt = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    g_opt = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    fake = generator(torch.cat([noise, functional.one_hot(fake_labels, 10).float()], 2))
    fake_in = with_label_maps(fake, fake_labels, 10)
    d_real = discriminator(with_label_maps(real, real_labels, 10))
    d_fake = discriminator(fake_in.detach())
    d_loss = (functional.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real))
              + functional.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake)))
    d_opt.zero_grad()
    d_loss.backward()
    d_opt.step()
    g_scores = discriminator(fake_in)
    g_loss = functional.binary_cross_entropy_with_logits(g_scores, torch.ones_like(g_scores))
    g_opt.zero_grad()
    g_loss.backward()
    g_opt.step()
    for mine, reference in ((trainer.generator, generator), (trainer.discriminator, discriminator)):
        for p, q in zip(mine.parameters(), reference.parameters()):
            torch.testing.assert_close(p, q)


def test_components_are_isolated():
    """Discriminator k and generator k never touch another component's inputs."""
    torch.manual_seed(0)
    trainer = ImageComponents({**OPTIONS, 'latent_dim': 8, 'generator_width': 8,
                               'discriminator_width': 8}, 3, 1, 16, None, torch.device('cpu'))
    real = torch.randn(3, 4, 1, 16, 16, requires_grad=True)
    trainer.discriminator(real)[0].sum().backward()
    assert real.grad[0].abs().sum() > 0 and (real.grad[1:] == 0).all()
    noise = torch.randn(3, 4, 8, requires_grad=True)
    trainer.generator.eval()  # batch norm in training mode couples only rows of one component
    trainer.generator(noise)[2].sum().backward()
    assert noise.grad[2].abs().sum() > 0 and (noise.grad[:2] == 0).all()


def test_grouped_layers_match_separate_layers():
    """Each component of a grouped layer is the ordinary layer with its slice of weights."""
    torch.manual_seed(0)
    x = torch.randn(3, 5, 2, 6, 6)
    conv, single_conv = BatchedConv2d(3, 2, 4, 3, padding=1), torch.nn.Conv2d(2, 4, 3, padding=1)
    up, single_up = BatchedConvTranspose2d(3, 2, 4, 4, 2, 1), torch.nn.ConvTranspose2d(2, 4, 4, 2, 1)
    conv_out, up_out = conv(to_grouped(x)), up(to_grouped(x))
    for k in range(3):
        out_slice = slice(4 * k, 4 * k + 4)
        single_conv.weight.data = conv.weight.data[out_slice]  # (out, in / K, kh, kw)
        single_conv.bias.data = conv.bias.data[out_slice]
        torch.testing.assert_close(conv_out[:, out_slice], single_conv(x[k]))
        single_up.weight.data = up.weight.data[2 * k:2 * k + 2]  # (in, out / K, kh, kw)
        single_up.bias.data = up.bias.data[out_slice]
        torch.testing.assert_close(up_out[:, out_slice], single_up(x[k]))


def test_verbose_shows_a_progress_bar(capsys):
    _fit(n=32, verbose=True, seed=0, epochs=1)
    assert 'jsd=' in capsys.readouterr().err


@pytest.mark.parametrize('conditional', [True, False])
def test_default_path_without_seed(tmp_path, conditional):
    """What a new user does first: no seed; fit, sample, save, load, sample."""
    model = _fit(n=64, labels=conditional, n_partitions=2, epochs=1)
    assert model.seed is None
    first = model.sample(6)
    images = first[0] if conditional else first
    assert images.shape == (6, 8, 8) and images.dtype == np.uint8
    model.save(tmp_path / 'model.pt')
    loaded = PrivImageSynthesizer.load(tmp_path / 'model.pt')
    assert loaded._sample_calls == model._sample_calls
    again, expected = loaded.sample(7), model.sample(7)
    if conditional:
        assert set(again[1]) <= set(range(10))
        np.testing.assert_array_equal(again[0], expected[0])
        fours, labels = loaded.sample(5, labels=4)
        assert fours.shape == (5, 8, 8) and labels.tolist() == [4] * 5
    else:
        assert isinstance(again, np.ndarray) and again.shape == (7, 8, 8)
        np.testing.assert_array_equal(again, expected)
    other = _fit(n=64, labels=conditional, n_partitions=2, epochs=1)
    assert other._seed != model._seed  # each unseeded fit draws its own seed


def test_partitions_are_the_first_draw_of_the_seed():
    """The benchmark's same-images control arranges copies for exactly these labels."""
    from unittest.mock import patch

    import sdv_privgan.image.synthesizer as library

    seen = []

    def observed(n, k, generator=None):  # observes the library's draw, changes nothing
        seen.append(partition_rows(n, k, generator))
        return seen[-1]

    partition_rows = library.partition_rows
    with patch.object(library, 'partition_rows', observed):
        _fit(n=40, n_partitions=2, seed=5, epochs=1)
    expected = partition_rows(40, 2, generator=torch.Generator().manual_seed(5))
    assert torch.equal(seen[0], expected)


def test_blurred_spectral_classifier_and_released_components():
    model = _fit(n=64, n_partitions=2, seed=2, classifier_blur=2, classifier_spectral_norm=True,
                 keep_training_state=True)
    view = model._components.classifier_view(torch.zeros(2, 3, 11, 8, 8))
    assert view.shape == (2, 3, 11, 4, 4)
    scores = model.get_white_box_scores(IMAGES[:5], LABELS[:5])
    assert scores['classifier'].between(0.5, 1).all()
    images, labels = model.sample_component_images(30)
    assert images.shape == (2, 30, 8, 8) and images.dtype == np.uint8 and labels.shape == (2, 30)
    features = model.sample_components(30)
    assert features.shape == (2, 30, 64 + 10)
    # The gauge sees the images as released: quantized to the uint8 grid.
    levels = (features[..., :64] + 1) / 2 * 255
    np.testing.assert_allclose(levels, np.rint(levels), atol=1e-3)


class _StubComponents:
    """Two 'components' whose 8x8 images differ (or not) in where they are bright."""

    n_partitions = 2

    def __init__(self, differ):
        self.differ = differ
        self._classes = np.arange(2)
        self._format = ImageFormat.fit(np.zeros((1, 8, 8), np.uint8))

    def sample_component_images(self, n):
        rng = np.random.default_rng(0)
        images = rng.integers(0, 100, (2, n, 8, 8)).astype(np.uint8)
        if self.differ:
            images[1, :, :4] += 100
        return images, rng.integers(0, 2, (2, n))

    released_in_model_space = PrivImageSynthesizer.released_in_model_space


def test_image_gauges_tell_components_apart_only_when_they_differ():
    from sdv_privgan.image.gauges import ContentFeatures, image_gauges

    fmt = ImageFormat.fit(IMAGES[:1])
    features = ContentFeatures(fmt.to_model(IMAGES[:200]), LABELS[:200], 10, epochs=1)
    same = image_gauges(_StubComponents(False), features, n_per_component=200)
    differ = image_gauges(_StubComponents(True), features, n_per_component=200)
    assert set(same) == {'pixels', 'blurred', 'features'}
    for view in ('pixels', 'blurred'):
        assert same[view]['auc'] < 0.65 and differ[view]['auc'] > 0.95
    assert same['features']['auc'] < 0.65


def test_demo_summary_reads_side_by_side():
    from sdv_privgan.image.demo import FIGURES, summary

    plain = {key: 0.6 for _, _, key, _ in FIGURES if not key.startswith('gauge')}
    plain.update(monte_carlo_top_members_chance=0.1, downstream_accuracy_real=0.88)
    private = {key: 0.55 for _, _, key, _ in FIGURES}
    text = summary(plain, private, 2, 1.0)
    assert 'Privacy: membership-inference attacks' in text and 'Utility' in text
    assert 'plain GAN' in text and 'K=2, λ=1' in text
    gauge = next(line for line in text.splitlines() if 'content features' in line)
    assert gauge.split()[-2:] == ['-', '0.550']  # no gauge for one component
    assert 'white_box' not in text and '_auc' not in text  # labels, not result keys


def test_warm_up_defaults_to_three_quarters_of_the_epochs():
    """The regularizer's term reaches the generators only in the last quarter: before it,
    training is that of lambda = 0 (same seed, same losses)."""
    regularized = _fit(n=64, n_partitions=2, seed=1, epochs=4).get_loss_values()
    unregularized = _fit(n=64, n_partitions=2, seed=1, epochs=4, privacy_weight=0.0)
    unregularized = unregularized.get_loss_values()
    pd.testing.assert_frame_equal(regularized[:3], unregularized[:3])
    assert not regularized.iloc[3].equals(unregularized.iloc[3])
    assert PrivImageSynthesizer().get_parameters()['warmup_epochs'] is None
