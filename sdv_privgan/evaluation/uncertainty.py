"""How sure a membership-inference figure is: bootstrap intervals, a permutation test, size checks.

Everything here works from stored attack scores (one per candidate, higher = more
likely a member) and the membership labels; no attack is rerun.

- Intervals: a stratified bootstrap over the candidates (members and
  non-members resampled separately, so each replicate keeps both set sizes).
  One set of resampling weights is shared by every attack, so the intervals of
  two attacks are paired. A resampled AUC is computed from weighted cumulative
  sums in score order, with ties counted half, without re-sorting.
- The permutation test of the maximum: under "the synthetic data carry no
  information about who is a member" the labels are exchangeable among the
  candidates, so shuffling them gives the null distribution of any statistic.
  The statistic is the largest AUC over all attacks, which corrects for the
  number of attacks (the more attacks, the larger the maximum by chance). Ranks
  are computed once; a shuffled AUC is a rank sum, so all permutations of all
  attacks are one matrix product.
"""

import warnings

import numpy as np
from scipy.stats import rankdata

from sdv_privgan.evaluation.metrics import _check_inputs

#: Fewest members (and non-members) for which any membership figure is computed.
MIN_CANDIDATES = 10

#: The half-width an AUC interval should stay under; smaller sets get a warning.
TARGET_HALF_WIDTH = 0.05

#: False-positive rates at which the true-positive rate is reported.
LOW_FPRS = {'tpr_at_1pct_fpr': 0.01, 'tpr_at_0.1pct_fpr': 0.001}

_CHUNK = 200  # bootstrap / permutation replicates held at once (each is one row of weights)


def null_auc_half_width(n_members, n_non_members, level=0.95):
    """Half-width of the interval an AUC of 0.5 has by chance (Hanley and McNeil's variance)."""
    from scipy.stats import norm

    variance = (n_members + n_non_members + 1) / (12.0 * n_members * n_non_members)
    return float(norm.ppf(0.5 + level / 2) * np.sqrt(variance))


def require_candidates(n_members, n_non_members, what='membership inference'):
    """Raise a ValueError when either set is too small for any figure to mean anything."""
    for count, name in ((n_members, 'members'), (n_non_members, 'non-members')):
        if count < MIN_CANDIDATES:
            raise ValueError(
                f'{what} needs at least {MIN_CANDIDATES} {name}; got {count}. With so few '
                'rows no AUC means anything: give a larger training set or holdout.'
            )


def check_candidate_counts(n_members, n_non_members, what='membership inference'):
    """Raise when a set is too small to compute anything; warn when intervals will be wide.

    Returns the half-width of a chance AUC's 95 % interval at these sizes.
    """
    require_candidates(n_members, n_non_members, what)
    half_width = null_auc_half_width(n_members, n_non_members)
    if half_width > TARGET_HALF_WIDTH:
        needed = int(np.ceil(1.96**2 / (6 * TARGET_HALF_WIDTH**2)))
        warnings.warn(
            f'{what} runs on {n_members} members and {n_non_members} non-members, so an AUC '
            f'has a 95 % interval of about +-{half_width:.2f} even without any leakage; about '
            f'{needed} of each are needed for +-{TARGET_HALF_WIDTH:.2f}. Read the interval, '
            'not the point estimate.'
        )
    return half_width


def _score_matrix(scores, is_member):
    return np.column_stack([_check_inputs(values, is_member)[0] for values in scores])


def _stratified_weights(is_member, n_replicates, rng):
    """Multinomial resampling counts, members and non-members separately: (n_replicates, n)."""
    # float32 holds these integer counts exactly and halves the memory traffic.
    weights = np.zeros((n_replicates, len(is_member)), dtype=np.float32)
    for mask in (is_member, ~is_member):
        size = int(mask.sum())
        weights[:, mask] = rng.multinomial(size, np.full(size, 1.0 / size), size=n_replicates)
    return weights


def _cumulative(weights):
    out = np.zeros((len(weights), weights.shape[1] + 1), dtype=np.float64)
    np.cumsum(weights, axis=1, out=out[:, 1:])
    return out


def _weighted_metrics(sorted_weights, sorted_member, starts, ends, block_starts):
    """AUC and TPR at low FPR of one attack for each row of resampling weights.

    ``sorted_weights`` are in ascending score order; ``starts`` / ``ends`` give,
    for each position, the first and one-past-last position of its tie block, and
    ``block_starts`` the first position of every block.
    """
    member_w = sorted_weights * sorted_member
    cum_other = _cumulative(sorted_weights - member_w)
    cum_member = _cumulative(member_w)
    total_other, total_member = cum_other[:, -1], cum_member[:, -1]
    if len(block_starts) == len(starts):  # no ties: every block is one position
        pairs = (member_w * cum_other[:, :-1]).sum(axis=1)
        at_blocks = cum_other[:, :-1]
    else:
        below = cum_other[:, starts]
        pairs = (member_w * (below + 0.5 * (cum_other[:, ends] - below))).sum(axis=1)
        at_blocks = cum_other[:, block_starts]
    result = {'auc': pairs / (total_member * total_other)}
    # Thresholds "score >= a block's value": the FPR falls as the block index grows,
    # so the best TPR within an FPR budget is at the first block inside the budget.
    for key, target in LOW_FPRS.items():
        inside = at_blocks >= (1 - target) * total_other[:, None] - 1e-9
        first = inside.argmax(axis=1)
        chosen = cum_member[np.arange(len(first)), block_starts[first]]
        result[key] = np.where(inside.any(axis=1), (total_member - chosen) / total_member, 0.0)
    return result


