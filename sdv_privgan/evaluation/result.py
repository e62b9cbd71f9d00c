"""The one result type of a membership audit, for tables and images alike.

A :class:`MembershipInferenceResult` holds every attack's scores on one set of
candidates (members and non-members) and, when it could be measured, the same
attacks' scores with real non-member rows standing in for the synthetic data
(the *noise floor*). From those stored scores it derives, once, at creation:
per-attack AUC and TPR at low FPR with bootstrap intervals, the floor's figures,
and the verdict of a permutation test of the largest AUC
(:mod:`sdv_privgan.evaluation.uncertainty`).
"""

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sdv_privgan.evaluation.attacks import attack_label
from sdv_privgan.evaluation.metrics import metrics_from_curve, privacy_score_from_auc, roc_curve
from sdv_privgan.evaluation.uncertainty import (
    bootstrap_intervals,
    check_candidate_counts,
    permutation_test_of_max,
)

#: A floor this significant means members and non-members differ without any synthesizer.
FLOOR_WARNING_P_VALUE = 0.01


def scoring_floor(floor_auc):
    """The floor a score is measured from: chance without a floor, and at most 0.999 (a
    floor of 1 leaves no room to measure an excess)."""
    return min(float(floor_auc), 0.999) if np.isfinite(floor_auc) else 0.5


def _with_intervals(scores, is_member, n_bootstrap, seed, curves=None):
    if curves is None:
        curves = {name: roc_curve(values, is_member) for name, values in scores.items()}
    metrics = {name: metrics_from_curve(*curves[name]) for name in scores}
    if n_bootstrap:
        for name, interval in bootstrap_intervals(scores, is_member, n_bootstrap,
                                                  seed=seed).items():
            metrics[name].update(interval)
    return metrics


