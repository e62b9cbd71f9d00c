"""Run the membership-inference attacks and collect their scores, with their noise floor.

Two drivers share one result type (:class:`MembershipInferenceResult`):

- :func:`membership_inference_from_arrays` works on encoded float arrays (any
  modality: tables after :class:`TabularEncoder`, images after a feature map);
- :func:`run_membership_inference` is the table driver: it balances members
  and non-members, draws the noise-floor rows, fits one encoder shared by every
  attack, runs the black-box attacks of :mod:`attacks` and, when it is given a
  synthesizer, the white-box ones (``get_white_box_scores`` with its training
  state) and the model-access ones of :mod:`model_access`.

The noise floor: the same black-box attacks on the same candidates, with real
rows that are neither candidates nor members standing in for the synthetic
table. A synthesizer that leaks nothing looks like that; see :func:`floor_split`.
"""

import warnings

import numpy as np
import pandas as pd

from sdv_privgan.evaluation._inputs import sample_positions
from sdv_privgan.evaluation.attacks import (
    BLACK_BOX_ATTACKS,
    DRAWN_PREFIX,
    NEEDS_REFERENCE,
    attack_label,
)
from sdv_privgan.evaluation.encoding import TabularEncoder
from sdv_privgan.evaluation.metrics import attack_metrics
from sdv_privgan.evaluation.result import MembershipInferenceResult
from sdv_privgan.evaluation.uncertainty import MIN_CANDIDATES, require_candidates

__all__ = ['MembershipInferenceResult', 'floor_split', 'has_white_box',
           'membership_inference_from_arrays', 'run_membership_inference', 'white_box_scores']

#: Columns of ``get_white_box_scores`` and the attack names they become.
WHITE_BOX_COLUMNS = {'critic': 'white_box_critic', 'critic_contrast': 'white_box_contrast',
                     'elbo': 'white_box_elbo', 'classifier': 'white_box_classifier'}


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
    bound on such an attacker. The permutation test re-orients them under every
    shuffle of the labels, so the verdict does not count that choice as leakage.
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


def _black_box(attacks, candidates, synthetic, reference, on_step, prefix='', step=''):
    scores = {}
    for name, attack in attacks.items():
        if reference is None and name in NEEDS_REFERENCE:
            continue
        on_step(f'{step}{attack_label(name)}')
        scores[f'{prefix}{name}'] = attack(candidates, synthetic, reference)
    return scores


