"""The shadow-model attacker: fits with and without each target, likelihood-ratio scores.

The strongest known attack on outliers (TAPAS, Houssiau et al. 2022; the
likelihood-ratio attack, LiRA, of Carlini et al. 2022). The attacker knows the
training recipe (a synthesizer factory) and has population rows (the
reference). For a few targets it fits ``2 * n_shadow`` shadow synthesizers on
reference rows, each target inserted into half of them at random (so every
target is *in* ``n_shadow`` fits and *out* of as many, and each fit serves all
targets), and measures a statistic of each target on every shadow model's
synthetic rows (by default minus the log distance to the closest synthetic
row). Per target, Gaussians fitted to the *in* and *out* statistics give the
log-likelihood ratio ``log N(s; in) - log N(s; out)``.

How strong the attack is, is measured on the shadow fits themselves: each fit
in turn plays the target model, scored with Gaussians fitted on the other fits
(leave one fit out), which gives ``2 * n_shadow * n_targets`` labelled
(fit, target) pairs for the AUC and the TPR at low FPR. When the user's
synthetic table is given, each target also gets its likelihood ratio there.

Each fit's statistics are cached as one file in ``cache_folder``; an
interrupted run given the same folder continues where it stopped.
"""

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import tqdm

from sdv_privgan.evaluation._inputs import resolve_metadata
from sdv_privgan.evaluation.attacks import nearest_distances
from sdv_privgan.evaluation.encoding import TabularEncoder
from sdv_privgan.evaluation.metrics import attack_metrics
from sdv_privgan.evaluation.uncertainty import bootstrap_intervals
from sdv_privgan.game import seeded

_TINY = 1e-8


@dataclass
class ShadowAttackResult:
    """What the shadow-model attack found.

    Attributes:
        targets (pandas.DataFrame): One row per target: ``Target`` (its index label),
            ``Member`` (of the user's training set), ``Outlier distance``, the *in*
            and *out* means and standard deviations of the statistic, and
            ``LiRA score`` on the user's synthetic data (NaN when not given).
        statistics, included, scores (numpy.ndarray): ``(n_fits, n_targets)``: the
            statistic on each shadow fit, whether the target was in that fit, and
            the leave-one-fit-out likelihood ratio.
        metrics (dict): AUC and TPR at 1 % / 0.1 % FPR over the (fit, target) pairs,
            with bootstrap intervals (``_low`` / ``_high``).
        seconds_per_fit (float): Mean wall-clock seconds of one fit and its sample
            (over the fits run in this call; NaN when all came from the cache).
    """

    targets: pd.DataFrame
    statistics: np.ndarray
    included: np.ndarray
    scores: np.ndarray
    metrics: dict = field(default_factory=dict)
    seconds_per_fit: float = float('nan')

    @property
    def n_fits(self):
        return len(self.included)

    @property
    def seconds_per_target(self):
        """Fit time divided among the targets (every fit serves all of them)."""
        return self.seconds_per_fit * self.n_fits / max(len(self.targets), 1)


def _gaussian_log_ratio(values, mean_in, std_in, mean_out, std_out):
    def log_normal(x, mean, std):
        return -0.5 * ((x - mean) / std) ** 2 - np.log(std)

    return log_normal(values, mean_in, std_in) - log_normal(values, mean_out, std_out)


def _moments(statistics, mask):
    count = mask.sum(axis=0)
    mean = (statistics * mask).sum(axis=0) / count
    variance = (((statistics - mean) ** 2) * mask).sum(axis=0) / np.maximum(count - 1, 1)
    return mean, np.sqrt(np.maximum(variance, _TINY))


def _leave_one_fit_out(statistics, included):
    """LiRA score of every (fit, target) with Gaussians fitted on the other fits."""
    scores = np.empty_like(statistics)
    for fit in range(len(statistics)):
        others = np.arange(len(statistics)) != fit
        mean_in, std_in = _moments(statistics[others], included[others])
        mean_out, std_out = _moments(statistics[others], ~included[others])
        scores[fit] = _gaussian_log_ratio(statistics[fit], mean_in, std_in, mean_out, std_out)
    return scores


def _log_distance_statistic(targets, synthetic):
    return -np.log(nearest_distances(targets, synthetic)[:, 0].astype(float) + _TINY)


