"""Privacy and utility of an image synthesizer, measured the way the paper does.

- Utility: the downstream metric. A small CNN trained on synthetic images (with their
  labels) is tested on real held-out images, beside the same CNN trained on real images.
- White-box (LOGAN, Hayes et al. 2019): the kept partition discriminators' highest
  probability of "real"; the component classifier's confidence.
- Black-box: the Monte-Carlo ball count (Hilprecht et al. 2019) in a PCA space fitted on
  the synthetic images, from ``sdv_privgan.evaluation.attacks``.

Each attack is reported as ROC AUC on a balanced member / non-member set (with TPR at low
FPR, from ``sdv_privgan.evaluation.metrics``) and as privGAN's figure, the share of members
among the ``n_members`` candidates the attack ranks highest in the whole candidate pool
(Mukherjee et al. 2021 report it with 10 % members, so chance is 0.10 there).
"""

import numpy as np
import torch
from torch.nn import functional

from sdv_privgan.evaluation.attacks import monte_carlo_ball_count
from sdv_privgan.evaluation.metrics import attack_metrics
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
    from sklearn.decomposition import PCA

    flat = [np.asarray(x, dtype=np.float32).reshape(len(x), -1) for x in (synthetic, *others)]
    pca = PCA(n_components=min(n_components, *flat[0].shape), random_state=0).fit(flat[0])
    return [pca.transform(x) for x in flat]


def monte_carlo_scores(synthetic, candidates, value_range=None, n_components=20):
    """Monte-Carlo ball-count scores of ``candidates`` in the synthetic images' PCA space."""
    synthetic = as_model_batch(synthetic, value_range)
    candidates = as_model_batch(candidates, value_range)
    synthetic, candidates = pca_features(synthetic, candidates, n_components=n_components)
    return monte_carlo_ball_count(candidates, synthetic)


def evaluate_image_synthesizer(synthesizer, members, member_labels, non_members,
                               non_member_labels, n_synthetic=1000, value_range=None,
                               cnn_epochs=30, seed=0, real_baseline=True):
    """Attacks and downstream accuracy of a fitted ``PrivImageSynthesizer``.

    ``members`` are its training images; ``non_members`` images of the same population it
    never saw (they are also the downstream test set). White-box figures need
    ``keep_training_state=True``. Returns a flat dict of numbers.
    """
    pool = np.concatenate([members, non_members])
    is_member = np.r_[np.ones(len(members), bool), np.zeros(len(non_members), bool)]
    result = {}
    synthetic = synthesizer.sample(n_synthetic)
    synthetic_labels = None
    if isinstance(synthetic, tuple):
        synthetic, synthetic_labels = synthetic
    if getattr(synthesizer, 'keep_training_state', False):
        pool_labels = None
        if synthetic_labels is not None:
            pool_labels = np.concatenate([member_labels, non_member_labels])
        white = synthesizer.get_white_box_scores(pool, labels=pool_labels)
        for column in white:
            if not white[column].isna().all():
                for key, value in summarize_attack(white[column], is_member, seed).items():
                    result[f'white_box_{column}_{key}'] = value
    scores = monte_carlo_scores(synthetic, pool, value_range)
    for key, value in summarize_attack(scores, is_member, seed).items():
        result[f'monte_carlo_{key}'] = value
    if synthetic_labels is not None:
        result['downstream_accuracy'] = downstream_accuracy(
            synthetic, synthetic_labels, non_members, non_member_labels, value_range,
            cnn_epochs, seed)
        if real_baseline:
            result['downstream_accuracy_real'] = downstream_accuracy(
                members, member_labels, non_members, non_member_labels, value_range,
                cnn_epochs, seed)
    if synthesizer.n_partitions > 1:
        gauge = synthesizer.get_component_distinguishability(seed=seed)
        result['distinguishability_auc'] = gauge['auc']
        result['distinguishability_jsd'] = gauge['jsd']
    return result
