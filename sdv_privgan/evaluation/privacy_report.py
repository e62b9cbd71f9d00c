"""PrivacyReport: membership-inference attacks plus SDMetrics' own privacy metrics.

The membership-inference property is ours (SDMetrics has no attack with a
member / non-member ROC); the other four are SDMetrics' metrics, called as they
are, on subsamples drawn here with a seeded generator so that a report is
reproducible and its cost bounded (SDMetrics' DCR is a pandas cross join:
quadratic in the rows it is given).
"""

import contextlib

import numpy as np
import pandas as pd
from sdmetrics.single_table import (
    DCRBaselineProtection,
    DCROverfittingProtection,
    DisclosureProtection,
    NewRowSynthesis,
)

from sdv_privgan.evaluation import plots
from sdv_privgan.evaluation._inputs import aligned, check_table, resolve_metadata, sample_rows
from sdv_privgan.evaluation._report_base import BaseEvaluationReport
from sdv_privgan.evaluation.membership import has_white_box, run_membership_inference
from sdv_privgan.evaluation.model_access import generator_access
from sdv_privgan.evaluation.result import membership_details
from sdv_privgan.evaluation.shadow import run_shadow_attack
from sdv_privgan.evaluation.uncertainty import require_candidates

MEMBERSHIP_INFERENCE = 'Membership Inference'
DCR_OVERFITTING = 'DCR Overfitting Protection'
DCR_BASELINE = 'DCR Baseline Protection'
DISCLOSURE = 'Disclosure Protection'
NEW_ROWS = 'New Row Synthesis'


def _flatten(breakdown, prefix=''):
    """SDMetrics' nested breakdown dict as flat ``{'a.b': value}`` columns."""
    flat = {}
    for key, value in breakdown.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f'{prefix}{key}.'))
        else:
            flat[f'{prefix}{key}'] = value
    return flat


@contextlib.contextmanager
def _numpy_global_seed(seed):
    """Seed numpy's global generator for one SDMetrics call, then restore it.

    DCRBaselineProtection draws the NaN pattern of its random baseline with
    ``np.random.rand``; without this the same report differs run to run.
    """
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def _check_positive(name, value):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f'{name} must be a positive integer; got {value!r}.')