@dataclass
class MembershipInferenceResult:
    """Scores of every attack on one set of members and non-members, with their uncertainty.

    Attributes:
        scores (dict): ``{attack: array}``, one score per candidate, higher = more
            likely a member.
        is_member (numpy.ndarray of bool): The candidates' labels.
        metrics (dict): Per attack ``auc``, ``tpr_at_1pct_fpr``, ``tpr_at_0.1pct_fpr``
            and, with ``n_bootstrap > 0``, each one's ``_low`` / ``_high`` 95 % bounds.
        curves (dict): Per attack the ROC curve ``(fpr, tpr)``.
        floor_scores (dict): The same attacks (those that use the synthetic rows
            only through the attack functions) with real non-member rows standing in
            for the synthetic data; empty when no such rows were available.
        floor_metrics (dict): ``metrics`` of ``floor_scores``.
        oriented (tuple): Attacks whose direction was chosen from the labels
            (white-box scores); the permutation test re-orients them under every shuffle.
        verdict (dict): See :meth:`get_verdict`.
        info (dict): How the candidates and the floor were drawn (sizes, rows per target).
        shadow: A :class:`~sdv_privgan.evaluation.shadow.ShadowAttackResult` or None.
    """

    scores: dict
    is_member: np.ndarray
    metrics: dict = field(default_factory=dict)
    curves: dict = field(default_factory=dict)
    floor_scores: dict = field(default_factory=dict)
    oriented: tuple = ()
    alpha: float = 0.05
    n_bootstrap: int = 1000
    n_permutations: int = 1000
    seed: int = 0
    info: dict = field(default_factory=dict)
    floor_metrics: dict = field(default_factory=dict)
    verdict: dict = field(default_factory=dict)
    shadow: object = None

    def __post_init__(self):
        self.is_member = np.asarray(self.is_member, dtype=bool)
        if not self.scores:
            raise ValueError('A membership-inference result needs at least one attack.')
        if not 0 < self.alpha < 1:
            raise ValueError(f'alpha must be strictly between 0 and 1; got {self.alpha}.')
        n_members = int(self.is_member.sum())
        half_width = check_candidate_counts(n_members, len(self.is_member) - n_members)
        self.oriented = tuple(name for name in self.oriented if name in self.scores)
        self.curves = {name: roc_curve(values, self.is_member)
                       for name, values in self.scores.items()}
        self.metrics = _with_intervals(self.scores, self.is_member, self.n_bootstrap, self.seed,
                                       self.curves)
        self.floor_metrics = _with_intervals(self.floor_scores, self.is_member,
                                             self.n_bootstrap, self.seed)
        self.verdict = self._compute_verdict(half_width)

    # -- the verdict ---------------------------------------------------------------------------
    def _compute_verdict(self, half_width):
        groups = {'attacks': list(self.scores)}
        scores = dict(self.scores)
        if self.floor_scores:
            groups['floor'] = [f'floor:{name}' for name in self.floor_scores]
            scores.update({f'floor:{name}': values for name, values in self.floor_scores.items()})
        tests = permutation_test_of_max(scores, self.is_member, groups, self.oriented,
                                        self.n_permutations, seed=self.seed + 1)
        best = self.best_attack
        best_metrics = self.metrics[best]
        verdict = {
            'leakage_detected': bool(tests['attacks']['p_value'] < self.alpha),
            'p_value': tests['attacks']['p_value'],
            'alpha': self.alpha,
            'max_auc': best_metrics['auc'],
            'max_auc_low': best_metrics.get('auc_low', np.nan),
            'max_auc_high': best_metrics.get('auc_high', np.nan),
            'best_attack': best,
            'best_attack_label': attack_label(best),
            'floor_max_auc': np.nan, 'floor_max_auc_low': np.nan, 'floor_max_auc_high': np.nan,
            'floor_best_attack': None, 'floor_p_value': np.nan,
            'n_attacks': len(self.scores),
            'n_members': int(self.is_member.sum()),
            'n_non_members': int((~self.is_member).sum()),
            'n_floor_rows': int(self.info.get('n_floor_rows', 0)),
            'n_permutations': self.n_permutations,
            'n_bootstrap': self.n_bootstrap,
            'chance_half_width': half_width,
        }
        if self.floor_metrics:
            floor_best = max(self.floor_metrics, key=lambda name: self.floor_metrics[name]['auc'])
            floor = self.floor_metrics[floor_best]
            verdict.update(
                floor_max_auc=floor['auc'], floor_max_auc_low=floor.get('auc_low', np.nan),
                floor_max_auc_high=floor.get('auc_high', np.nan), floor_best_attack=floor_best,
                floor_p_value=tests['floor']['p_value'])
            if verdict['floor_p_value'] < FLOOR_WARNING_P_VALUE:
                warnings.warn(
                    f"The noise floor itself is significant (p = {verdict['floor_p_value']:.3f}): "
                    'real rows that are not members, standing in for the synthetic data, already '
                    'tell members from non-members. The holdout may not come from the same '
                    'population as the training rows, or the split was not random; read the '
                    'verdict against the floor.'
                )
        floor_auc = verdict['floor_max_auc']
        verdict['excess_auc'] = verdict['max_auc'] - (floor_auc if np.isfinite(floor_auc) else 0.5)
        verdict['interval_excludes_floor'] = bool(
            np.isfinite(floor_auc) and verdict['max_auc_low'] > floor_auc)
        verdict['score'] = privacy_score_from_auc(verdict['max_auc'], scoring_floor(floor_auc))
        return verdict

    def get_verdict(self):
        """The calibrated verdict, as a dict (a copy).

        Keys: ``leakage_detected`` (``p_value < alpha``), ``p_value`` (permutation test
        of the largest AUC over all attacks), ``alpha``, ``max_auc`` with
        ``max_auc_low`` / ``max_auc_high`` (the best attack's 95 % bootstrap interval),
        ``best_attack`` and its label, ``floor_max_auc`` (+ interval,
        ``floor_best_attack``, ``floor_p_value``), ``excess_auc`` (max AUC minus the
        floor, or minus 0.5 without a floor), ``interval_excludes_floor``, ``score``
        (the Membership Inference property, from the excess over the floor), the set
        sizes, ``chance_half_width`` (half-width of a chance AUC's 95 % interval at
        these sizes) and the numbers of permutations and bootstrap replicates.
        """
        return dict(self.verdict)

    def describe_verdict(self):
        """The verdict in one sentence, e.g. for a report's printout."""
        verdict = self.verdict
        floor = verdict['floor_max_auc']
        floor_text = (f", floor {floor:.3f}" if np.isfinite(floor) else ', no floor measured')
        outcome = 'leakage detected' if verdict['leakage_detected'] else 'no leakage detected'
        return (f"max AUC {verdict['max_auc']:.3f} [{verdict['max_auc_low']:.3f}, "
                f"{verdict['max_auc_high']:.3f}] ({verdict['best_attack_label']}){floor_text}; "
                f"permutation p = {verdict['p_value']:.3f} over {verdict['n_attacks']} attacks: "
                f"{outcome} at the {verdict['alpha']:.0%} level")

    # -- the figures every caller had ----------------------------------------------------------
    @property
    def max_auc(self):
        """The headline: the AUC of the strongest attack."""
        return max(metric['auc'] for metric in self.metrics.values())

    @property
    def best_attack(self):
        return max(self.metrics, key=lambda name: self.metrics[name]['auc'])

    def to_frame(self):
        """One row per attack: AUC and TPR at low FPR with intervals, and the floor's AUC."""
        rows = []
        for name, metric in self.metrics.items():
            floor = self.floor_metrics.get(name, {})
            rows.append({
                'Attack': attack_label(name),
                'Attack ID': name,
                'AUC': metric['auc'],
                'AUC low': metric.get('auc_low', np.nan),
                'AUC high': metric.get('auc_high', np.nan),
                'TPR at 1% FPR': metric['tpr_at_1pct_fpr'],
                'TPR at 1% FPR low': metric.get('tpr_at_1pct_fpr_low', np.nan),
                'TPR at 1% FPR high': metric.get('tpr_at_1pct_fpr_high', np.nan),
                'TPR at 0.1% FPR': metric['tpr_at_0.1pct_fpr'],
                'TPR at 0.1% FPR low': metric.get('tpr_at_0.1pct_fpr_low', np.nan),
                'TPR at 0.1% FPR high': metric.get('tpr_at_0.1pct_fpr_high', np.nan),
                'Floor AUC': floor.get('auc', np.nan),
                'Floor AUC low': floor.get('auc_low', np.nan),
                'Floor AUC high': floor.get('auc_high', np.nan),
                'Oriented': name in self.oriented,
            })
        return pd.DataFrame(rows)


