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
from sdv_privgan.evaluation.metrics import privacy_score_from_auc

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


class PrivacyReport(BaseEvaluationReport):
    """How much a synthetic table reveals about the rows it was trained on.

    Properties (each scored 0..1, higher = more private):

    - ``Membership Inference``: ``1 - 2 * max(AUC - 0.5, 0)`` for the strongest
      of the attacks (distance to closest record, calibrated, DOMIAS, classifier
      density ratio, Monte-Carlo ball count, and the white-box critic and
      component classifier when a synthesizer with its training state is given).
    - ``DCR Overfitting Protection``, ``DCR Baseline Protection``,
      ``New Row Synthesis``, ``Disclosure Protection``: SDMetrics' metrics.

    Args:
        attacks (list or dict or None): Black-box attacks to run (names from
            ``sdv_privgan.evaluation.BLACK_BOX_ATTACKS`` or ``{name: callable}``); default all.
        max_candidates (int): Most members (and as many non-members) attacked.
        dcr_subsample (int): Rows of each table handed to the SDMetrics DCR metrics.
        new_row_sample_size (int): Synthetic rows checked by NewRowSynthesis.
        disclosure_subsample (int): Rows of each table for DisclosureProtection.
        seed (int): Seeds every subsample (the attacks' own draws use a fixed seed).
    """

    PROPERTIES = (MEMBERSHIP_INFERENCE, DCR_OVERFITTING, DCR_BASELINE, DISCLOSURE, NEW_ROWS)

    def __init__(self, attacks=None, max_candidates=5000, dcr_subsample=1000,
                 new_row_sample_size=500, disclosure_subsample=5000, seed=0):
        super().__init__()
        for name, value in (('max_candidates', max_candidates), ('dcr_subsample', dcr_subsample),
                            ('new_row_sample_size', new_row_sample_size),
                            ('disclosure_subsample', disclosure_subsample)):
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f'{name} must be a positive integer; got {value!r}.')
        self.attacks = attacks
        self.max_candidates = max_candidates
        self.dcr_subsample = dcr_subsample
        self.new_row_sample_size = new_row_sample_size
        self.disclosure_subsample = disclosure_subsample
        self.seed = seed
        self._membership = None

    def generate(self, real_training_data, synthetic_data, metadata, real_holdout_data=None,
                 synthesizer=None, real_reference_data=None, known_column_names=None,
                 sensitive_column_names=None, table_name=None, verbose=True):
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
        """
        table_name, table_dict = resolve_metadata(metadata, table_name)
        training = check_table(real_training_data, 'real_training_data', table_dict)
        columns = list(table_dict.get('columns', training.columns))
        extra = [column for column in training.columns if column not in set(columns)]
        if extra:
            raise ValueError(f'real_training_data has columns {extra} that the metadata lacks.')
        synthetic = check_table(synthetic_data, 'synthetic_data', expected_columns=columns)
        tables = {'train': aligned(training, columns), 'synthetic': aligned(synthetic, columns)}
        for key, data, argument in (('holdout', real_holdout_data, 'real_holdout_data'),
                                    ('reference', real_reference_data, 'real_reference_data')):
            if data is not None:
                tables[key] = aligned(check_table(data, argument, expected_columns=columns), columns)
        disclosure_columns = self._check_disclosure_columns(
            known_column_names, sensitive_column_names, columns)

        rng = np.random.default_rng(self.seed)
        progress = self._start(len(self.PROPERTIES), verbose, 'Generating privacy report')
        if 'holdout' in tables:
            self._run_property(MEMBERSHIP_INFERENCE, progress, lambda: self._membership_property(
                tables, table_dict, synthesizer, progress))
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
    def _membership_property(self, tables, table_dict, synthesizer, progress):
        non_members, reference = tables['holdout'], tables.get('reference')
        if reference is None:
            # Half the holdout becomes the reference: the calibrated attacks need
            # population rows that are not candidates.
            order = np.random.default_rng(self.seed).permutation(len(non_members))
            half = len(order) // 2
            if half >= 1:
                reference = non_members.iloc[np.sort(order[half:])]
                non_members = non_members.iloc[np.sort(order[:half])]
        result = run_membership_inference(
            tables['train'], non_members, tables['synthetic'], reference,
            metadata={'columns': table_dict.get('columns', {})}, attacks=self.attacks,
            synthesizer=synthesizer, max_candidates=self.max_candidates, seed=self.seed,
            on_step=lambda step: progress.set_description(f'{MEMBERSHIP_INFERENCE}: {step}'),
        )
        self._membership = result
        score = privacy_score_from_auc(result.max_auc)
        details = result.to_frame()
        details['Score'] = [privacy_score_from_auc(auc) for auc in details['AUC']]
        details['Candidates'] = len(result.is_member)
        return score, details

    def _dcr_overfitting(self, tables, table_dict, table_name, rng):
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
        with _numpy_global_seed(self.seed):
            breakdown = seeded.compute_breakdown(
                sample_rows(tables['train'], self.dcr_subsample, rng),
                sample_rows(tables['synthetic'], self.dcr_subsample, rng),
                {'columns': table_dict['columns']}, table_name,
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

    def get_visualization(self, property_name, plot='roc'):
        """A plotly Figure for one property.

        For ``'Membership Inference'``, ``plot`` is ``'roc'`` (ROC curve per
        attack), ``'roc_log'`` (the same on log axes, for the low-FPR region)
        or ``'histogram'`` (score distributions of members and non-members).
        The SDMetrics properties are shown as bar charts of their breakdown.
        """
        self._check_property(property_name)
        details = self._details[property_name]
        if 'Error' in details and details['Error'].notna().any():
            raise ValueError(f'{property_name} was not computed: {details["Error"].iloc[0]}')
        if property_name == MEMBERSHIP_INFERENCE:
            if plot not in ('roc', 'roc_log', 'histogram'):
                raise ValueError(f"plot must be 'roc', 'roc_log' or 'histogram'; got {plot!r}.")
            if plot == 'histogram':
                return plots.score_histograms(self._membership)
            return plots.roc_figure(self._membership, log_scale=plot == 'roc_log')
        values = details.drop(columns=['Metric', 'Known columns', 'Sensitive columns'],
                              errors='ignore').iloc[0]
        frame = pd.DataFrame({'Quantity': values.index, 'Value': values.to_numpy(dtype=float)})
        return plots.bar_figure(frame, 'Quantity', 'Value',
                                title=f'{property_name} (score {self._properties[property_name]:.3f})')
