"""Black-box membership-inference attacks on encoded float arrays.

Every attack has the signature ``attack(candidates, synthetic, reference=None)``
and returns one score per candidate row, higher = more likely a training
member. Inputs are 2-D float arrays (rows x features) already encoded, e.g. by
:class:`~sdv_privgan.evaluation.encoding.TabularEncoder` for tables or by an
image feature extractor, so nothing here knows about tables.

``reference`` is a sample of the same population that is neither a candidate
nor a training row. Attacks that use it compare "how well the synthetic data
explains x" with "how well the population explains x", which removes the
confounder that outliers are far from everything (Watson et al., Van Breugel
et al.).

Nearest-neighbour searches go through scikit-learn (a tree in low dimensions,
chunked brute force above that) under a bounded ``working_memory``, so no
candidates x synthetic matrix is ever held whole.
"""

import numpy as np
from scipy.special import logsumexp
from sklearn import config_context
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.neighbors import NearestNeighbors

from sdv_privgan.evaluation._inputs import sample_positions

#: Megabytes scikit-learn may use per chunk of pairwise distances.
WORKING_MEMORY_MB = 256


def _as_2d(array, name):
    array = np.asarray(array, dtype=np.float32)
    if array.ndim == 1:
        array = array[:, None]
    elif array.ndim > 2:
        array = array.reshape(len(array), -1)  # e.g. images (N, H, W[, C])
    if len(array) == 0:
        raise ValueError(f'{name} has no rows.')
    if not np.isfinite(array).all():
        raise ValueError(f'{name} contains NaN or infinite values; encode missing values first.')
    return array


def _check(candidates, synthetic, reference=None, needs_reference=False, attack=''):
    candidates = _as_2d(candidates, 'candidates')
    synthetic = _as_2d(synthetic, 'synthetic')
    if synthetic.shape[1] != candidates.shape[1]:
        raise ValueError(
            f'candidates have {candidates.shape[1]} features but synthetic has {synthetic.shape[1]}.'
        )
    if reference is None:
        if needs_reference:
            raise ValueError(f'{attack} needs a reference sample of the population.')
        return candidates, synthetic, None
    reference = _as_2d(reference, 'reference')
    if reference.shape[1] != candidates.shape[1]:
        raise ValueError(
            f'candidates have {candidates.shape[1]} features but reference has {reference.shape[1]}.'
        )
    return candidates, synthetic, reference


def nearest_distances(queries, points, n_neighbors=1):
    """Euclidean distances from each query to its ``n_neighbors`` nearest points, ascending.

    Returns an array of shape (n_queries, n_neighbors) (fewer columns when
    ``points`` has fewer rows).
    """
    n_neighbors = min(n_neighbors, len(points))
    with config_context(working_memory=WORKING_MEMORY_MB):
        index = NearestNeighbors(n_neighbors=n_neighbors).fit(points)
        distances, _ = index.kneighbors(queries, return_distance=True)
    return distances


def distance_to_closest_record(candidates, synthetic, reference=None):
    """GAN-Leaks full black-box (Chen et al., 2020): minus the distance to the closest synthetic row.

    ``reference`` is accepted for a uniform signature and ignored.
    """
    candidates, synthetic, _ = _check(candidates, synthetic, reference)
    return -nearest_distances(candidates, synthetic)[:, 0]


def calibrated_distance_to_closest_record(candidates, synthetic, reference=None):
    """GAN-Leaks calibrated: distance to the closest reference row minus that to the closest synthetic row.

    A row that is far from the synthetic data only because it is an outlier is
    far from the reference too; the difference keeps what the synthesizer
    specifically reproduces.
    """
    candidates, synthetic, reference = _check(
        candidates, synthetic, reference, True, 'calibrated_distance_to_closest_record'
    )
    to_synthetic = nearest_distances(candidates, synthetic)[:, 0]
    to_reference = nearest_distances(candidates, reference)[:, 0]
    return to_reference - to_synthetic


