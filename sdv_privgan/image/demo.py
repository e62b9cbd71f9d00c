"""The image demo on scikit-learn's bundled 8x8 digits (works offline).

``run_image_demo`` is what ``sdv-privgan demo --images`` calls: fit on a few hundred
digits, write a grid of samples, and print attack and downstream figures.
"""

from pathlib import Path

import numpy as np


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


def run_image_demo(output_dir='privgan_image_demo', n_members=300, epochs=200, n_partitions=2,
                   privacy_weight=1.0, seed=0, verbose=True):
    """Fit ``PrivImageSynthesizer`` on digits, write ``samples.png``, return the figures."""
    from sdv_privgan.image.evaluation import evaluate_image_synthesizer
    from sdv_privgan.image.synthesizer import PrivImageSynthesizer

    output = Path(output_dir)
    output.mkdir(parents=True, exist_ok=True)
    members, member_labels, others, other_labels = split_digits(n_members, seed)
    synthesizer = PrivImageSynthesizer(
        n_partitions=n_partitions, privacy_weight=privacy_weight, epochs=epochs,
        keep_training_state=True, verbose=verbose, seed=seed)
    synthesizer.fit(members, member_labels)
    grid = synthesizer.save_sample_grid(output / 'samples.png')
    synthesizer.get_loss_values_plot().write_html(output / 'losses.html', include_plotlyjs='directory')
    result = evaluate_image_synthesizer(synthesizer, members, member_labels, others,
                                        other_labels, seed=seed)
    if verbose:
        print(f'Samples: {grid}; losses: {output / "losses.html"}')
        for name, value in result.items():
            print(f'{name:45s} {value:.3f}')
    return result