def tie_layout(scores):
    """What ``_weighted_metrics`` needs of one attack's scores: ``(order, starts, ends,
    block_starts)``, the sorting order, for every sorted position the first and one past
    the last position of its block of tied scores, and the first position of every block."""
    order = np.argsort(scores, kind='stable')
    ordered = scores[order]
    first = np.r_[True, ordered[1:] != ordered[:-1]]
    block = np.cumsum(first) - 1
    block_starts = np.flatnonzero(first)
    block_ends = np.r_[block_starts[1:], len(ordered)]
    return order, block_starts[block], block_ends[block], block_starts


def bootstrap_intervals(scores, is_member, n_bootstrap=1000, level=0.95, seed=0):
    """Percentile bootstrap intervals of AUC and TPR at 1 % / 0.1 % FPR for every attack.

    Args:
        scores (dict): ``{attack: scores}``, each one score per candidate.
        is_member (array of bool): The labels.
        n_bootstrap (int): Replicates (members and non-members resampled separately).
        level (float): Coverage of the intervals.
        seed (int): Seeds the resampling; the same weights serve every attack.

    Returns:
        dict: ``{attack: {'auc_low': ..., 'auc_high': ..., 'tpr_at_1pct_fpr_low': ..., ...}}``.
    """
    is_member = np.asarray(is_member, dtype=bool)
    names = list(scores)
    if not names:
        return {}
    matrix = _score_matrix([scores[name] for name in names], is_member)
    layouts = [tie_layout(column) for column in matrix.T]
    rng = np.random.default_rng(seed)
    collected = {name: {key: [] for key in ('auc', *LOW_FPRS)} for name in names}
    for start in range(0, n_bootstrap, _CHUNK):
        weights = _stratified_weights(is_member, min(_CHUNK, n_bootstrap - start), rng)
        for name, (order, *blocks) in zip(names, layouts):
            replicate = _weighted_metrics(weights[:, order], is_member[order], *blocks)
            for key, values in replicate.items():
                collected[name][key].append(values)
    tail = 100 * (1 - level) / 2
    intervals = {}
    for name in names:
        intervals[name] = {}
        for key, chunks in collected[name].items():
            low, high = np.percentile(np.concatenate(chunks), [tail, 100 - tail])
            intervals[name][f'{key}_low'] = float(low)
            intervals[name][f'{key}_high'] = float(high)
    return intervals


def _rank_aucs(ranks, member_masks, n_members):
    """AUC of every attack (columns of ``ranks``) under every label set (rows of the masks)."""
    n_others = ranks.shape[0] - n_members
    rank_sums = member_masks @ ranks
    return (rank_sums - n_members * (n_members + 1) / 2) / (n_members * n_others)


def permutation_test_of_max(scores, is_member, groups, oriented=(), n_permutations=1000, seed=0):
    """Permutation p-values of the largest AUC within each group of attacks.

    Args:
        scores (dict): ``{attack: scores}``.
        is_member (array of bool): The labels.
        groups (dict): ``{group: [attack, ...]}``; every group's maximum is tested
            under the same shuffles, so groups can be compared.
        oriented (iterable): Attacks whose direction was chosen from the labels
            (``max(AUC, 1 - AUC)``); they are re-oriented under every shuffle, so
            the choice costs them what it costs them by chance.
        n_permutations (int): Shuffles of the labels.
        seed (int): Seeds the shuffles.

    Returns:
        dict: ``{group: {'statistic': observed max AUC, 'p_value': float}}``;
        ``p = (1 + #{shuffled max >= observed}) / (1 + n_permutations)``.
    """
    is_member = np.asarray(is_member, dtype=bool)
    names = list(scores)
    ranks = np.column_stack([rankdata(column) for column in _score_matrix(
        [scores[name] for name in names], is_member).T])
    flip = np.array([name in set(oriented) for name in names])
    n_members = int(is_member.sum())

    def statistic(aucs):
        aucs = np.where(flip, np.maximum(aucs, 1 - aucs), aucs)
        return {group: aucs[..., [names.index(name) for name in members]].max(axis=-1)
                for group, members in groups.items() if members}

    observed = statistic(_rank_aucs(ranks, is_member[None, :].astype(float), n_members)[0])
    exceed = dict.fromkeys(observed, 0)
    rng = np.random.default_rng(seed)
    for start in range(0, n_permutations, _CHUNK):
        count = min(_CHUNK, n_permutations - start)
        masks = rng.permuted(np.tile(is_member, (count, 1)), axis=1).astype(float)
        for group, values in statistic(_rank_aucs(ranks, masks, n_members)).items():
            exceed[group] += int((values >= observed[group] - 1e-12).sum())
    return {group: {'statistic': float(observed[group]),
                    'p_value': (1 + exceed[group]) / (1 + n_permutations)}
            for group in observed}
