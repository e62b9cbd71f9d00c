"""The image demo on scikit-learn's bundled 8x8 digits (works offline).

``run_image_demo`` is what ``sdv-privgan demo --images`` calls: it fits a plain GAN and a
``PrivImageSynthesizer`` on the same few hundred digits, writes sample grids, the loss
curves and every figure, and prints the two side by side: membership-inference
attacks, downstream accuracy and how far a fresh classifier tells the components apart.
About a minute on one CPU core.
"""

from pathlib import Path

import numpy as np
import pandas as pd

#: The demo's printed figures: (section, label, result key, what it means).
FIGURES = [
    ('Privacy: membership-inference attacks', 'White-box attack, ROC AUC', 'white_box_critic_auc',
     'an attacker holding the discriminators scores each image (LOGAN); 0.5 = chance'),
    ('Privacy: membership-inference attacks', 'White-box attack, top-members accuracy',
     'white_box_critic_top_members_accuracy',
     "privGAN's figure: share of members among the images it ranks highest; chance = share "
     'of members'),
    ('Privacy: membership-inference attacks', 'Black-box attack, ROC AUC', 'monte_carlo_auc',
     'an attacker with samples only counts them near each image (Monte-Carlo); 0.5 = chance'),
    ('Privacy: membership-inference attacks', 'Black-box attack, top-members accuracy',
     'monte_carlo_top_members_accuracy', 'the same attack in privGAN\'s figure'),
    ('Utility', 'Downstream accuracy', 'downstream_accuracy',
     'a CNN trained on 1,000 synthetic digits, tested on real held-out digits'),
    ('Components (the privacy gauge)', 'Told apart on content features, AUC',
     'gauge_features_auc', 'a fresh classifier on what a digit classifier sees; 0.5 = the '
     'components agree'),
    ('Components (the privacy gauge)', 'Told apart on pixels, AUC', 'gauge_pixels_auc',
     'the same on raw pixels, where two GANs differ even on identical data'),
]


def load_digits_images():
    """scikit-learn's 1,797 digits as uint8 images ``(N, 8, 8)`` (0..255) and labels 0..9."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.rint(digits.images * (255 / 16)).astype(np.uint8)
    return images, digits.target.astype(np.int64)


def split_digits(n_members=300, seed=0):
    """Members (training images) and non-members of the digits, at random."""
    images, labels = load_digits_images()
    order = np.random.default_rng(seed).permutation(len(images))
    members, others = order[:n_members], order[n_members:]
    return images[members], labels[members], images[others], labels[others]


def _evaluate(synthesizer, members, member_labels, others, other_labels, seed):
    from sdv_privgan.image.evaluation import evaluate_image_synthesizer
    from sdv_privgan.image.gauges import ContentFeatures

    features = None
    if synthesizer.n_partitions > 1:
        fmt, classes = synthesizer._format, synthesizer._classes
        features = ContentFeatures(fmt.to_model(others), np.searchsorted(classes, other_labels),
                                   len(classes), seed=seed)
    return evaluate_image_synthesizer(synthesizer, members, member_labels, others,
                                      other_labels, seed=seed, features=features)


def summary(plain, private, n_partitions, privacy_weight):
    """The printed comparison: one section per kind of figure, what each one means."""
    chance = plain['monte_carlo_top_members_chance']
    columns = f'{"plain GAN":>10s} {f"K={n_partitions}, λ={privacy_weight:g}":>12s}'
    lines, section = [], None
    for heading, label, key, meaning in FIGURES:
        if heading != section:
            section = heading
            lines += ['', f'{heading:46s}{columns}', '-' * (46 + len(columns))]
        cells = ['-' if np.isnan(value) else f'{value:.3f}'
                 for value in (plain.get(key, np.nan), private.get(key, np.nan))]
        lines += [f'  {label:44s}{cells[0]:>10s} {cells[1]:>12s}', f'      {meaning}']
    lines += ['', f'Chance: AUC 0.5, top-members accuracy {chance:.3f}. The same CNN trained '
              f'on the real training digits: {plain["downstream_accuracy_real"]:.3f}.',
              'Lower attack figures and a gauge nearer 0.5 mean more privacy; docs/images.md '
              'says what each attack assumes.']
    return '\n'.join(lines)


def run_image_demo(output_dir='privgan_image_demo', n_members=300, epochs=200, n_partitions=2,
                   privacy_weight=3.0, seed=0, verbose=True):
    """Fit a plain GAN and ``PrivImageSynthesizer`` on digits, write their sample grids,
    the loss curves and the figures under ``output_dir``, print a side-by-side
    summary; returns ``{'plain GAN': figures, 'PrivImageSynthesizer': figures}``."""
    from sdv_privgan.image.synthesizer import PrivImageSynthesizer

    output = Path(output_dir)
    output.mkdir(parents=True, exist_ok=True)
    members, member_labels, others, other_labels = split_digits(n_members, seed)
    say = print if verbose else (lambda *args, **kwargs: None)
    say(f'Digits (8x8, scikit-learn): {len(members)} training images (the members), '
        f'{len(others)} held out (non-members, and the test set).')
    results = {}
    for name, k, weight in [('plain GAN', 1, 0.0),
                            ('PrivImageSynthesizer', n_partitions, privacy_weight)]:
        say(f'\nFitting the {name} (n_partitions={k}, privacy_weight={weight:g}, '
            f'{epochs} epochs)...')
        synthesizer = PrivImageSynthesizer(
            n_partitions=k, privacy_weight=weight, epochs=epochs, batch_size=32,
            keep_training_state=True, verbose=verbose, seed=seed)
        synthesizer.fit(members, member_labels)
        stem = 'plain_gan' if k == 1 else 'privgan'
        synthesizer.save_sample_grid(output / f'{stem}_samples.png')
        results[name] = _evaluate(synthesizer, members, member_labels, others, other_labels, seed)
    synthesizer.get_loss_values_plot().write_html(output / 'losses.html',
                                                  include_plotlyjs='directory')
    pd.DataFrame(results).to_csv(output / 'figures.csv', index_label='figure')
    say('\n' + summary(results['plain GAN'], results['PrivImageSynthesizer'], n_partitions,
                       privacy_weight))
    say(f'\nWrote {output}/: plain_gan_samples.png and privgan_samples.png (one row per digit), '
        'losses.html (training curves of the private model), figures.csv (every figure of '
        'both models).')
    return results
