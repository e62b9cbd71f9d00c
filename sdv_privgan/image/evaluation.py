"""Privacy and utility of an image synthesizer, measured the way the paper does.

- Utility: the downstream metric. A small CNN trained on synthetic images (with their
  labels) is tested on real held-out images, beside the same CNN trained on real images.
- White-box (LOGAN, Hayes et al. 2019): the kept partition discriminators' highest
  probability of "real"; the component classifier's confidence.
- Black-box: the table attacks of ``sdv_privgan.evaluation.attacks`` (distance to closest
  record, calibrated, DOMIAS, classifier ratio, Monte-Carlo ball count of Hilprecht et al.
  2019) in a PCA space of the real images.

Images go through the same driver as tables (``membership_inference_from_arrays``): ROC AUC
and TPR at low FPR with bootstrap intervals on a balanced member / non-member set, the noise
floor from held-out real images, the orientation rule for white-box scores and the
permutation-test verdict, in one ``MembershipInferenceResult``. privGAN's own figure is kept
beside it: the share of members among the ``n_members`` images an attack ranks highest in the
whole pool (Mukherjee et al. 2021 report it with 10 % members, so chance is 0.10 there).
"""

import numpy as np
import torch
from torch.nn import functional

from sdv_privgan.evaluation.attacks import monte_carlo_ball_count
from sdv_privgan.evaluation.metrics import attack_metrics
from sdv_privgan.evaluation.uncertainty import MIN_CANDIDATES
from sdv_privgan.image.data import guess_layout, infer_value_range, to_nchw
from sdv_privgan.image.networks import conv_classifier


def as_model_batch(images, value_range=None):
    """Images ``(N, H, W[, C])`` (or a torch ``(N, C, H, W)`` tensor) -> float32
    ``(N, C, H, W)`` in ``[-1, 1]``, with the same checks as ``fit``."""
    layout = guess_layout(images)
    low, high = infer_value_range(images, value_range)
    return ((to_nchw(images, layout).astype(np.float32) - low) / (high - low) * 2 - 1)


def train_cnn(images, labels, n_classes, epochs=30, batch_size=64, lr=1e-3, seed=0,
              device='cpu'):
    """A ``conv_classifier`` trained with Adam on model-space images ``(N, C, H, W)``."""
    with torch.random.fork_rng(devices=[]):  # dropout draws from the global generator too
        torch.manual_seed(seed)
        return _train_cnn(images, labels, n_classes, epochs, batch_size, lr, seed, device)


