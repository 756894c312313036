"""pyod-style base for outlier detectors: threshold, labels, ``predict`` and ``predict_proba`` written once.

A detector subclass sets ``decision_scores_`` in ``fit`` (higher = more
abnormal) and calls :meth:`BaseDetector._process_decision_scores`, which
derives ``threshold_`` (the ``1 - contamination`` quantile of the training
scores) and ``labels_``. ``predict`` and ``predict_proba`` live only here, as
in pyod's ``BaseDetector``; nothing here imports pyod.
"""

from __future__ import annotations

import numbers

import numpy as np
from scipy.special import erf
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.utils.validation import check_is_fitted

__all__ = ["BaseDetector", "check_contamination"]


def check_contamination(contamination) -> float:
    """Validate ``contamination`` (a float in (0, 0.5]) and return it as float."""
    if isinstance(contamination, bool) or not isinstance(contamination, numbers.Real):
        raise TypeError(f"contamination must be a float in (0, 0.5], got {type(contamination).__name__}")
    c = float(contamination)
    if not 0.0 < c <= 0.5:
        raise ValueError(f"contamination must be in (0, 0.5], got {contamination!r}")
    return c


class BaseDetector(OutlierMixin, BaseEstimator):
    """Shared pyod conventions: ``decision_scores_``, ``threshold_``, ``labels_``, ``predict``, ``predict_proba``.

    Subclasses implement ``fit(X, y=None)`` (set ``decision_scores_`` and call
    :meth:`_process_decision_scores`) and ``decision_function(X)`` (higher =
    more abnormal). Unlike scikit-learn's outlier detectors, ``predict``
    returns pyod's 0 (inlier) / 1 (outlier).
    """

    def _process_decision_scores(self) -> "BaseDetector":
        scores = np.asarray(self.decision_scores_, dtype=np.float64).ravel()
        c = check_contamination(self.contamination)
        self.threshold_ = float(np.percentile(scores, 100.0 * (1.0 - c)))
        self.labels_ = (scores > self.threshold_).astype(np.int64)
        self._mu = float(scores.mean())
        self._sigma = float(scores.std()) or 1.0
        self._train_min = float(scores.min())
        self._train_max = float(scores.max())
        return self

    def predict(self, X, return_confidence: bool = False):
        """0 (normal) / 1 (anomaly) by ``decision_function(X) > threshold_``.

        With ``return_confidence=True`` also returns, as pyod does, the
        confidence of each label (Perini et al., 2020: how stable the label is
        under the binomial uncertainty of the training scores' rank).
        """
        check_is_fitted(self, ["decision_scores_", "threshold_", "labels_"])
        scores = np.asarray(self.decision_function(X), dtype=np.float64)
        labels = (scores > self.threshold_).astype(np.int64)
        if return_confidence:
            return labels, self._confidence(scores, labels)
        return labels

    def predict_proba(self, X, method: str = "linear", return_confidence: bool = False):
        """Outlier probability ``(n, 2)`` = [P(normal), P(anomaly)].

        ``method="linear"``: min-max scaling of the score by the training
        scores' range, clipped to [0, 1]; ``"unify"``: Gaussian scaling
        ``erf((s - mean) / (std * sqrt(2)))`` clipped to [0, 1] (Kriegel et
        al., 2011), as pyod.
        """
        check_is_fitted(self, ["decision_scores_", "threshold_", "labels_"])
        if method not in ("linear", "unify"):
            raise ValueError(f"method must be 'linear' or 'unify', got {method!r}")
        scores = np.asarray(self.decision_function(X), dtype=np.float64)
        if method == "linear":
            span = self._train_max - self._train_min
            p = (scores - self._train_min) / (span if span > 0 else 1.0)
        else:
            p = erf((scores - self._mu) / (self._sigma * np.sqrt(2.0)))
        p = np.clip(p, 0.0, 1.0)
        probs = np.stack([1.0 - p, p], axis=-1)
        if return_confidence:
            return probs, self._confidence(scores, (scores > self.threshold_).astype(np.int64))
        return probs

    def fit_predict(self, X, y=None, **fit_params):
        """Fit, then return ``labels_`` (the training data's 0/1 labels)."""
        return self.fit(X, y, **fit_params).labels_

    def _confidence(self, scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
        from scipy.stats import binom

        train = np.sort(np.asarray(self.decision_scores_, dtype=np.float64).ravel())
        n = train.size
        c = check_contamination(self.contamination)
        # share of training scores at or below each score, as a Bayesian estimate of its outlier probability
        p = (np.searchsorted(train, scores.ravel(), side="right") + 1.0) / (n + 2.0)
        conf = 1.0 - binom.cdf(n - int(n * c), n, p)
        conf = np.where(labels.ravel() == 1, conf, 1.0 - conf)
        return conf.reshape(scores.shape)