def _log_kde(queries, points, bandwidth, n_neighbors):
    """Log of a Gaussian kernel density at ``queries``, summed over each query's nearest points.

    Truncating the kernel sum to the ``n_neighbors`` nearest points is what
    makes this scale (a tree or chunked search instead of all pairs); with a
    bandwidth of the order of the nearest-neighbour spacing the far points'
    kernels are small and mostly shift every query alike.
    """
    distances = nearest_distances(queries, points, n_neighbors).astype(float)
    dimension = queries.shape[1]
    log_kernels = -0.5 * (distances / bandwidth) ** 2
    log_normaliser = np.log(len(points)) + dimension * np.log(bandwidth * np.sqrt(2 * np.pi))
    return logsumexp(log_kernels, axis=1) - log_normaliser


def default_bandwidth(synthetic, reference, factor=0.25, max_rows=2000, seed=0):
    """``factor`` times the median distance from (a sample of) the reference to its nearest synthetic row.

    A kernel narrower than the typical nearest-neighbour spacing resolves
    individual synthetic rows, which is what a memorising synthesizer
    reproduces; Scott's rule in tens of dimensions is so wide that it only sees
    the smooth shape of the distribution. (On credit_data with synthetic = the
    members, AUC 0.94 at factor 0.25 against 0.69 at factor 1.)
    """
    bandwidth = factor * float(np.median(_reference_distances(reference, synthetic, max_rows,
                                                              seed)))
    return bandwidth if bandwidth > 0 else 1.0


def domias_density_ratio(candidates, synthetic, reference=None, bandwidth=None, n_neighbors=30):
    """DOMIAS (Van Breugel et al., 2023): log p_synthetic(x) - log p_reference(x).

    Both densities are Gaussian kernel density estimates on the given encoding
    (for tables: standardised numericals, scaled one-hot categoricals), with
    one shared bandwidth, each summed over the ``n_neighbors`` nearest rows.

    Args:
        bandwidth (float or None): Kernel width in encoded units;
            ``None`` uses :func:`default_bandwidth`.
        n_neighbors (int): Rows each kernel sum runs over.
    """
    candidates, synthetic, reference = _check(
        candidates, synthetic, reference, True, 'domias_density_ratio'
    )
    if bandwidth is None:
        bandwidth = default_bandwidth(synthetic, reference)
    elif bandwidth <= 0:
        raise ValueError(f'bandwidth must be positive; got {bandwidth}.')
    return _log_kde(candidates, synthetic, bandwidth, n_neighbors) - _log_kde(
        candidates, reference, bandwidth, n_neighbors
    )


def classifier_density_ratio(
    candidates, synthetic, reference=None, classifier=None, max_rows=20000, seed=0
):
    """Density ratio estimated by a classifier trained on synthetic (1) versus reference (0) rows.

    The classifier's log-odds equal log p_synthetic(x) / p_reference(x) up to a
    constant (the class ratio), so it is DOMIAS without a density model; it
    stays usable in dimensions where kernel estimates fail, and it finds
    regions a synthesizer over-produces rather than single copied rows.

    Args:
        classifier: Any scikit-learn classifier with ``predict_proba``; default
            a ``HistGradientBoostingClassifier``.
        max_rows (int): Most rows of each class used for training (for speed).
    """
    candidates, synthetic, reference = _check(
        candidates, synthetic, reference, True, 'classifier_density_ratio'
    )
    rng = np.random.default_rng(seed)
    n_rows = min(max_rows, len(synthetic), len(reference))  # balanced classes
    synthetic = synthetic[rng.choice(len(synthetic), n_rows, replace=False)]
    reference = reference[rng.choice(len(reference), n_rows, replace=False)]
    if classifier is None:
        classifier = HistGradientBoostingClassifier(random_state=seed)
    features = np.vstack([synthetic, reference])
    labels = np.r_[np.ones(len(synthetic)), np.zeros(len(reference))]
    classifier.fit(features, labels)
    probability = classifier.predict_proba(candidates)[:, 1]
    probability = np.clip(probability, 1e-7, 1 - 1e-7)
    return np.log(probability) - np.log1p(-probability)


def _reference_distances(reference, synthetic, max_rows, seed):
    """Distance from each of at most ``max_rows`` reference rows (drawn with ``seed``) to
    its nearest synthetic row: the scale both density attacks calibrate on."""
    rows = sample_positions(len(reference), max_rows, np.random.default_rng(seed))
    return nearest_distances(reference[rows], synthetic)[:, 0]


