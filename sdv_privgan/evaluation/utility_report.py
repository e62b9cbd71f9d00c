"""UtilityReport: SDMetrics' QualityReport plus train-on-synthetic / test-on-real efficacy.

SDMetrics' own efficacy metrics give one score per model (binary F1 needing a
0/1 target, macro-F1, R^2) and its MLEfficacy returns None in 0.32, so the
efficacy part is a small scikit-learn pipeline here: the same model trained
once on synthetic rows and once on the real training rows, both tested on the
real holdout, reporting accuracy, ROC AUC and F1 (or R^2) side by side.
"""

import numpy as np
import pandas as pd
from sdmetrics.reports import QualityReport
from sklearn.base import clone
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.metrics import accuracy_score, f1_score, r2_score, roc_auc_score

from sdv_privgan.evaluation import plots
from sdv_privgan.evaluation._inputs import (
    aligned,
    as_sdmetrics_metadata,
    check_table,
    resolve_metadata,
)
from sdv_privgan.evaluation._report_base import BaseEvaluationReport
from sdv_privgan.evaluation.encoding import TabularEncoder
from sdv_privgan.evaluation.uncertainty import MIN_CANDIDATES

COLUMN_SHAPES = 'Column Shapes'
COLUMN_PAIR_TRENDS = 'Column Pair Trends'
ML_EFFICACY = 'ML Efficacy'
TRAIN_SYNTHETIC = 'Train on synthetic'
TRAIN_REAL = 'Train on real'


def _labels(series):
    # Compare classes as strings so that True / 'True' / 1.0 from different
    # producers (real data, a synthesizer) are one class.
    return series.astype(object).map(str).to_numpy()


def _classification_scores(model, features, labels, classes):
    predicted = model.predict(features)
    scores = {
        'Accuracy': accuracy_score(labels, predicted),
        'F1 (macro)': f1_score(labels, predicted, average='macro', labels=classes, zero_division=0),
    }
    # Columns for the classes the model never saw stay 0: a model trained on
    # synthetic rows that lack a class cannot score it.
    probabilities = np.zeros((len(labels), len(classes)))
    predicted_proba = model.predict_proba(features)
    known = {label: position for position, label in enumerate(model.classes_)}
    for position, label in enumerate(classes):
        if label in known:
            probabilities[:, position] = predicted_proba[:, known[label]]
    present = np.unique(labels)
    if len(present) < 2:
        scores['ROC AUC'] = np.nan
    elif len(classes) == 2:
        scores['ROC AUC'] = roc_auc_score(labels == classes[1], probabilities[:, 1])
    else:
        columns = [classes.index(label) for label in present]
        rows = probabilities[:, columns]
        rows = rows / np.clip(rows.sum(axis=1, keepdims=True), 1e-12, None)
        scores['ROC AUC'] = roc_auc_score(labels, rows, multi_class='ovr', labels=list(present))
    return scores


