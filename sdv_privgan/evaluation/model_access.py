"""Attacks by someone who holds the saved model file, and the protocol models expose for them.

The file a user shares holds the generator (GANs) or the decoder (VAEs). Its holder can

- draw as many rows as they like and run the black-box attacks on them
  (:func:`draw_rows`, used by ``run_membership_inference(rows_per_target=...)``);
- reconstruct each target by optimising the model's latent input, GAN-Leaks'
  partial black-box attack (Chen et al., CCS 2020): a row the model was trained
  on is reproduced more closely than a row it never saw
  (:func:`latent_reconstruction_scores`).

A model takes part through :class:`GeneratorAccess`; SDV's own CTGAN and TVAE
have adapters in :mod:`sdv_privgan.evaluation.sdv_access`, and any synthesizer
with a ``get_generator_access()`` method returning one plugs in the same way.
"""

import abc

import numpy as np
import pandas as pd
import torch
import tqdm

from sdv_privgan.evaluation.attacks import nearest_distances


class GeneratorAccess(abc.ABC):
    """What a latent-optimisation attack needs from a released generator or decoder.

    An implementation wraps a *fitted* model and is read-only: it must not change
    the model (keep a frozen copy, or set nothing on the original), hold no
    training rows, and keep every tensor it takes or returns on ``device``.

    Attributes:
        n_components (int): K, the generator components evaluated in one call
            (1 for SDV's models; K for a model of K components, each target then
            scored by the component that reconstructs it best).
        latent_dim (int): Size of each component's latent input.
        device (torch.device): Where :meth:`generate` runs.
        prior_weight (float): Weight of ``0.5 * ||z||^2`` added to the loss during
            the optimisation and in the score (1.0 turns a negative log-likelihood
            into a MAP objective; a small value keeps a distance from drifting to
            latent points the model never samples).
        loss_is_squared_distance (bool): Whether :meth:`loss` is a squared Euclidean
            distance in the space of :meth:`encode`; only then can the squared
            distance to the nearest reference row calibrate it.

    Shapes: ``n`` targets, ``m`` rows of one optimisation batch (targets repeated
    over conditions and restarts), ``d`` the width of :meth:`encode`'s space, ``c``
    the width of a conditional vector (0 for an unconditional model).
    """

    n_components = 1
    latent_dim = None
    device = torch.device('cpu')
    prior_weight = 0.0
    loss_is_squared_distance = False

    @abc.abstractmethod
    def encode(self, data: pd.DataFrame) -> torch.Tensor:
        """Target rows (the user's columns, as passed to ``fit``) -> float tensor ``(n, d)``.

        Rows the model cannot represent (an unseen category) must still encode;
        :meth:`loss` then gives them a high loss.
        """

    @abc.abstractmethod
    def conditions(self, targets: torch.Tensor) -> torch.Tensor:
        """The conditional vectors each target satisfies: ``(n, C, c)``, ``C >= 1``.

        The attack optimises every (target, condition) pair and keeps the best,
        so a conditional GAN lists one vector per discrete column (the target's
        category there, as in training); an unconditional model returns
        ``(n, 1, 0)``.
        """

    @abc.abstractmethod
    def generate(self, z: torch.Tensor, conditions: torch.Tensor):
        """Differentiable output of every component for latent ``z`` ``(K, m, latent_dim)``.

        ``conditions`` is ``(m, c)``, one vector per row, shared by the K
        components. The output (any tensor or structure) goes to :meth:`loss`;
        gradients must flow from it to ``z``. The model's own parameters need no
        gradient.
        """

    @abc.abstractmethod
    def loss(self, output, targets: torch.Tensor) -> torch.Tensor:
        """How badly each component's output reconstructs each target: ``(K, m)``, lower = closer.

        ``targets`` is ``(m, d)`` from :meth:`encode`, row ``i`` paired with row
        ``i`` of the output.
        """


def generator_access(synthesizer):
    """The :class:`GeneratorAccess` of a fitted synthesizer.

    A synthesizer that defines ``get_generator_access()`` provides its own; SDV's
    ``CTGANSynthesizer`` and ``TVAESynthesizer`` get the adapters of
    :mod:`sdv_privgan.evaluation.sdv_access`. Anything else raises a TypeError.
    """
    if synthesizer is None:
        raise ValueError('The latent attack needs the fitted synthesizer (synthesizer=...).')
    provided = getattr(synthesizer, 'get_generator_access', None)
    if callable(provided):
        access = provided()
        if not isinstance(access, GeneratorAccess):
            raise TypeError('get_generator_access() must return a GeneratorAccess; got '
                            f'{type(access).__name__}.')
        return access
    from sdv_privgan.evaluation.sdv_access import sdv_generator_access

    return sdv_generator_access(synthesizer)


