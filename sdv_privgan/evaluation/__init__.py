"""Privacy and utility evaluation: membership-inference attacks and SDMetrics-based reports.

Three lines evaluate a synthesizer::

    train, holdout, reference = split_for_evaluation(data, seed=0)
    ...fit a synthesizer on train, sample synthetic...
    PrivacyReport().generate(train, synthetic, metadata, real_holdout_data=holdout,
                             real_reference_data=reference)
"""

from sdv_privgan.evaluation.attacks import (
    ATTACK_LABELS,
    BLACK_BOX_ATTACKS,
    calibrated_distance_to_closest_record,
    classifier_density_ratio,
    distance_to_closest_record,
    domias_density_ratio,
    monte_carlo_ball_count,
    nearest_distances,
)
from sdv_privgan.evaluation.encoding import TabularEncoder
from sdv_privgan.evaluation.membership import (
    MembershipInferenceResult,
    run_membership_inference,
    white_box_scores,
)
from sdv_privgan.evaluation.metrics import (
    attack_metrics,
    privacy_score_from_auc,
    roc_curve,
    tpr_at_fpr,
)
from sdv_privgan.evaluation.privacy_report import PrivacyReport
from sdv_privgan.evaluation.split import EvaluationSplit, split_for_evaluation
from sdv_privgan.evaluation.utility_report import UtilityReport

__all__ = [
    'ATTACK_LABELS',
    'BLACK_BOX_ATTACKS',
    'EvaluationSplit',
    'MembershipInferenceResult',
    'PrivacyReport',
    'TabularEncoder',
    'UtilityReport',
    'attack_metrics',
    'calibrated_distance_to_closest_record',
    'classifier_density_ratio',
    'distance_to_closest_record',
    'domias_density_ratio',
    'monte_carlo_ball_count',
    'nearest_distances',
    'privacy_score_from_auc',
    'roc_curve',
    'run_membership_inference',
    'split_for_evaluation',
    'tpr_at_fpr',
    'white_box_scores',
]