class PrivacyReport(BaseEvaluationReport):
    """How much a synthetic table reveals about the rows it was trained on.

    Properties (each scored 0..1, higher = more private):

    - ``Membership Inference``: ``1 - max(AUC - floor, 0) / (1 - floor)`` for the
      strongest of the attacks (distance to closest record, calibrated, DOMIAS,
      classifier density ratio, Monte-Carlo ball count; the white-box critic and
      component classifier when a synthesizer with its training state is given;
      the model-access attacks when asked for), where the floor is the largest
      AUC the same attacks reach with real non-member rows in place of the
      synthetic data. :meth:`get_membership_verdict` says whether the maximum is
      significant (a permutation test, corrected for the number of attacks).
    - ``DCR Overfitting Protection``, ``DCR Baseline Protection``,
      ``New Row Synthesis``, ``Disclosure Protection``: SDMetrics' metrics.

    Args:
        attacks (list or dict or None): Black-box attacks to run (names from
            ``sdv_privgan.evaluation.BLACK_BOX_ATTACKS`` or ``{name: callable}``); default all.
        max_candidates (int): Most members (and as many non-members) attacked.
        dcr_subsample (int): Rows of each table handed to the SDMetrics DCR metrics.
        new_row_sample_size (int): Synthetic rows checked by NewRowSynthesis.
        disclosure_subsample (int): Rows of each table for DisclosureProtection.
        seed (int): Seeds every subsample, the bootstrap and the permutations (the
            attacks' own draws use a fixed seed).
        alpha (float): Level of the membership verdict.
        n_bootstrap (int): Bootstrap replicates of the intervals.
        n_permutations (int): Label shuffles of the verdict's permutation test.
    """

    PROPERTIES = (MEMBERSHIP_INFERENCE, DCR_OVERFITTING, DCR_BASELINE, DISCLOSURE, NEW_ROWS)

    def __init__(self, attacks=None, max_candidates=5000, dcr_subsample=1000,
                 new_row_sample_size=500, disclosure_subsample=5000, seed=0, *, alpha=0.05,
                 n_bootstrap=1000, n_permutations=1000):
        super().__init__()
        for name, value in (('max_candidates', max_candidates), ('dcr_subsample', dcr_subsample),
                            ('new_row_sample_size', new_row_sample_size),
                            ('disclosure_subsample', disclosure_subsample),
                            ('n_permutations', n_permutations)):
            _check_positive(name, value)
        if not isinstance(n_bootstrap, (int, np.integer)) or n_bootstrap < 0:
            raise ValueError(f'n_bootstrap must be a non-negative integer; got {n_bootstrap!r}.')
        if not 0 < alpha < 1:
            raise ValueError(f'alpha must be strictly between 0 and 1; got {alpha!r}.')
        self.alpha = alpha
        self.n_bootstrap = n_bootstrap
        self.n_permutations = n_permutations
        self.attacks = attacks
        self.max_candidates = max_candidates
        self.dcr_subsample = dcr_subsample
        self.new_row_sample_size = new_row_sample_size
        self.disclosure_subsample = disclosure_subsample
        self.seed = seed
        self._membership = None

    def generate(self, real_training_data, synthetic_data, metadata, real_holdout_data=None,
                 synthesizer=None, real_reference_data=None, known_column_names=None,
                 sensitive_column_names=None, table_name=None, verbose=True, *,
                 rows_per_target=None, latent_attack=False, latent_options=None,
                 shadow_synthesizer_factory=None, shadow_options=None):
        """Attack the synthetic data and compute SDMetrics' privacy metrics.

        Args:
            real_training_data (pandas.DataFrame): The rows the synthesizer was fitted on.
            synthetic_data (pandas.DataFrame): Rows it sampled.
            metadata (sdv.metadata.Metadata or dict): Describes the table.
            real_holdout_data (pandas.DataFrame): Rows of the same population that
                it never saw. Needed for membership inference and DCR overfitting
                (skipped without it).
            synthesizer: The fitted synthesizer, for the white-box attacks when it
                was trained with ``keep_training_state=True``; otherwise ignored.
            real_reference_data (pandas.DataFrame or None): A further sample of the
                population for the calibrated attacks (see ``split_for_evaluation``).
                Without it the holdout is cut in half: non-members and reference.
            known_column_names, sensitive_column_names (list[str] or None): For
                DisclosureProtection, skipped unless both are given.
            table_name (str or None): Which table of a multi-table metadata.
            verbose (bool): Show a progress bar and print the scores.
            rows_per_target (int or None): The attacker holding the saved model: draw
                this many rows per member candidate from ``synthesizer`` and run the
                black-box attacks on them too (``drawn_*`` attacks). Off by default.
            latent_attack (bool): Add the latent-reconstruction attack on the saved
                generator or decoder (SDV's CTGAN and TVAE, or a synthesizer with
                ``get_generator_access``). Off by default.
            latent_options (dict or None): Options of
                ``model_access.latent_reconstruction_scores`` (``n_steps``, ...).
            shadow_synthesizer_factory (callable or None): Turns on the shadow-model
                attack: a callable returning an unfitted synthesizer trained like
                this one; its fits run on the reference rows (see ``shadow.py``).
            shadow_options (dict or None): Options of ``shadow.run_shadow_attack``
                (``n_targets``, ``n_shadow``, ``cache_folder``, ...).
        """
        if rows_per_target is not None:
            _check_positive('rows_per_target', rows_per_target)
        if (rows_per_target or latent_attack) and synthesizer is None:
            raise ValueError('rows_per_target and latent_attack attack the saved model: '
                             'pass the fitted synthesizer too.')
        # Built once, here: an unsupported model fails before any work.
        access = generator_access(synthesizer) if latent_attack else False
        model_access = {'rows_per_target': rows_per_target, 'latent_attack': access,
                        'latent_options': {'verbose': verbose, **(latent_options or {})}}
        shadow = None
        if shadow_synthesizer_factory is not None:
            shadow = {'synthesizer_factory': shadow_synthesizer_factory, **(shadow_options or {})}
        table_name, table_dict = resolve_metadata(metadata, table_name)
        training = check_table(real_training_data, 'real_training_data', table_dict)
        columns = list(table_dict.get('columns', training.columns))
        extra = [column for column in training.columns if column not in set(columns)]
        if extra:
            raise ValueError(f'real_training_data has columns {extra} that the metadata lacks.')
        synthetic = check_table(synthetic_data, 'synthetic_data', table_dict, columns)
        tables = {'train': aligned(training, columns), 'synthetic': aligned(synthetic, columns)}
        for key, data, argument in (('holdout', real_holdout_data, 'real_holdout_data'),
                                    ('reference', real_reference_data, 'real_reference_data')):
            if data is not None:
                tables[key] = aligned(check_table(data, argument, table_dict, columns), columns)
        disclosure_columns = self._check_disclosure_columns(
            known_column_names, sensitive_column_names, columns)

        rng = np.random.default_rng(self.seed)
        progress = self._start(len(self.PROPERTIES), verbose, 'Generating privacy report')
        if 'holdout' in tables:
            self._run_property(MEMBERSHIP_INFERENCE, progress, lambda: self._membership_property(
                tables, table_dict, synthesizer, progress, model_access, shadow, verbose))
            self._run_property(DCR_OVERFITTING, progress, lambda: self._dcr_overfitting(
                tables, table_dict, table_name, rng))
        else:
            for name in (MEMBERSHIP_INFERENCE, DCR_OVERFITTING):
                self._skip_property(name, progress, 'Needs real_holdout_data.')
        self._run_property(DCR_BASELINE, progress, lambda: self._dcr_baseline(
            tables, table_dict, table_name, rng))
        if disclosure_columns:
            self._run_property(DISCLOSURE, progress, lambda: self._disclosure(
                tables, table_dict, *disclosure_columns, rng))
        else:
            self._skip_property(DISCLOSURE, progress,
                                'Needs known_column_names and sensitive_column_names.')
        self._run_property(NEW_ROWS, progress, lambda: self._new_rows(
            tables, table_dict, table_name, rng))
        self._finish(
            progress, verbose, table_name=table_name,
            num_rows_real_training=len(training), num_rows_synthetic=len(synthetic),
            num_rows_real_holdout=len(tables['holdout']) if 'holdout' in tables else 0,
            white_box=has_white_box(synthesizer), seed=self.seed,
        )
        if verbose and self._membership is not None:
            print(f'\nMembership inference: {self._membership.describe_verdict()}.')

    @staticmethod
    def _check_disclosure_columns(known, sensitive, columns):
        if known is None and sensitive is None:
            return None
        if not known or not sensitive:
            raise ValueError(
                'DisclosureProtection needs both known_column_names and sensitive_column_names.')
        known, sensitive = list(known), list(sensitive)
        missing = [column for column in known + sensitive if column not in columns]
        if missing:
            raise ValueError(f'The disclosure columns {missing} are not in the data.')
        if set(known) & set(sensitive):
            raise ValueError(f'Columns {sorted(set(known) & set(sensitive))} cannot be both '
                             'known and sensitive.')
        return known, sensitive

    # -- one method per property ---------------------------------------------------------------
    def _membership_property(self, tables, table_dict, synthesizer, progress, model_access,
                             shadow, verbose):
        non_members, reference = tables['holdout'], tables.get('reference')
        if reference is None:
            # Half the holdout becomes the reference: the calibrated attacks and the
            # noise floor need population rows that are not candidates.
            order = np.random.default_rng(self.seed).permutation(len(non_members))
            half = len(order) // 2
            if half >= 1:
                reference = non_members.iloc[np.sort(order[half:])]
                non_members = non_members.iloc[np.sort(order[:half])]
        metadata = {'columns': table_dict.get('columns', {})}
        describe = (lambda step: progress.set_description(f'{MEMBERSHIP_INFERENCE}: {step}'))
        result = run_membership_inference(
            tables['train'], non_members, tables['synthetic'], reference, metadata=metadata,
            attacks=self.attacks, synthesizer=synthesizer, max_candidates=self.max_candidates,
            seed=self.seed, on_step=describe, alpha=self.alpha, n_bootstrap=self.n_bootstrap,
            n_permutations=self.n_permutations, **model_access)
        if shadow is not None:
            describe('Shadow-model attack')
            if reference is None:
                raise ValueError('The shadow-model attack needs reference rows to fit on.')
            result.shadow = run_shadow_attack(
                tables['train'], non_members, reference, metadata, synthetic=tables['synthetic'],
                **{'seed': self.seed, 'verbose': verbose, **shadow})
        self._membership = result
        return result.verdict['score'], membership_details(result)

    def _dcr_overfitting(self, tables, table_dict, table_name, rng):
        require_candidates(len(tables['train']), len(tables['holdout']),
                           what='DCR Overfitting Protection')
        # Equal-size training and holdout subsamples: SDMetrics warns (and the
        # "closer to training" share is biased) when the two differ in size.
        n_rows = min(self.dcr_subsample, len(tables['train']), len(tables['holdout']))
        with _numpy_global_seed(self.seed):
            breakdown = DCROverfittingProtection.compute_breakdown(
                sample_rows(tables['train'], n_rows, rng),
                sample_rows(tables['synthetic'], self.dcr_subsample, rng),
                sample_rows(tables['holdout'], n_rows, rng),
                {'columns': table_dict['columns']}, table_name,
            )
        return breakdown['score'], pd.DataFrame([{'Metric': 'DCROverfittingProtection',
                                                  **_flatten(breakdown)}])

    def _dcr_baseline(self, tables, table_dict, table_name, rng):
        # SDMetrics draws its random baseline rows from the class attribute
        # ``_seed``; a throwaway subclass seeds it without touching the original.
        seeded = type('SeededDCRBaselineProtection', (DCRBaselineProtection,),
                      {'_seed': self.seed})
        # A column without a single training value adds no distance, and SDMetrics cannot
        # draw its random baseline (an OverflowError on the range of NaN): leave it out.
        kept = [name for name in tables['train'] if tables['train'][name].notna().any()]
        with _numpy_global_seed(self.seed):
            breakdown = seeded.compute_breakdown(
                sample_rows(tables['train'][kept], self.dcr_subsample, rng),
                sample_rows(tables['synthetic'][kept], self.dcr_subsample, rng),
                {'columns': {name: table_dict['columns'][name] for name in kept}}, table_name,
            )
        return breakdown['score'], pd.DataFrame([{'Metric': 'DCRBaselineProtection',
                                                  **_flatten(breakdown)}])

    def _disclosure(self, tables, table_dict, known, sensitive, rng):
        column_types = {name: meta.get('sdtype') for name, meta in table_dict['columns'].items()}
        continuous = [column for column in known + sensitive
                      if column_types.get(column) in ('numerical', 'datetime')]
        with _numpy_global_seed(self.seed):
            breakdown = DisclosureProtection.compute_breakdown(
                sample_rows(tables['train'], self.disclosure_subsample, rng),
                sample_rows(tables['synthetic'], self.disclosure_subsample, rng),
                known_column_names=known, sensitive_column_names=sensitive,
                continuous_column_names=continuous or None,
            )
        return breakdown['score'], pd.DataFrame([{'Metric': 'DisclosureProtection',
                                                  'Known columns': known,
                                                  'Sensitive columns': sensitive,
                                                  **_flatten(breakdown)}])

    def _new_rows(self, tables, table_dict, table_name, rng):
        with _numpy_global_seed(self.seed):
            breakdown = NewRowSynthesis.compute_breakdown(
                tables['train'], sample_rows(tables['synthetic'], self.new_row_sample_size, rng),
                {'columns': table_dict['columns']}, table_name,
            )
        return breakdown['score'], pd.DataFrame([{'Metric': 'NewRowSynthesis',
                                                  **_flatten(breakdown)}])

    # -- results -------------------------------------------------------------------------------
    def get_membership_inference(self):
        """The :class:`MembershipInferenceResult` (scores, labels, metrics, ROC curves) or None."""
        self._check_generated()
        return self._membership

    def get_membership_verdict(self):
        """Whether the attacks detect leakage, as a dict (see ``MembershipInferenceResult.get_verdict``).

        At least: ``leakage_detected`` (bool), ``p_value``, ``max_auc`` with its
        interval, ``floor_max_auc``, ``best_attack``.
        """
        self._check_generated()
        if self._membership is None:
            reason = self._details[MEMBERSHIP_INFERENCE]['Error'].iloc[0]
            raise ValueError(f'{MEMBERSHIP_INFERENCE} was not computed: {reason}')
        return self._membership.get_verdict()

    def get_visualization(self, property_name, plot='roc'):
        """A plotly Figure for one property.

        For ``'Membership Inference'``, ``plot`` is ``'roc'`` (ROC curve per
        attack), ``'roc_log'`` (the same on log axes, for the low-FPR region),
        ``'auc'`` (each attack's AUC with its 95 % interval beside the noise
        floor, titled with the verdict) or ``'histogram'`` (score distributions
        of members and non-members).
        The SDMetrics properties are shown as bar charts of their breakdown.
        """
        self._check_property(property_name)
        details = self._details[property_name]
        if 'Error' in details and details['Error'].notna().any():
            raise ValueError(f'{property_name} was not computed: {details["Error"].iloc[0]}')
        if property_name == MEMBERSHIP_INFERENCE:
            if plot not in ('roc', 'roc_log', 'auc', 'histogram'):
                raise ValueError(
                    f"plot must be 'roc', 'roc_log', 'auc' or 'histogram'; got {plot!r}.")
            if plot == 'histogram':
                return plots.score_histograms(self._membership)
            if plot == 'auc':
                return plots.auc_interval_figure(self._membership)
            return plots.roc_figure(self._membership, log_scale=plot == 'roc_log')
        values = details.drop(columns=['Metric', 'Known columns', 'Sensitive columns'],
                              errors='ignore').iloc[0]
        frame = pd.DataFrame({'Quantity': values.index, 'Value': values.to_numpy(dtype=float)})
        return plots.bar_figure(frame, 'Quantity', 'Value',
                                title=f'{property_name} (score {self._properties[property_name]:.3f})')