class UtilityReport(BaseEvaluationReport):
    """How useful a synthetic table is: fidelity (SDMetrics) and downstream ML efficacy.

    Properties: ``Column Shapes`` and ``Column Pair Trends`` from SDMetrics'
    QualityReport, and ``ML Efficacy``: how much of the real-data model's skill
    a model trained on synthetic data keeps, ``(AUC_syn - 0.5) / (AUC_real - 0.5)``
    for classification and ``R2_syn / R2_real`` for regression, clipped to 0..1.

    Args:
        model: A scikit-learn estimator; default a histogram gradient-boosting
            classifier or regressor (handles any size, no tuning needed).
        max_train_rows (int): Most rows each model is trained on.
        seed (int): Seeds the subsampling and the default model.
    """

    PROPERTIES = (COLUMN_SHAPES, COLUMN_PAIR_TRENDS, ML_EFFICACY)

    def __init__(self, model=None, max_train_rows=20000, seed=0):
        super().__init__()
        self.model = model
        self.max_train_rows = max_train_rows
        self.seed = seed
        self._quality = None
        self._table_name = None

    def generate(self, real_training_data, synthetic_data, metadata, real_holdout_data=None,
                 target=None, task=None, table_name=None, verbose=True):
        """Compute fidelity and, given a ``target`` column and a holdout, ML efficacy.

        Args:
            real_training_data, synthetic_data (pandas.DataFrame): The tables to compare.
            metadata (sdv.metadata.Metadata or dict): Describes the table.
            real_holdout_data (pandas.DataFrame or None): Real rows the synthesizer
                never saw: the test set of both models.
            target (str or None): Column to predict.
            task (str or None): ``'classification'`` or ``'regression'``; inferred
                from the target's sdtype when None.
            verbose (bool): Show progress and print the scores.
        """
        table_name, table_dict = resolve_metadata(metadata, table_name)
        training = check_table(real_training_data, 'real_training_data', table_dict)
        columns = list(table_dict.get('columns', training.columns))
        synthetic = aligned(check_table(synthetic_data, 'synthetic_data',
                                        table_dict, columns), columns)
        training = aligned(training, columns)
        holdout = None
        if real_holdout_data is not None:
            holdout = aligned(check_table(real_holdout_data, 'real_holdout_data',
                                          table_dict, columns), columns)
        if target is not None:
            task = self._resolve_task(target, task, table_dict, columns)

        progress = self._start(len(self.PROPERTIES), verbose, 'Generating utility report')
        progress.set_description('Computing the SDMetrics QualityReport')
        self._table_name = table_name
        self._quality = QualityReport()
        self._quality.generate({table_name: training}, {table_name: synthetic},
                               as_sdmetrics_metadata(table_name, table_dict), verbose=False)
        quality_scores = self._quality.get_properties().set_index('Property')['Score']
        for name in (COLUMN_SHAPES, COLUMN_PAIR_TRENDS):
            self._properties[name] = float(quality_scores.get(name, np.nan))
            self._details[name] = self._quality.get_details(name)
            progress.update(1)
        if target is None or holdout is None:
            self._skip_property(ML_EFFICACY, progress,
                                'Needs a target column and real_holdout_data.')
        else:
            self._run_property(ML_EFFICACY, progress, lambda: self._efficacy(
                training, synthetic, holdout, target, task, table_dict))
        self._finish(progress, verbose, table_name=table_name, target=target, task=task,
                     num_rows_real_training=len(training), num_rows_synthetic=len(synthetic),
                     num_rows_real_holdout=0 if holdout is None else len(holdout))

    @staticmethod
    def _resolve_task(target, task, table_dict, columns):
        if target not in columns:
            raise ValueError(f'The target column {target!r} is not in the data.')
        if task is None:
            sdtype = table_dict.get('columns', {}).get(target, {}).get('sdtype')
            if sdtype in ('categorical', 'boolean', 'ordinal'):
                task = 'classification'
            elif sdtype == 'numerical':
                task = 'regression'
            else:
                raise ValueError(f'Cannot infer the task for target {target!r} (sdtype {sdtype!r}); '
                                 "pass task='classification' or 'regression'.")
        if task not in ('classification', 'regression'):
            raise ValueError(f"task must be 'classification' or 'regression'; got {task!r}.")
        return task

    def _fit_and_score(self, train, test, target, task, encoder, classes, synthetic=False):
        train = train[train[target].notna()]
        if len(train) > self.max_train_rows:
            train = train.sample(self.max_train_rows, random_state=self.seed)
        if task == 'classification':
            default = HistGradientBoostingClassifier(random_state=self.seed)
        else:
            default = HistGradientBoostingRegressor(random_state=self.seed)
        model = clone(self.model) if self.model is not None else default
        features = encoder.transform(train.drop(columns=[target]))
        test_features = encoder.transform(test.drop(columns=[target]))
        if task == 'regression':
            model.fit(features, pd.to_numeric(train[target]).to_numpy(float))
            predicted = model.predict(test_features)
            return {'R2': r2_score(pd.to_numeric(test[target]).to_numpy(float), predicted)}
        labels = _labels(train[target])
        if len(np.unique(labels)) < 2:
            if not synthetic:
                raise ValueError(f'The training rows hold a single class of {target!r}; '
                                 'no classifier can be trained.')
            # Synthetic rows of one class teach a constant: score that (ROC AUC 0.5).
            model = DummyClassifier(strategy='prior')
        model.fit(features, labels)
        return _classification_scores(model, test_features, _labels(test[target]), classes)

    def _efficacy(self, training, synthetic, holdout, target, task, table_dict):
        holdout = holdout[holdout[target].notna()]
        if len(holdout) < MIN_CANDIDATES:
            raise ValueError(
                f'ML Efficacy needs at least {MIN_CANDIDATES} holdout rows with a {target!r} '
                f'value to test on; got {len(holdout)}.')
        features_metadata = {'columns': {name: meta for name, meta in table_dict['columns'].items()
                                         if name != target}}
        encoder = TabularEncoder(features_metadata).fit(training.drop(columns=[target]))
        classes = None
        if task == 'classification':
            classes = sorted(set(_labels(training[target].dropna())) | set(_labels(holdout[target])))
        on_synthetic = self._fit_and_score(synthetic, holdout, target, task, encoder, classes,
                                           synthetic=True)
        on_real = self._fit_and_score(training, holdout, target, task, encoder, classes)
        details = pd.DataFrame({'Metric': list(on_real), TRAIN_SYNTHETIC: list(on_synthetic.values()),
                                TRAIN_REAL: list(on_real.values())})
        details['Target'], details['Test rows'] = target, len(holdout)
        if task == 'regression':
            synthetic_skill, real_skill = on_synthetic['R2'], on_real['R2']
        elif not np.isnan(on_real['ROC AUC']):
            synthetic_skill, real_skill = on_synthetic['ROC AUC'] - 0.5, on_real['ROC AUC'] - 0.5
        else:
            synthetic_skill, real_skill = on_synthetic['Accuracy'], on_real['Accuracy']
        score = np.nan if real_skill <= 0 else float(np.clip(synthetic_skill / real_skill, 0, 1))
        return score, details

    def get_visualization(self, property_name):
        """A plotly Figure: SDMetrics' own figure for the quality properties, a bar chart for ML efficacy."""
        self._check_property(property_name)
        if property_name != ML_EFFICACY:
            return self._quality.get_visualization(property_name, table_name=self._table_name)
        details = self._details[ML_EFFICACY]
        if 'Error' in details:
            raise ValueError(f'{ML_EFFICACY} was not computed: {details["Error"].iloc[0]}')
        frame = details.melt(id_vars=['Metric'], value_vars=[TRAIN_SYNTHETIC, TRAIN_REAL],
                             var_name='Training data', value_name='Value')
        return plots.bar_figure(frame, 'Metric', 'Value', color='Training data',
                                title=f'ML efficacy on real holdout (target {details["Target"].iloc[0]})')