def floor_split(n_pool, n_synthetic, with_reference, seed=0):
    """Which rows of a pool of real non-members stand in for the synthetic data.

    The pool holds real rows that are neither members nor candidates (holdout
    rows left over after balancing, and the reference). The stand-in takes as
    many rows as the synthetic table has, but, when the attacks need a
    reference, at most half the pool, so that the floor's own reference (the
    rest) is disjoint from it and about as large.

    Returns:
        tuple: ``(stand_in, reference)`` position arrays into the pool (the
        second is None without a reference).
    """
    order = np.random.default_rng([seed, 1]).permutation(n_pool)
    size = min(n_synthetic, n_pool // 2 if with_reference else n_pool)
    stand_in = np.sort(order[:size])
    return stand_in, (np.sort(order[size:]) if with_reference else None)


def membership_inference_from_arrays(candidates, is_member, synthetic, reference=None, *,
                                     attacks=None, floor_synthetic=None, floor_reference=None,
                                     extra_scores=None, oriented=(), on_step=None, alpha=0.05,
                                     n_bootstrap=1000, n_permutations=1000, seed=0, info=None):
    """Run the black-box attacks on encoded arrays and return a :class:`MembershipInferenceResult`.

    Args:
        candidates (array): Encoded candidate rows (members and non-members), 2-D.
        is_member (array of bool): Their labels.
        synthetic (array): Encoded synthetic rows.
        reference (array or None): Encoded population rows that are not candidates;
            without it the attacks that need one are skipped.
        attacks (list, dict or None): As in :func:`run_membership_inference`.
        floor_synthetic, floor_reference (array or None): Real non-member rows standing
            in for ``synthetic`` and ``reference`` for the noise floor (disjoint from the
            candidates and from each other); no floor without ``floor_synthetic``.
        extra_scores (dict or None): Further attacks' scores, ``{name: scores}`` (e.g.
            white-box or model-access scores), one per candidate.
        oriented (iterable): Names in ``extra_scores`` whose direction the attacker is
            assumed to know (``max(AUC, 1 - AUC)``, see ``_orient``).
        on_step (callable or None): Called with a short description before each step.
        alpha (float): Level of the verdict's permutation test.
        n_bootstrap (int): Bootstrap replicates for the intervals (0: none).
        n_permutations (int): Label shuffles for the permutation test.
        seed (int): Seeds the bootstrap and the permutations.
        info (dict or None): Stored on the result (how the sets were drawn).
    """
    on_step = on_step or (lambda description: None)
    is_member = np.asarray(is_member, dtype=bool)
    require_candidates(int(is_member.sum()), int((~is_member).sum()))
    attacks = _resolve_attacks(attacks)
    if reference is None:
        skipped = sorted(set(attacks) & NEEDS_REFERENCE)
        if skipped:
            warnings.warn(f'Skipping the attacks {skipped}: they need a reference sample.')
    scores = _black_box(attacks, candidates, synthetic, reference, on_step, step='Attack: ')
    floor = {}
    if floor_synthetic is not None:
        floor = _black_box(attacks, candidates, floor_synthetic, floor_reference, on_step,
                           step='Noise floor: ')
    oriented = set(oriented)
    for name, values in (extra_scores or {}).items():
        values = np.asarray(values, dtype=float)
        if values.shape != is_member.shape:
            raise ValueError(f'The scores of {name!r} have shape {values.shape}; expected one '
                             f'per candidate ({len(is_member)}).')
        scores[name] = _orient(values, is_member) if name in oriented else values
    if not scores:
        raise ValueError('No membership-inference attack could run.')
    on_step('Intervals and permutation test')
    return MembershipInferenceResult(
        scores=scores, is_member=is_member, floor_scores=floor, oriented=tuple(oriented),
        alpha=alpha, n_bootstrap=n_bootstrap, n_permutations=n_permutations, seed=seed,
        info=dict(info or {}))


def _floor_tables(pool, n_synthetic, with_reference, seed):
    if len(pool) < MIN_CANDIDATES:
        warnings.warn(
            f'Only {len(pool)} real rows are neither members nor candidates, too few for a noise '
            'floor; pass real_reference_data (or more holdout rows than training rows) to '
            'measure one. The verdict is still calibrated; the score is then relative to 0.5.'
        )
        return None, None
    stand_in, reference = floor_split(len(pool), n_synthetic, with_reference, seed)
    return pool.iloc[stand_in], (pool.iloc[reference] if reference is not None else None)


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
    *,
    floor=True,
    rows_per_target=None,
    latent_attack=False,
    latent_options=None,
    alpha=0.05,
    n_bootstrap=1000,
    n_permutations=1000,
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
        synthesizer: Optional fitted synthesizer. With ``get_white_box_scores`` and
            ``keep_training_state=True`` its white-box attacks are added; it is also
            what ``rows_per_target`` and ``latent_attack`` attack.
        max_candidates (int or None): Most members (and as many non-members)
            attacked; members and non-members are always balanced.
        seed (int): Seeds the subsampling of candidates, the floor rows, the
            bootstrap, the permutations and the model-access attacks (the
            black-box attacks' own draws use a fixed seed).
        on_step (callable or None): Called with a short description before each step.
        floor (bool): Measure the noise floor (needs real rows outside the
            candidates: the reference, or holdout rows beyond the balanced set).
        rows_per_target (int or None): The attacker holding the saved model draws
            this many rows per member candidate with ``synthesizer.sample`` (in
            chunks) and runs the black-box attacks on them (``drawn_*`` attacks).
        latent_attack (bool or GeneratorAccess): Add the latent-reconstruction attack
            (True needs a synthesizer
            :func:`~sdv_privgan.evaluation.model_access.generator_access` knows: SDV's
            CTGAN and TVAE, or one with ``get_generator_access``; a ``GeneratorAccess``
            already built for it is used as given).
        latent_options (dict or None): Keyword arguments of
            :func:`~sdv_privgan.evaluation.model_access.latent_reconstruction_scores`.
        alpha (float): Level of the verdict.
        n_bootstrap (int): Bootstrap replicates of the intervals (0: none).
        n_permutations (int): Label shuffles of the permutation test.
    """
    rng = np.random.default_rng(seed)
    on_step = on_step or (lambda description: None)
    n_candidates = min(len(members), len(non_members))
    if max_candidates is not None:
        n_candidates = min(n_candidates, int(max_candidates))
    require_candidates(len(members), len(non_members))
    if n_candidates < MIN_CANDIDATES:
        raise ValueError(f'max_candidates must be at least {MIN_CANDIDATES}; got {max_candidates}.')
    members = members.iloc[sample_positions(len(members), n_candidates, rng)]
    chosen = np.zeros(len(non_members), bool)
    chosen[sample_positions(len(non_members), n_candidates, rng)] = True
    leftover, non_members = non_members.iloc[~chosen], non_members.iloc[chosen]
    candidates = pd.concat([members, non_members], ignore_index=True)
    is_member = np.r_[np.ones(n_candidates, bool), np.zeros(n_candidates, bool)]

    on_step('Encoding rows for the attacks')
    # Fit on every real row available, without the membership labels: the
    # encoding then covers their categories and cannot leak who is a member.
    real_rows = [candidates] + ([reference] if reference is not None else [])
    encoder = TabularEncoder(metadata).fit(pd.concat(real_rows, ignore_index=True))
    encode = (lambda table: None if table is None else encoder.transform(table))
    info = {'n_floor_rows': 0, 'n_floor_reference_rows': 0}
    floor_synthetic = floor_reference = None
    if floor:
        pool = pd.concat([leftover] + ([reference] if reference is not None else []),
                         ignore_index=True)
        floor_synthetic, floor_reference = _floor_tables(pool, len(synthetic),
                                                         reference is not None, seed)
        info['n_floor_rows'] = 0 if floor_synthetic is None else len(floor_synthetic)
        info['n_floor_reference_rows'] = 0 if floor_reference is None else len(floor_reference)

    extra, oriented = {}, set()
    resolved = _resolve_attacks(attacks)
    encoded_candidates, encoded_reference = encode(candidates), encode(reference)
    if rows_per_target:
        from sdv_privgan.evaluation.model_access import draw_rows

        n_draw = int(rows_per_target) * n_candidates
        on_step(f'Drawing {n_draw:,} rows from the model')
        drawn = draw_rows(synthesizer, n_draw, columns=list(candidates.columns))
        info.update(rows_per_target=int(rows_per_target), n_drawn_rows=len(drawn))
        extra.update(_black_box(resolved, encoded_candidates, encode(drawn), encoded_reference,
                                on_step, prefix=DRAWN_PREFIX, step='Drawn rows: '))
    if has_white_box(synthesizer):
        on_step('White-box attacks')
        try:
            white = white_box_scores(synthesizer, candidates)
            extra.update(white)
            oriented.update(white)
        except Exception as error:  # noqa: BLE001 - keep the black-box results
            warnings.warn(f'The white-box attacks failed and were skipped: {error}')
    elif synthesizer is not None and not (rows_per_target or latent_attack):
        warnings.warn(
            'The synthesizer offers no white-box scores (it needs get_white_box_scores and '
            'keep_training_state=True); only black-box attacks were run.'
        )
    if latent_attack:
        from sdv_privgan.evaluation.model_access import (
            GeneratorAccess, generator_access, latent_attack_scores)

        on_step('Latent reconstruction')
        if not isinstance(latent_attack, GeneratorAccess):
            latent_attack = generator_access(synthesizer)
        extra.update(latent_attack_scores(latent_attack, candidates, reference,
                                          seed=seed, **(latent_options or {})))
    return membership_inference_from_arrays(
        encoded_candidates, is_member, encode(synthetic), encoded_reference, attacks=resolved,
        floor_synthetic=encode(floor_synthetic), floor_reference=encode(floor_reference),
        extra_scores=extra, oriented=oriented, on_step=on_step, alpha=alpha,
        n_bootstrap=n_bootstrap, n_permutations=n_permutations, seed=seed, info=info)
