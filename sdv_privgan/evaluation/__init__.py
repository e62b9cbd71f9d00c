"""Privacy and utility evaluation: membership-inference attacks and SDMetrics-based reports.

Three lines evaluate a synthesizer::

    train, holdout, reference = split_for_evaluation(data, seed=0)
    ...fit a synthesizer on train, sample synthetic...
    report = PrivacyReport()
    report.generate(train, synthetic, metadata, real_holdout_data=holdout,
                    real_reference_data=reference)
    report.get_membership_verdict()   # leakage detected? p-value, max AUC, noise floor
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
    membership_inference_from_arrays,
    run_membership_inference,
    white_box_scores,
)
from sdv_privgan.evaluation.metrics import (
    attack_metrics,
    privacy_score_from_auc,
    roc_curve,
    tpr_at_fpr,
)
from sdv_privgan.evaluation.model_access import (
    GeneratorAccess,
    draw_rows,
    generator_access,
    latent_reconstruction_scores,
)
from sdv_privgan.evaluation.privacy_report import PrivacyReport
from sdv_privgan.evaluation.shadow import ShadowAttackResult, run_shadow_attack
from sdv_privgan.evaluation.split import EvaluationSplit, split_for_evaluation
from sdv_privgan.evaluation.uncertainty import bootstrap_intervals, permutation_test_of_max
from sdv_privgan.evaluation.utility_report import UtilityReport

__all__ = [
    'ATTACK_LABELS',
    'BLACK_BOX_ATTACKS',
    'EvaluationSplit',
    'GeneratorAccess',
    'MembershipInferenceResult',
    'PrivacyReport',
    'ShadowAttackResult',
    'TabularEncoder',
    'UtilityReport',
    'attack_metrics',
    'bootstrap_intervals',
    'calibrated_distance_to_closest_record',
    'classifier_density_ratio',
    'distance_to_closest_record',
    'domias_density_ratio',
    'draw_rows',
    'generator_access',
    'latent_reconstruction_scores',
    'membership_inference_from_arrays',
    'monte_carlo_ball_count',
    'nearest_distances',
    'permutation_test_of_max',
    'privacy_score_from_auc',
    'roc_curve',
    'run_membership_inference',
    'run_shadow_attack',
    'split_for_evaluation',
    'tpr_at_fpr',
    'white_box_scores',
]