def draw_rows(synthesizer, n_rows, columns=None, chunk_size=10_000, verbose=False):
    """``n_rows`` rows from ``synthesizer.sample``, drawn in chunks, as one DataFrame.

    Accepts SDV 2.0's ``{table: DataFrame}`` return value as well as a DataFrame;
    ``columns`` (the candidates' columns) selects and orders them.
    """
    if synthesizer is None or not callable(getattr(synthesizer, 'sample', None)):
        raise ValueError('Drawing rows from the model needs a fitted synthesizer with sample().')
    if int(n_rows) < 1:
        raise ValueError(f'n_rows must be a positive integer; got {n_rows!r}.')
    chunks, remaining = [], int(n_rows)
    with tqdm.tqdm(total=remaining, disable=not verbose, desc='Drawing rows') as progress:
        while remaining > 0:
            rows = synthesizer.sample(min(chunk_size, remaining))
            if isinstance(rows, dict):
                if len(rows) != 1:
                    raise ValueError('The synthesizer returned several tables; '
                                     'draw_rows needs one.')
                rows = next(iter(rows.values()))
            if len(rows) == 0:
                raise ValueError('The synthesizer returned no rows.')
            chunks.append(rows)
            remaining -= len(rows)
            progress.update(len(rows))
    drawn = pd.concat(chunks, ignore_index=True).iloc[:int(n_rows)]
    if columns is not None:
        missing = [column for column in columns if column not in drawn.columns]
        if missing:
            raise ValueError(f'The rows drawn from the synthesizer lack the columns {missing}.')
        drawn = drawn[list(columns)]
    return drawn


def _optimise_chunk(access, targets, conditions, n_restarts, n_steps, lr, generator):
    """Best objective per target of one chunk: ``min`` over components, conditions, restarts."""
    n_targets, n_conditions = conditions.shape[:2]
    repeats = n_conditions * n_restarts
    rows = targets.repeat_interleave(repeats, dim=0)
    row_conditions = conditions.repeat_interleave(n_restarts, dim=1).flatten(0, 1)
    k = access.n_components
    z = torch.randn(k, len(rows), access.latent_dim, generator=generator).to(access.device)
    z.requires_grad_(True)
    optimizer = torch.optim.Adam([z], lr=lr)
    best = torch.full((k, len(rows)), float('inf'), device=access.device)
    for _ in range(n_steps + 1):
        objective = access.loss(access.generate(z, row_conditions), rows)
        objective = objective + access.prior_weight * 0.5 * (z**2).sum(dim=-1)
        best = torch.minimum(best, objective.detach())
        optimizer.zero_grad(set_to_none=True)
        objective.sum().backward()
        optimizer.step()
    return best.reshape(k, n_targets, repeats).amin(dim=(0, 2))


def latent_reconstruction_scores(access, targets, *, n_restarts=4, n_steps=200, lr=0.05,
                                 max_batch_rows=8192, seed=0, verbose=False):
    """GAN-Leaks partial black-box: minus the best reconstruction loss of each target row.

    For every target, every conditional vector it satisfies and ``n_restarts``
    starting points drawn from N(0, I), Adam minimises ``access.loss`` (plus
    ``access.prior_weight * ||z||^2 / 2``) over the latent input of every
    component at once; the score is minus the lowest objective reached. All
    targets of a batch are optimised together on the model's device.

    Args:
        access (GeneratorAccess): The model.
        targets (pandas.DataFrame): Rows to score (the user's columns).
        n_restarts (int): Starting points per (target, condition).
        n_steps (int): Adam steps.
        lr (float): Adam's learning rate on z.
        max_batch_rows (int): Most (target, condition, restart) rows per batch.
        seed (int): Seeds the starting points.
        verbose (bool): Show a progress bar over the batches.

    Returns:
        numpy.ndarray: One score per target, higher = better reconstructed.
    """
    for name, value in (('n_restarts', n_restarts), ('n_steps', n_steps),
                        ('max_batch_rows', max_batch_rows)):
        if int(value) != value or value < 1:
            raise ValueError(f'{name} must be a positive integer; got {value!r}.')
    encoded = access.encode(targets)
    conditions = access.conditions(encoded)
    per_batch = max(1, int(max_batch_rows) // (conditions.shape[1] * n_restarts))
    generator = torch.Generator().manual_seed(seed)
    best = []
    starts = range(0, len(encoded), per_batch)
    with torch.enable_grad():
        for start in tqdm.tqdm(starts, disable=not verbose, desc='Latent reconstruction'):
            part = slice(start, start + per_batch)
            best.append(_optimise_chunk(access, encoded[part], conditions[part], n_restarts,
                                        n_steps, lr, generator).cpu())
    scores = -torch.cat(best).double().numpy()
    if not np.isfinite(scores).all():
        raise ValueError('The latent reconstruction gave non-finite losses; check the model.')
    return scores


def latent_attack_scores(access, candidates, reference=None, seed=0, calibrate=False, **options):
    """The latent attacks as ``{attack: scores}``: plain, and with ``calibrate`` calibrated.

    The calibrated score is the log of the squared distance from the target to
    its nearest reference row minus the log of its reconstruction loss (only for
    an ``access`` whose loss is a squared distance in its encoding): a row the
    model reconstructs well only because it is typical is also close to some
    reference row.
    """
    scores = {'latent_reconstruction': latent_reconstruction_scores(
        access, candidates, seed=seed, **options)}
    if calibrate and reference is not None and access.loss_is_squared_distance:
        to_reference = nearest_distances(access.encode(candidates).cpu().numpy(),
                                         access.encode(reference).cpu().numpy())[:, 0]
        # A ratio, not a difference: the two distances differ in scale by orders of
        # magnitude on a memorising model, and a difference would be all reference.
        tiny = 1e-6
        scores['latent_reconstruction_calibrated'] = (
            np.log(to_reference.astype(float) ** 2 + tiny)
            - np.log(np.maximum(-scores['latent_reconstruction'], 0.0) + tiny))
    return scores