def _train_cnn(images, labels, n_classes, epochs, batch_size, lr, seed, device):
    generator = torch.Generator().manual_seed(seed)
    model = conv_classifier(images.shape[1], n_classes, width=16, dropout=0.3).to(device)
    x = torch.as_tensor(images, device=device)
    y = torch.as_tensor(labels, dtype=torch.long, device=device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=generator).to(device)
        for start in range(0, len(x), batch_size):
            batch = order[start:start + batch_size]
            loss = functional.cross_entropy(model(x[batch]), y[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return model.eval()


@torch.no_grad()
def _predict(model, images, device='cpu'):
    x = torch.as_tensor(images, device=device)
    return torch.cat([model(x[i:i + 1024]).argmax(1) for i in range(0, len(x), 1024)]).cpu().numpy()


def downstream_accuracy(train_images, train_labels, test_images, test_labels, value_range=None,
                        epochs=30, seed=0, device='cpu'):
    """Accuracy on real ``test_images`` of a CNN trained on ``train_images`` (real or
    synthetic, in the same format as the test images)."""
    classes = np.unique(np.concatenate([np.asarray(train_labels), np.asarray(test_labels)]))
    train_codes = np.searchsorted(classes, train_labels)
    test_codes = np.searchsorted(classes, test_labels)
    model = train_cnn(as_model_batch(train_images, value_range), train_codes, len(classes),
                      epochs=epochs, seed=seed, device=device)
    predicted = _predict(model, as_model_batch(test_images, value_range), device)
    return float((predicted == test_codes).mean())


def top_members_accuracy(scores, is_member):
    """privGAN's figure: the share of members among the ``sum(is_member)`` top-scored
    candidates. Chance equals the share of members in the pool."""
    scores, is_member = np.asarray(scores, dtype=float), np.asarray(is_member, dtype=bool)
    top = np.argsort(-scores, kind='stable')[:int(is_member.sum())]
    return float(is_member[top].mean())


def _balanced(is_member, seed):
    """Indices of all members and as many non-members drawn at random (or vice versa)."""
    rng = np.random.default_rng(seed)
    members, others = np.flatnonzero(is_member), np.flatnonzero(~is_member)
    n = min(len(members), len(others))
    return np.concatenate([rng.choice(members, n, replace=False),
                           rng.choice(others, n, replace=False)])


def summarize_attack(scores, is_member, seed=0):
    """AUC and TPR at low FPR on a balanced subset; top-members accuracy on the whole pool."""
    scores, is_member = np.asarray(scores, dtype=float), np.asarray(is_member, dtype=bool)
    pick = _balanced(is_member, seed)
    result = attack_metrics(scores[pick], is_member[pick])
    result['top_members_accuracy'] = top_members_accuracy(scores, is_member)
    result['top_members_chance'] = float(is_member.mean())
    return result


def pca_features(synthetic, *others, n_components=20):
    """Flattened images projected on the principal components of the synthetic images."""
    flat = [np.asarray(x, dtype=np.float32).reshape(len(x), -1) for x in (synthetic, *others)]
    pca = _fit_pca(flat[0], n_components)
    return [pca.transform(x) for x in flat]


def monte_carlo_scores(synthetic, candidates, value_range=None, n_components=20):
    """Monte-Carlo ball-count scores of ``candidates`` in the synthetic images' PCA space."""
    synthetic = as_model_batch(synthetic, value_range)
    candidates = as_model_batch(candidates, value_range)
    synthetic, candidates = pca_features(synthetic, candidates, n_components=n_components)
    return monte_carlo_ball_count(candidates, synthetic)


def _pick(n_rows, n_pick, rng):
    return np.sort(rng.choice(n_rows, size=min(n_pick, n_rows), replace=False))


def image_membership_inference(synthesizer, members, non_members, member_labels=None,
                               non_member_labels=None, *, synthetic=None, n_synthetic=1000,
                               value_range=None, attacks=None, n_components=20, alpha=0.05,
                               n_bootstrap=1000, n_permutations=1000, seed=0):
    """Membership inference on an image synthesizer, through the same attacks, floor and
    verdict as tables: a :class:`~sdv_privgan.evaluation.MembershipInferenceResult`.

    Candidates are all members (at most as many as there are non-members) and as many
    non-members drawn with ``seed``; the remaining non-members are split into the noise
    floor's stand-in (at most ``n_synthetic``) and the reference, disjoint. Every image is
    flattened and projected on ``n_components`` principal components fitted on the real
    images (label-free). White-box scores (``keep_training_state=True``) are oriented as
    for tables.

    Returns:
        tuple: ``(result, pool_scores)``; ``pool_scores`` holds, for the white-box and the
        Monte-Carlo attacks, one score per image of ``members + non_members`` (for
        privGAN's top-members figure on the whole pool).
    """
    from sdv_privgan.evaluation.attacks import monte_carlo_ball_count
    from sdv_privgan.evaluation.membership import (
        WHITE_BOX_COLUMNS, floor_split, membership_inference_from_arrays)

    rng = np.random.default_rng(seed)
    if synthetic is None:
        synthetic = synthesizer.sample(n_synthetic)
        synthetic = synthetic[0] if isinstance(synthetic, tuple) else synthetic
    n_members, n_others = len(members), len(non_members)
    member_pick = _pick(n_members, n_others, rng)
    other_pick = _pick(n_others, len(member_pick), rng)
    rest = np.setdiff1d(np.arange(n_others), other_pick)
    stand_in, reference = floor_split(len(rest), len(synthetic), True, seed)
    flat = [as_model_batch(x, value_range).reshape(len(x), -1)
            for x in (members, non_members, synthetic)]
    members_flat, others_flat, synthetic_flat = flat
    candidates = np.concatenate([members_flat[member_pick], others_flat[other_pick]])
    real = np.concatenate([candidates, others_flat[rest]])
    pca = _fit_pca(real, n_components)
    features = {'candidates': pca.transform(candidates), 'synthetic': pca.transform(synthetic_flat)}
    for key, rows in (('floor', rest[stand_in]), ('reference', rest[reference])):
        features[key] = pca.transform(others_flat[rows]) if len(rows) else None
    is_member = np.r_[np.ones(len(member_pick), bool), np.zeros(len(other_pick), bool)]
    pool_index = np.r_[member_pick, n_members + other_pick]

    pool_scores, extra = {}, {}
    if getattr(synthesizer, 'keep_training_state', False):
        labels = None
        if member_labels is not None and non_member_labels is not None:
            labels = np.concatenate([member_labels, non_member_labels])
        white = synthesizer.get_white_box_scores(np.concatenate([members, non_members]),
                                                 labels=labels)
        for column in white:
            if column in WHITE_BOX_COLUMNS and not white[column].isna().all():
                pool_scores[WHITE_BOX_COLUMNS[column]] = white[column].to_numpy(dtype=float)
                extra[WHITE_BOX_COLUMNS[column]] = pool_scores[WHITE_BOX_COLUMNS[column]][
                    pool_index]
    enough_floor = features['floor'] is not None and len(features['floor']) >= MIN_CANDIDATES
    result = membership_inference_from_arrays(
        features['candidates'], is_member, features['synthetic'], features['reference'],
        attacks=attacks, floor_synthetic=features['floor'] if enough_floor else None,
        floor_reference=features['reference'] if enough_floor else None, extra_scores=extra,
        oriented=set(extra), alpha=alpha, n_bootstrap=n_bootstrap,
        n_permutations=n_permutations, seed=seed,
        info={'n_floor_rows': len(features['floor']) if enough_floor else 0})
    for name in extra:  # the direction the result chose, applied to the whole pool
        if not np.array_equal(result.scores[name], extra[name], equal_nan=True):
            pool_scores[name] = -pool_scores[name]
    pool_scores['mc_ball_count'] = monte_carlo_ball_count(
        pca.transform(np.concatenate([members_flat, others_flat])), features['synthetic'],
        features['reference'])
    return result, pool_scores


def _fit_pca(rows, n_components):
    from sklearn.decomposition import PCA

    return PCA(n_components=min(n_components, *rows.shape), random_state=0).fit(rows)


def _flat_figures(result, pool_scores, is_member):
    """The flat dict's attack keys: every attack's figures, legacy names kept."""
    figures = {}
    for name, metric in result.metrics.items():
        for key, value in metric.items():
            figures[f'{name}_{key}'] = value
    for name, scores in pool_scores.items():
        figures[f'{name}_top_members_accuracy'] = top_members_accuracy(scores, is_member)
        figures[f'{name}_top_members_chance'] = float(is_member.mean())
    for key in ('auc', 'tpr_at_1pct_fpr', 'tpr_at_0.1pct_fpr', 'top_members_accuracy',
                'top_members_chance'):
        if f'mc_ball_count_{key}' in figures:  # the name the benchmarks read
            figures[f'monte_carlo_{key}'] = figures[f'mc_ball_count_{key}']
    verdict = result.get_verdict()
    for key in ('max_auc', 'max_auc_low', 'max_auc_high', 'floor_max_auc', 'p_value',
                'excess_auc', 'score'):
        figures[key] = verdict[key]
    figures['leakage_detected'] = float(verdict['leakage_detected'])
    return figures


def evaluate_image_synthesizer(synthesizer, members, member_labels, non_members,
                               non_member_labels, n_synthetic=1000, value_range=None,
                               cnn_epochs=30, seed=0, real_baseline=True, features=None,
                               gauge_samples=500):
    """Attacks and downstream accuracy of a fitted ``PrivImageSynthesizer``.

    ``members`` are its training images; ``non_members`` images of the same population it
    never saw (they are also the downstream test set). White-box figures need
    ``keep_training_state=True``. Returns a flat dict of numbers: per attack
    ``{attack}_auc`` (with ``_low`` / ``_high`` 95 % bounds) and TPR at low FPR, from
    :func:`image_membership_inference`; privGAN's ``_top_members_accuracy`` on the whole
    pool for the white-box and Monte-Carlo attacks (also under the names
    ``monte_carlo_*``); the verdict (``max_auc``, ``floor_max_auc``, ``p_value``,
    ``leakage_detected`` as 0/1, ``score``); downstream accuracy; with several components,
    the post-hoc gauge on each view of ``sdv_privgan.image.gauges.image_gauges``
    (``gauge_{view}_auc`` / ``_jsd``, ``gauge_samples`` images per component; the
    ``features`` view needs a ``ContentFeatures``).
    """
    synthetic = synthesizer.sample(n_synthetic)
    synthetic_labels = None
    if isinstance(synthetic, tuple):
        synthetic, synthetic_labels = synthetic
    membership, pool_scores = image_membership_inference(
        synthesizer, members, non_members, member_labels if synthetic_labels is not None else None,
        non_member_labels if synthetic_labels is not None else None, synthetic=synthetic,
        value_range=value_range, seed=seed)
    is_member = np.r_[np.ones(len(members), bool), np.zeros(len(non_members), bool)]
    result = _flat_figures(membership, pool_scores, is_member)
    if synthetic_labels is not None:
        result['downstream_accuracy'] = downstream_accuracy(
            synthetic, synthetic_labels, non_members, non_member_labels, value_range,
            cnn_epochs, seed)
        if real_baseline:
            result['downstream_accuracy_real'] = downstream_accuracy(
                members, member_labels, non_members, non_member_labels, value_range,
                cnn_epochs, seed)
    if synthesizer.n_partitions > 1:
        from sdv_privgan.image.gauges import image_gauges

        for view, gauge in image_gauges(synthesizer, features, gauge_samples, seed).items():
            result[f'gauge_{view}_auc'], result[f'gauge_{view}_jsd'] = gauge['auc'], gauge['jsd']
    return result
