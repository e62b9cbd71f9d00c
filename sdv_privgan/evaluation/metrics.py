"""How well an attack's scores separate members from non-members.

Every attack in this package returns one score per candidate row, higher
meaning "more likely a training member". These functions turn such scores into
the numbers the literature reports: ROC AUC, and the true-positive rate at a
low false-positive rate (Carlini et al., "Membership Inference Attacks From
First Principles": an attack that is confident about a few members matters even
when its AUC is near 0.5).
"""

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve as _sk_roc_curve

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
    scores, is_member = _check_inputs(scores, is_member)
    fpr, tpr = roc_curve(scores, is_member)
    return {
        'auc': float(roc_auc_score(is_member, scores)),
        'tpr_at_1pct_fpr': tpr_at_fpr(fpr, tpr, 0.01),
        'tpr_at_0.1pct_fpr': tpr_at_fpr(fpr, tpr, 0.001),
    }


def privacy_score_from_auc(max_auc):
    """Map the strongest attack's AUC to a 0..1 score, 1 = no attack beats chance.

    ``1 - 2 * max(AUC - 0.5, 0)``: an AUC at or below chance scores 1 and a
    perfect attack scores 0, matching SDMetrics' convention that higher is better.
    """
    return float(1.0 - 2.0 * max(float(max_auc) - 0.5, 0.0))