def monte_carlo_ball_count(candidates, synthetic, reference=None, radius=None, quantile=0.1,
                           max_rows=2000, seed=0):
    """Hilprecht et al. (2019): the share of synthetic rows within ``radius`` of each candidate.

    A synthesizer that memorised x puts more of its samples in a small ball
    around x than around a non-member. Counts tie often (most are 0 for a small
    ball), so ties are broken by the distance to the closest synthetic row, as
    a finer ball would do.

    Args:
        radius (float or None): Ball radius in encoded units. ``None``: the
            ``quantile`` of the distances from the reference rows (or, without
            a reference, from the candidates) to their nearest synthetic row.
        quantile (float): See ``radius``.
        max_rows (int): Most reference rows (drawn with ``seed``) the quantile is
            estimated from; a few thousand fix a 10 % quantile well, and the search
            from every reference row would cost more than the attack itself.
    """
    candidates, synthetic, reference = _check(candidates, synthetic, reference)
    closest = nearest_distances(candidates, synthetic)[:, 0]
    if radius is None:
        if reference is None:
            calibration = closest
        else:
            calibration = _reference_distances(reference, synthetic, max_rows, seed)
        radius = float(np.quantile(calibration, quantile))
    if radius <= 0:
        # Half the candidates sit on a synthetic row (a copy); any ball around
        # them holds a copy, so the smallest positive distance is a fair radius.
        positive = closest[closest > 0]
        radius = float(positive.min()) if positive.size else 1.0
    counts = np.zeros(len(candidates))
    with config_context(working_memory=WORKING_MEMORY_MB):
        index = NearestNeighbors(radius=radius).fit(synthetic)
        chunk = 2048  # radius_neighbors returns per-row index arrays; bound how many at once
        for start in range(0, len(candidates), chunk):
            found = index.radius_neighbors(
                candidates[start : start + chunk], return_distance=False
            )
            counts[start : start + chunk] = [len(row) for row in found]
    share = counts / len(synthetic)
    # The tie-breaker is scaled below the step between two counts.
    tie_breaker = np.exp(-closest / radius) / (2.0 * len(synthetic))
    return share + tie_breaker


#: The black-box attacks, by the short names reports use.
BLACK_BOX_ATTACKS = {
    'dcr': distance_to_closest_record,
    'dcr_calibrated': calibrated_distance_to_closest_record,
    'domias': domias_density_ratio,
    'classifier_ratio': classifier_density_ratio,
    'mc_ball_count': monte_carlo_ball_count,
}

#: Attacks that cannot run without a reference sample.
NEEDS_REFERENCE = {'dcr_calibrated', 'domias', 'classifier_ratio'}

#: Human-readable names, for details tables and figures.
ATTACK_LABELS = {
    'dcr': 'Distance to closest record',
    'dcr_calibrated': 'Calibrated distance to closest record',
    'domias': 'DOMIAS density ratio (KDE)',
    'classifier_ratio': 'Classifier density ratio',
    'mc_ball_count': 'Monte-Carlo ball count',
    'white_box_critic': 'White-box critic (LOGAN)',
    'white_box_contrast': 'White-box critic contrast',
    'white_box_elbo': 'White-box encoder-decoder fit (ELBO)',
    'white_box_classifier': 'White-box component classifier',
    'latent_reconstruction': 'Latent reconstruction (model file)',
    'latent_reconstruction_calibrated': 'Latent reconstruction, calibrated (model file)',
}

#: Prefix of the black-box attacks run on rows drawn from the saved model.
DRAWN_PREFIX = 'drawn_'


def attack_label(name):
    """The human-readable name of an attack ID (the ID itself when it has none)."""
    if name in ATTACK_LABELS:
        return ATTACK_LABELS[name]
    if name.startswith(DRAWN_PREFIX) and name[len(DRAWN_PREFIX):] in ATTACK_LABELS:
        return f'{ATTACK_LABELS[name[len(DRAWN_PREFIX):]]} (rows drawn from the model)'
    return name
