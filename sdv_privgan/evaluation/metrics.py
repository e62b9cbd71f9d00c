"""How well an attack's scores separate members from non-members.

Every attack in this package returns one score per candidate row, higher
meaning "more likely a training member". These functions turn such scores into
the numbers the literature reports: ROC AUC, and the true-positive rate at a
low false-positive rate (Carlini et al., "Membership Inference Attacks From
First Principles": an attack that is confident about a few members matters even
when its AUC is near 0.5).
"""

import numpy as np
from sklearn.metrics import auc as _area_under
from sklearn.metrics import roc_curve as _sk_roc_curve

def _check_inputs(scores, is_member):
    scores = np.asarray(scores, dtype=float).ravel()
    is_member = np.asarray(is_member).ravel().astype(bool)
    if scores.shape != is_member.shape:
        raise ValueError(
            f'scores and is_member must have the same length; got {scores.size} and '
            f'{is_member.size}.'
        )
    if is_member.all() or not is_member.any():
        raise ValueError('is_member must contain both members (True) and non-members (False).')
    if np.isnan(scores).any():
        # A NaN would be sorted arbitrarily by sklearn; treat it as "no evidence
        # of membership" rather than failing, but only for a minority of rows.
        if np.isnan(scores).mean() > 0.5:
            raise ValueError('More than half of the attack scores are NaN.')
        scores = np.where(np.isnan(scores), np.nanmin(scores), scores)
    # +-inf (e.g. a log density ratio where a density is zero) keeps its order
    # but would break sklearn's threshold arithmetic.
    finite = scores[np.isfinite(scores)]
    if finite.size < scores.size:
        low, high = (finite.min(), finite.max()) if finite.size else (0.0, 0.0)
        span = max(high - low, 1.0)
        scores = np.clip(scores, low - span, high + span)
    return scores, is_member


def roc_curve(scores, is_member):
    """Return the ROC curve of an attack as ``(fpr, tpr)`` arrays.

    Args:
        scores (array-like): One score per candidate, higher = more likely a member.
        is_member (array-like of bool): True for training rows, False for non-members.

    Returns:
        tuple[numpy.ndarray, numpy.ndarray]: false- and true-positive rates,
        both starting at 0 and ending at 1.
    """
    scores, is_member = _check_inputs(scores, is_member)
    # drop_intermediate=False keeps the exact steps near FPR 0, which the
    # low-FPR figures and a log-scale plot depend on.
    fpr, tpr, _ = _sk_roc_curve(is_member, scores, drop_intermediate=False)
    return fpr, tpr


def tpr_at_fpr(fpr, tpr, target_fpr):
    """True-positive rate at the largest threshold whose FPR does not exceed ``target_fpr``.

    No interpolation: with 500 non-members an FPR of 0.1 % is not reachable
    between 0 and 1/500, and interpolating would invent a rate no threshold gives.
    """
    fpr = np.asarray(fpr)
    tpr = np.asarray(tpr)
    allowed = fpr <= target_fpr
    return float(tpr[allowed].max()) if allowed.any() else 0.0


def attack_metrics(scores, is_member):
    """Summarise an attack: ROC AUC and TPR at 1 % and 0.1 % FPR.

    Args:
        scores (array-like): One score per candidate, higher = more likely a member.
        is_member (array-like of bool): True for training rows, False for non-members.

    Returns:
        dict: ``{'auc': float, 'tpr_at_1pct_fpr': float, 'tpr_at_0.1pct_fpr': float}``.
        An AUC of 0.5 is chance; below 0.5 the attack's direction is wrong for
        this model (it is reported as is, not flipped, so that a report is honest
        about which attacks work).
    """
    return metrics_from_curve(*roc_curve(scores, is_member))


def metrics_from_curve(fpr, tpr):
    """:func:`attack_metrics` from an ROC curve of :func:`roc_curve` (no second pass)."""
    # The trapezoid under the full step curve is the AUC with ties counted half,
    # as roc_auc_score computes it.
    return {
        'auc': float(_area_under(fpr, tpr)),
        'tpr_at_1pct_fpr': tpr_at_fpr(fpr, tpr, 0.01),
        'tpr_at_0.1pct_fpr': tpr_at_fpr(fpr, tpr, 0.001),
    }


def privacy_score_from_auc(max_auc, floor_auc=0.5):
    """Map the strongest attack's AUC to a 0..1 score, 1 = no attack beats the floor.

    ``1 - max(AUC - floor, 0) / (1 - floor)``: an AUC at or below the floor
    scores 1 and a perfect attack scores 0, matching SDMetrics' convention that
    higher is better. The floor is what the same attacks reach with real rows
    that are not members in place of the synthetic data; with the default 0.5
    (chance) this is ``1 - 2 * max(AUC - 0.5, 0)``.
    """
    max_auc, floor_auc = float(max_auc), float(floor_auc)
    if np.isnan(max_auc):
        raise ValueError('max_auc is NaN; the attacks gave no usable scores.')
    if not 0 <= floor_auc < 1:
        raise ValueError(f'floor_auc must be in [0, 1); got {floor_auc}.')
    return float(1.0 - max(max_auc - floor_auc, 0.0) / (1.0 - floor_auc))
