"""The components' distinguishability: the post-hoc privacy gauge of a fitted model.

A classifier trained from scratch after fitting tells the components' samples apart as
well as it can; a fitted model's own training-time estimate cannot serve, because the
generators learned to dodge the classifier they trained against. Models expose their
samples through ``sample_components`` (see ``component_gauge``); this module knows
nothing of tables or images.
"""

import math

import numpy as np
import torch

from sdv_privgan.regularizer import entropy


def component_distinguishability(samples, labels, weights=None, test_size=0.5, seed=0):
    """Train a fresh classifier to tell the components apart; report held-out figures.

    This, not the training-time estimate, is the privacy gauge: a classifier trained from
    scratch after fitting cannot have been dodged by the generators. ``samples`` is an
    ``(n, d)`` array of generated samples, ``labels`` their component. Returns a dict with
    ``auc`` (one-vs-rest macro ROC AUC; 0.5 = indistinguishable), ``accuracy``,
    ``chance_accuracy`` and ``jsd`` (nats, held-out ``H(pi) + mean log p_k``, clipped at 0).
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split

    samples, labels = np.asarray(samples, dtype=np.float32), np.asarray(labels)
    k = int(labels.max()) + 1
    x_train, x_test, y_train, y_test = train_test_split(
        samples, labels, test_size=test_size, random_state=seed, stratify=labels)
    model = HistGradientBoostingClassifier(
        max_iter=200, learning_rate=0.1, early_stopping=True, random_state=seed)
    model.fit(x_train, y_train)
    proba = np.clip(model.predict_proba(x_test), 1e-6, 1.0)
    if k == 2:
        auc = roc_auc_score(y_test, proba[:, 1])
    else:
        auc = roc_auc_score(y_test, proba, multi_class='ovr', average='macro')
    weights = np.bincount(labels, minlength=k) / len(labels) if weights is None else weights
    jsd = entropy(torch.as_tensor(weights)) + float(np.log(proba[np.arange(len(y_test)), y_test]).mean())
    return {
        'auc': float(auc),
        'accuracy': float((proba.argmax(1) == y_test).mean()),
        'chance_accuracy': float(np.max(weights)),
        'jsd': max(jsd, 0.0),
        'max_jsd': math.log(k),
    }


def component_gauge(model, n_per_component, seed=0):
    """``component_distinguishability`` of a fitted model's components.

    ``model`` offers ``sample_components(n_per_component)``, returning the features of
    ``n_per_component`` fresh samples of each component as an ``(K, n, d)`` array (the
    declared protocol of every model of this package). Equal numbers per component make
    the classifier's prior uniform, so chance accuracy is ``1 / K``."""
    features = np.asarray(model.sample_components(n_per_component), dtype=np.float32)
    k, n = features.shape[:2]
    if k < 2:
        raise ValueError('Component distinguishability needs at least two components.')
    labels = np.repeat(np.arange(k), n)
    return component_distinguishability(features.reshape(k * n, -1), labels, seed=seed)