def _choose_targets(members, non_members, reference, encoder, n_targets):
    """The most outlying members and non-members (half each), by nearest-neighbour distance."""
    pool = encoder.transform(pd.concat([members, non_members, reference], ignore_index=True))
    # The second neighbour: the first is the row itself.
    distance = nearest_distances(pool[:len(members) + len(non_members)], pool, 2)[:, -1]
    n_members = min(n_targets // 2 + n_targets % 2, len(members))
    n_others = min(n_targets - n_members, len(non_members))
    member_pick = np.argsort(-distance[:len(members)], kind='stable')[:n_members]
    other_pick = np.argsort(-distance[len(members):], kind='stable')[:n_others]
    targets = pd.concat([members.iloc[member_pick], non_members.iloc[other_pick]])
    is_member = np.r_[np.ones(n_members, bool), np.zeros(n_others, bool)]
    outlier = np.r_[distance[member_pick], distance[len(members) + other_pick]]
    return targets, is_member, outlier


def _named_targets(members, non_members, labels):
    labels = list(labels)
    in_members = [label in members.index for label in labels]
    in_others = [label in non_members.index for label in labels]
    unknown = [label for label, a, b in zip(labels, in_members, in_others) if not (a or b)]
    if unknown:
        raise ValueError(f'targets {unknown} are neither in the members nor in the non-members.')
    rows = [members.loc[[label]] if a else non_members.loc[[label]]
            for label, a in zip(labels, in_members)]
    return pd.concat(rows), np.array(in_members, bool)


class _Cache:
    """One ``.npz`` per fit in ``folder``, guarded by a ``config.json`` of the run."""

    def __init__(self, folder, config):
        self.folder = None if folder is None else Path(folder)
        if self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / 'config.json'
        if path.exists():
            saved = json.loads(path.read_text())
            if saved != config:
                raise ValueError(
                    f'cache_folder {str(self.folder)!r} holds fits of another shadow-model run '
                    '(other targets, data or settings); give an empty folder.')
        else:
            path.write_text(json.dumps(config, indent=1))

    def load(self, fit):
        if self.folder is not None and (self.folder / f'fit_{fit:04d}.npz').exists():
            return np.load(self.folder / f'fit_{fit:04d}.npz')['statistic']
        return None

    def save(self, fit, statistic):
        if self.folder is not None:
            np.savez(self.folder / f'fit_{fit:04d}.npz', statistic=statistic)


def _table_name(synthesizer, default):
    """The name an SDV synthesizer's metadata gives its one table (``fit`` needs it)."""
    tables = getattr(getattr(synthesizer, 'metadata', None), 'tables', None)
    if isinstance(tables, dict) and len(tables) == 1:
        return next(iter(tables))
    return default


def _fingerprint(*arrays):
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.ascontiguousarray(array, dtype=np.float32).tobytes())
    return digest.hexdigest()[:16]


