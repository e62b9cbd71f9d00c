"""Run the membership-inference attacks on tables and collect their scores.

This is the table-level driver: it balances members and non-members, fits one
:class:`TabularEncoder` shared by every attack, runs the black-box attacks of
:mod:`attacks`, and, when it is given a synthesizer that kept its training
state, the white-box ones through ``synthesizer.get_white_box_scores``.
"""

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sdv_privgan.evaluation._inputs import sample_rows
from sdv_privgan.evaluation.attacks import ATTACK_LABELS, BLACK_BOX_ATTACKS, NEEDS_REFERENCE
from sdv_privgan.evaluation.encoding import TabularEncoder
from sdv_privgan.evaluation.metrics import attack_metrics, roc_curve

#: Columns of ``get_white_box_scores`` and the attack names they become.
WHITE_BOX_COLUMNS = {'critic': 'white_box_critic', 'critic_contrast': 'white_box_contrast',
                     'classifier': 'white_box_classifier'}


@dataclass
class MembershipInferenceResult:
    """Scores of every attack on one balanced set of members and non-members."""

    scores: dict
    is_member: np.ndarray
    metrics: dict = field(default_factory=dict)
    curves: dict = field(default_factory=dict)

    def __post_init__(self):
        for name, scores in self.scores.items():
            self.metrics[name] = attack_metrics(scores, self.is_member)
            self.curves[name] = roc_curve(scores, self.is_member)

    @property
    def max_auc(self):
        """The headline: the AUC of the strongest attack."""
        return max(metric['auc'] for metric in self.metrics.values())

    @property
    def best_attack(self):
        return max(self.metrics, key=lambda name: self.metrics[name]['auc'])

    def to_frame(self):
        """One row per attack: its AUC and TPR at low FPR."""
        rows = [
            {
                'Attack': ATTACK_LABELS.get(name, name),
                'Attack ID': name,
                'AUC': metric['auc'],
                'TPR at 1% FPR': metric['tpr_at_1pct_fpr'],
                'TPR at 0.1% FPR': metric['tpr_at_0.1pct_fpr'],
            }
            for name, metric in self.metrics.items()
        ]
        return pd.DataFrame(rows)


def has_white_box(synthesizer):
    """Whether ``synthesizer`` can score rows white-box (it kept its critics and classifier)."""
    return (
        synthesizer is not None
        and callable(getattr(synthesizer, 'get_white_box_scores', None))
        and bool(getattr(synthesizer, 'keep_training_state', False))
    )


def white_box_scores(synthesizer, candidates):
    """The white-box attack scores of ``candidates`` as a dict of arrays."""
    frame = synthesizer.get_white_box_scores(candidates)
    if len(frame) != len(candidates):
        raise ValueError(
            f'get_white_box_scores returned {len(frame)} rows for {len(candidates)} candidates.'
        )
    return {
        attack: np.asarray(frame[column], dtype=float)
        for column, attack in WHITE_BOX_COLUMNS.items()
        if column in frame
    }


def _orient(scores, is_member):
    """Negate a score that ranks members below non-members.

    Which way a critic moves on its training rows is not fixed: a WGAN critic whose
    generator reproduces those rows is pushed *down* there by the fakes, as often as
    *up* by the real rows. The report assumes the attacker knows the direction (a few
    known members would tell), so white-box AUCs are ``max(AUC, 1 - AUC)``: an upper
    bound on such an attacker, which overstates leakage slightly when there is none.
    """
    return -scores if attack_metrics(scores, is_member)['auc'] < 0.5 else scores


def _resolve_attacks(attacks):
    if attacks is None:
        return dict(BLACK_BOX_ATTACKS)
    if isinstance(attacks, dict):
        return dict(attacks)
    unknown = [name for name in attacks if name not in BLACK_BOX_ATTACKS]
    if unknown:
        raise ValueError(f'Unknown attacks {unknown}; choose from {sorted(BLACK_BOX_ATTACKS)}.')
    return {name: BLACK_BOX_ATTACKS[name] for name in attacks}


def run_membership_inference(
    members,
    non_members,
    synthetic,
    reference=None,
    metadata=None,
    attacks=None,
    synthesizer=None,
    max_candidates=None,
    seed=0,
    on_step=None,
):
    """Attack a synthetic table and return a :class:`MembershipInferenceResult`.

    Args:
        members (pandas.DataFrame): Rows the synthesizer was trained on.
        non_members (pandas.DataFrame): Rows of the same population it never saw.
        synthetic (pandas.DataFrame): Its output.
        reference (pandas.DataFrame or None): Another sample of the population,
            disjoint from both; without it the attacks that need it are skipped.
        metadata: ``sdv.metadata.Metadata`` or dict, for the column sdtypes.
        attacks (list, dict or None): Names from ``BLACK_BOX_ATTACKS``, or a
            dict ``{name: attack(candidates, synthetic, reference)}``; default all.
        synthesizer: Optional fitted synthesizer with ``get_white_box_scores``
            and ``keep_training_state=True``; its white-box attacks are added.
        max_candidates (int or None): Most members (and as many non-members)
            attacked; members and non-members are always balanced.
        seed (int): Seeds the subsampling of candidates (the attacks' own random
            draws use a fixed seed, so equal inputs give equal scores).
        on_step (callable or None): Called with a short description before each step.
    """
    rng = np.random.default_rng(seed)
    on_step = on_step or (lambda description: None)
    n_candidates = min(len(members), len(non_members))
    if max_candidates is not None:
        n_candidates = min(n_candidates, int(max_candidates))
    members = sample_rows(members, n_candidates, rng)
    non_members = sample_rows(non_members, n_candidates, rng)
    candidates = pd.concat([members, non_members], ignore_index=True)
    is_member = np.r_[np.ones(n_candidates, bool), np.zeros(n_candidates, bool)]

    on_step('Encoding rows for the attacks')
    # Fit on every real row available, without the membership labels: the
    # encoding then covers their categories and cannot leak who is a member.
    real_rows = [candidates] + ([reference] if reference is not None else [])
    encoder = TabularEncoder(metadata).fit(pd.concat(real_rows, ignore_index=True))
    encoded_candidates = encoder.transform(candidates)
    encoded_synthetic = encoder.transform(synthetic)
    encoded_reference = encoder.transform(reference) if reference is not None else None

    scores = {}
    for name, attack in _resolve_attacks(attacks).items():
        if encoded_reference is None and name in NEEDS_REFERENCE:
            warnings.warn(f'Skipping the attack {name!r}: it needs a reference sample.')
            continue
        on_step(f'Attack: {ATTACK_LABELS.get(name, name)}')
        scores[name] = attack(encoded_candidates, encoded_synthetic, encoded_reference)

    if has_white_box(synthesizer):
        on_step('White-box attacks')
        try:
            scores.update({name: _orient(values, is_member) for name, values in
                           white_box_scores(synthesizer, candidates).items()})
        except Exception as error:  # noqa: BLE001 - keep the black-box results
            warnings.warn(f'The white-box attacks failed and were skipped: {error}')
    elif synthesizer is not None:
        warnings.warn(
            'The synthesizer offers no white-box scores (it needs get_white_box_scores and '
            'keep_training_state=True); only black-box attacks were run.'
        )
    if not scores:
        raise ValueError('No membership-inference attack could run.')
    return MembershipInferenceResult(scores=scores, is_member=is_member)