def membership_details(result):
    """The details table of the Membership Inference property.

    One row per attack (AUC and TPR at low FPR with 95 % intervals, the floor's
    AUC, a per-attack score), then a row ``max`` with the verdict (the maximum
    over attacks, its floor, the permutation p-value, whether leakage is
    detected), then, when it ran, a row for the shadow-model attack, which is
    measured on its own targets and so is not part of the maximum.
    """
    details = result.to_frame()
    details['Score'] = [privacy_score_from_auc(auc, scoring_floor(floor))
                        for auc, floor in zip(details['AUC'], details['Floor AUC'])]
    details['Candidates'] = len(result.is_member)
    details['In verdict'] = True
    verdict = result.verdict
    rows = [{
        'Attack': 'Maximum over attacks (verdict)', 'Attack ID': 'max',
        'AUC': verdict['max_auc'], 'AUC low': verdict['max_auc_low'],
        'AUC high': verdict['max_auc_high'],
        'TPR at 1% FPR': details['TPR at 1% FPR'].max(),
        'TPR at 0.1% FPR': details['TPR at 0.1% FPR'].max(),
        'Floor AUC': verdict['floor_max_auc'], 'Floor AUC low': verdict['floor_max_auc_low'],
        'Floor AUC high': verdict['floor_max_auc_high'], 'Score': verdict['score'],
        'Candidates': len(result.is_member), 'In verdict': True,
        'p-value': verdict['p_value'], 'Leakage detected': verdict['leakage_detected'],
    }]
    shadow = result.shadow
    if shadow is not None:
        metrics = shadow.metrics
        rows.append({
            'Attack': f'Shadow-model LiRA ({len(shadow.targets)} targets, {shadow.n_fits} fits)',
            'Attack ID': 'shadow_lira', 'AUC': metrics['auc'],
            'AUC low': metrics.get('auc_low', np.nan), 'AUC high': metrics.get('auc_high', np.nan),
            'TPR at 1% FPR': metrics['tpr_at_1pct_fpr'],
            'TPR at 1% FPR low': metrics.get('tpr_at_1pct_fpr_low', np.nan),
            'TPR at 1% FPR high': metrics.get('tpr_at_1pct_fpr_high', np.nan),
            'TPR at 0.1% FPR': metrics['tpr_at_0.1pct_fpr'],
            'Candidates': shadow.scores.size, 'In verdict': False,
        })
    return pd.concat([details, pd.DataFrame(rows)], ignore_index=True)