def run_shadow_attack(members, non_members, reference, metadata, synthesizer_factory, *,
                      synthetic=None, targets=None, n_targets=20, n_shadow=8,
                      n_train_rows=None, n_synthetic_rows=None, cache_folder=None,
                      n_bootstrap=1000, seed=0, verbose=True):
    """Fit shadow synthesizers with and without each target and score the targets by LiRA.

    Args:
        members, non_members (pandas.DataFrame): The user's training rows and holdout;
            targets are drawn from both, so each target's true status is known.
        reference (pandas.DataFrame): Population rows the shadow models are fitted on
            (never a target, never a member).
        metadata: ``sdv.metadata.Metadata`` or dict (for the encoding and the table name).
        synthesizer_factory (callable): ``synthesizer_factory()`` returns a new, unfitted
            SDV synthesizer (fitted with ``fit({table_name: rows})``, sampled with
            ``sample(n)``), trained the way the attacked one was.
        synthetic (pandas.DataFrame or None): The user's synthetic rows; each target
            then gets its likelihood ratio on them.
        targets (list or None): Index labels of rows of ``members`` / ``non_members``;
            default: the ``n_targets`` most outlying candidates (half members, half
            not), by the distance to their nearest other real row in the attacks' encoding.
        n_targets (int): Targets to choose when ``targets`` is None.
        n_shadow (int): Fits *with* each target (as many without it): ``2 * n_shadow``
            fits in all, shared by all targets. At least 3.
        n_train_rows (int or None): Reference rows per shadow fit (plus the targets
            inserted there); default ``len(members)``, at most ``len(reference)``.
        n_synthetic_rows (int or None): Rows each shadow model samples; default
            ``len(synthetic)`` or ``len(members)``.
        cache_folder (str or Path or None): Where each fit's statistics are kept.
        n_bootstrap (int): Bootstrap replicates of the intervals.
        seed (int): Seeds the inclusion design and the base rows of every fit.
        verbose (bool): Show a progress bar over the fits.

    Returns:
        ShadowAttackResult
    """
    if int(n_shadow) != n_shadow or n_shadow < 3:
        raise ValueError(f'n_shadow must be an integer of at least 3; got {n_shadow!r}.')
    if not callable(synthesizer_factory):
        raise TypeError('synthesizer_factory must be a callable returning an unfitted synthesizer.')
    table_name, table_dict = resolve_metadata(metadata)
    encoder = TabularEncoder({'columns': table_dict.get('columns', {})})
    encoder.fit(pd.concat([members, non_members, reference], ignore_index=True))
    if targets is None:
        target_rows, is_member, outlier = _choose_targets(
            members, non_members, reference, encoder, int(n_targets))
    else:
        target_rows, is_member = _named_targets(members, non_members, targets)
        outlier = np.full(len(target_rows), np.nan)
    n_fits, n_target = 2 * int(n_shadow), len(target_rows)
    if n_target == 0:
        raise ValueError('The shadow-model attack needs at least one target.')
    n_train = min(int(n_train_rows or len(members)), len(reference))
    n_sample = int(n_synthetic_rows or (len(synthetic) if synthetic is not None else len(members)))
    rng = np.random.default_rng([seed, 7])
    included = np.stack([rng.permutation(np.r_[np.ones(n_shadow, bool), np.zeros(n_shadow, bool)])
                         for _ in range(n_target)], axis=1)
    bases = [np.sort(rng.choice(len(reference), n_train, replace=False)) for _ in range(n_fits)]
    encoded_targets = encoder.transform(target_rows)
    config = {'targets': [str(label) for label in target_rows.index], 'n_shadow': int(n_shadow),
              'n_train_rows': n_train, 'n_synthetic_rows': n_sample, 'seed': int(seed),
              'data': _fingerprint(encoded_targets, encoder.transform(reference))}
    cache = _Cache(cache_folder, config)

    statistics = np.empty((n_fits, n_target))
    timings = []
    for fit in tqdm.tqdm(range(n_fits), disable=not verbose, desc='Shadow-model fits'):
        cached = cache.load(fit)
        if cached is not None:
            statistics[fit] = cached
            continue
        started = time.perf_counter()
        training = pd.concat([reference.iloc[bases[fit]],
                              target_rows.iloc[np.flatnonzero(included[fit])]], ignore_index=True)
        with seeded(seed * 100_003 + fit):  # SDV's fit is unseeded
            synthesizer = synthesizer_factory()
            synthesizer.fit({_table_name(synthesizer, table_name): training})
            sampled = synthesizer.sample(n_sample)
        sampled = next(iter(sampled.values())) if isinstance(sampled, dict) else sampled
        statistics[fit] = _log_distance_statistic(encoded_targets,
                                                  encoder.transform(sampled[training.columns]))
        timings.append(time.perf_counter() - started)
        cache.save(fit, statistics[fit])

    scores = _leave_one_fit_out(statistics, included)
    labels = included.ravel()
    metrics = attack_metrics(scores.ravel(), labels)
    if n_bootstrap:
        metrics.update(bootstrap_intervals({'shadow': scores.ravel()}, labels, n_bootstrap,
                                           seed=seed)['shadow'])
    mean_in, std_in = _moments(statistics, included)
    mean_out, std_out = _moments(statistics, ~included)
    user = np.full(n_target, np.nan)
    if synthetic is not None:
        observed = _log_distance_statistic(encoded_targets, encoder.transform(synthetic))
        user = _gaussian_log_ratio(observed, mean_in, std_in, mean_out, std_out)
    frame = pd.DataFrame({'Target': target_rows.index, 'Member': is_member,
                          'Outlier distance': outlier, 'Mean in': mean_in, 'Std in': std_in,
                          'Mean out': mean_out, 'Std out': std_out, 'LiRA score': user})
    return ShadowAttackResult(targets=frame, statistics=statistics, included=included,
                              scores=scores, metrics=metrics,
                              seconds_per_fit=float(np.mean(timings)) if timings else np.nan)
