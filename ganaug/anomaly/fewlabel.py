"""Few labelled anomalies: synthesize anomalies from the few you have, and keep the GAN's unsupervised view.

The setting is ADBench's *weakly supervised* one (Han et al., NeurIPS 2022):
thousands of unlabelled rows (mostly normal, some unknown anomalies) and a
handful of confirmed anomalies. :class:`FewLabelAnomalyDetector` does, in one
``fit(X, y)`` (``y`` = 1 for a confirmed anomaly, 0 for everything else):

1. **unsupervised view** -- a :class:`~ganaug.anomaly.GANAnomalyDetector`
   trained on the unlabelled rows (any pyod-style detector can take its place);
2. **synthesis** -- a :class:`~ganaug.augment.tabular.TabularAugmenter`
   conditioned on the label generates anomalies from the confirmed ones
   (any imbalanced-learn sampler can take its place);
3. **supervised view** -- a classifier (default ``HistGradientBoostingClassifier``)
   learns confirmed + generated anomalies against the unlabelled rows;
4. **label-aware score** -- both scores are mapped to their quantile among the
   unlabelled training rows and averaged with weight
   ``w = n_labelled / (n_labelled + prior_strength)`` on the supervised one:
   one label barely moves the unsupervised ranking, fifty labels mostly
   replace it.

:func:`mask_labels` is the protocol's label hiding (keep a ratio of the known
anomalies labelled, at least one), for evaluating on fully labelled data.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.utils.validation import check_array, check_is_fitted

from ganaug.anomaly.base import BaseDetector, check_contamination
from ganaug.utils import seed_from_random_state

__all__ = ["FewLabelAnomalyDetector", "mask_labels"]

#: the default augmenter's optimiser steps, batch and widths (small: a handful of labelled rows)
_AUG_STEPS, _AUG_BATCH, _AUG_WIDTH = 150, 200, 64


def _binary_labels(y, n: int | None = None, name: str = "y") -> np.ndarray:
    """0/1 int labels from array-likes (bools, ints, floats 0.0/1.0); ValueError naming the problem."""
    if y is None:
        raise ValueError(f"{name} is required: 1 marks a confirmed anomaly, 0 an unlabelled row")
    yy = np.asarray(y.to_numpy() if isinstance(y, (pd.Series, pd.DataFrame)) else y)
    if yy.ndim == 2 and yy.shape[1] == 1:
        yy = yy.ravel()
    if yy.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {yy.shape}")
    if n is not None and len(yy) != n:
        raise ValueError(f"{name} has {len(yy)} labels but X has {n} rows")
    try:
        yf = yy.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must hold 0 (unlabelled / normal) and 1 (anomaly), got dtype {yy.dtype}") from None
    bad = ~np.isin(yf, (0.0, 1.0))
    if bad.any():
        raise ValueError(f"{name} must hold only 0 and 1, found {yy[bad][0]!r}")
    return yf.astype(np.int64)


def mask_labels(y, ratio: float, random_state=None) -> np.ndarray:
    """Hide all but a ratio of the anomaly labels (ADBench's weakly supervised protocol).

    Keeps ``max(1, round(ratio * n_anomalies))`` randomly chosen anomalies
    labelled 1; every other row (normal or hidden anomaly) becomes 0. With
    one ``random_state``, a larger ratio keeps a superset of a smaller one's
    labels (the same random order of the anomalies is cut at different
    lengths), so ratios can be compared on the same rows.

    Parameters
    ----------
    y : array-like of 0/1
        True labels (1 = anomaly).
    ratio : float in (0, 1]
        Share of the anomalies that stay labelled.
    random_state : int, optional

    Returns
    -------
    ndarray of int64, same length as ``y``

    Examples
    --------
    >>> from ganaug.anomaly.fewlabel import mask_labels
    >>> y = [0] * 90 + [1] * 10
    >>> int(mask_labels(y, 0.01, random_state=0).sum()), int(mask_labels(y, 0.5, random_state=0).sum())
    (1, 5)
    """
    yy = _binary_labels(y)
    if isinstance(ratio, bool) or not isinstance(ratio, numbers.Real) or not 0.0 < float(ratio) <= 1.0:
        raise ValueError(f"ratio must be a number in (0, 1], got {ratio!r}")
    anomalies = np.flatnonzero(yy == 1)
    if anomalies.size == 0:
        raise ValueError("y has no anomaly (no 1) to keep labelled")
    k = max(1, int(round(float(ratio) * anomalies.size)))
    order = np.random.default_rng(seed_from_random_state(random_state)).permutation(anomalies)
    out = np.zeros_like(yy)
    out[order[:k]] = 1
    return out


class _Quantile:
    """Monotone map of a score to its quantile among reference scores; above the maximum it keeps growing slowly."""

    def __init__(self, reference: np.ndarray) -> None:
        ref = np.sort(np.asarray(reference, dtype=np.float64).ravel())
        self.values = np.unique(ref)
        right = np.searchsorted(ref, self.values, side="right")
        self.levels = right / float(ref.size)
        q1, q3 = np.percentile(ref, [25, 75])
        self.top = float(ref[-1])
        self.scale = float(q3 - q1) or float(ref.std()) or 1.0

    def __call__(self, s: np.ndarray) -> np.ndarray:
        s = np.asarray(s, dtype=np.float64)
        u = np.interp(s, self.values, self.levels, left=0.0)
        above = s > self.top
        u[above] = 1.0 + 0.01 * np.log1p((s[above] - self.top) / self.scale)
        return u


class FewLabelAnomalyDetector(BaseDetector):
    """Anomaly detector for a few confirmed anomalies among many unlabelled rows (pyod interface).

    ``fit(X, y)`` takes ``y = 1`` for a confirmed anomaly and ``y = 0`` for
    every other row (normal *or not yet known*: the unlabelled rows may hold
    anomalies). It trains a GAN detector on the unlabelled rows, generates
    anomalies from the confirmed ones with a label-conditioned
    :class:`~ganaug.augment.tabular.TabularAugmenter`, trains a classifier on
    confirmed + generated anomalies against the unlabelled rows, and scores a
    row by the weighted average of the two views' quantiles (the supervised
    weight ``n_labelled / (n_labelled + prior_strength)`` grows with the
    labels you have). Higher = more abnormal.

    Parameters
    ----------
    contamination : float, default=0.1
        Expected share of anomalies, in (0, 0.5]; sets ``threshold_``.
    detector : "gan", None or estimator, default="gan"
        Unsupervised view. ``"gan"``: ``GANAnomalyDetector(contamination,
        random_state)`` with its defaults; ``None``: none (the score is the
        classifier's alone); or any pyod-style detector with ``fit`` and
        ``decision_function`` (cloned, fitted on the unlabelled rows).
    augmenter : "gan", None or sampler, default="gan"
        Anomaly synthesis. ``"gan"``: a small ``TabularAugmenter`` (about 150
        steps, widths 64, no calibration) fitted on all rows with ``y`` as the
        condition; a class of one row is given twice (the augmenter needs
        two rows per class). A ``TabularAugmenter`` instance is cloned and
        used as it is; any other imbalanced-learn sampler runs
        ``fit_resample`` with its own strategy; ``None``: no synthesis.
    estimator : classifier, optional
        Supervised view, cloned (default
        ``HistGradientBoostingClassifier(random_state=...)``); needs
        ``predict_proba``.
    n_synthetic : "auto" or int, default="auto"
        Generated anomalies (ganaug augmenter): "auto" = as many as make both
        classes the same size.
    prior_strength : float, default=5.0
        Labels at which the two views weigh the same; 0 = classifier only.
    prefit_detector : bool, default=False
        ``detector`` is already fitted (e.g. shared between runs); it is used
        as it is, not refitted.
    random_state : int, optional
        One seed for the detector, the augmenter and the classifier.

    Attributes
    ----------
    detector_, augmenter_, estimator_ : fitted parts (``None`` where unused)
    n_labelled_anomalies_ : int
        Rows with ``y == 1``: the only labels used.
    n_synthetic_ : int
        Generated anomalies the classifier saw.
    weight_ : float
        Weight of the supervised view in the score.
    decision_scores_, threshold_, labels_ : as pyod

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.anomaly.fewlabel import FewLabelAnomalyDetector
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(size=(300, 3)), rng.normal(4.0, 0.5, size=(12, 3))])
    >>> y = np.zeros(len(X), dtype=int); y[-12:-10] = 1          # two confirmed, ten unknown
    >>> det = FewLabelAnomalyDetector(detector=None, augmenter=None, random_state=0).fit(X, y)
    >>> det.n_labelled_anomalies_, round(det.weight_, 2)
    (2, 1.0)
    >>> s = det.decision_function(X)
    >>> bool(s[-10:].mean() > s[:300].mean())
    True
    """

    def __init__(
        self,
        contamination: float = 0.1,
        detector="gan",
        augmenter="gan",
        estimator=None,
        n_synthetic="auto",
        prior_strength: float = 5.0,
        prefit_detector: bool = False,
        random_state=None,
    ) -> None:
        self.contamination = contamination
        self.detector = detector
        self.augmenter = augmenter
        self.estimator = estimator
        self.n_synthetic = n_synthetic
        self.prior_strength = prior_strength
        self.prefit_detector = prefit_detector
        self.random_state = random_state

    # ---------------------------------------------------------- validation
    def _check_params(self) -> None:
        check_contamination(self.contamination)
        ps = self.prior_strength
        if isinstance(ps, bool) or not isinstance(ps, numbers.Real) or not 0.0 <= float(ps) < math.inf:
            raise ValueError(f"prior_strength must be a finite number >= 0, got {ps!r}")
        ns = self.n_synthetic
        if not (isinstance(ns, str) and ns == "auto") and (
                isinstance(ns, bool) or not isinstance(ns, numbers.Integral) or ns < 0):
            raise ValueError(f"n_synthetic must be 'auto' or an int >= 0, got {ns!r}")
        if isinstance(self.detector, str) and self.detector != "gan":
            raise ValueError(f"detector must be 'gan', None or a detector object, got {self.detector!r}")
        if self.detector is not None and not isinstance(self.detector, str) and not (
                hasattr(self.detector, "fit") and hasattr(self.detector, "decision_function")):
            raise TypeError(f"detector must have fit and decision_function, got {type(self.detector).__name__}")
        if isinstance(self.augmenter, str) and self.augmenter != "gan":
            raise ValueError(f"augmenter must be 'gan', None or a sampler object, got {self.augmenter!r}")
        if self.augmenter is not None and not isinstance(self.augmenter, str) and not hasattr(
                self.augmenter, "fit_resample"):
            raise TypeError(f"augmenter must have fit_resample, got {type(self.augmenter).__name__}")
        if self.estimator is not None and not hasattr(self.estimator, "predict_proba"):
            raise TypeError(f"estimator must have predict_proba, got {type(self.estimator).__name__}")
        if self.prefit_detector and not (self.detector is not None and not isinstance(self.detector, str)):
            raise ValueError("prefit_detector=True needs a fitted detector object as detector")

    def _check_X(self, X, reset: bool) -> np.ndarray:
        if hasattr(X, "toarray"):
            raise TypeError("X is sparse; FewLabelAnomalyDetector needs a dense numeric table (X.toarray())")
        arr = check_array(X, dtype=np.float64, ensure_min_samples=1, input_name="X")
        if reset:
            self.n_features_in_ = arr.shape[1]
        elif arr.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {arr.shape[1]} features, but the detector was fitted on {self.n_features_in_}")
        return arr

    # ------------------------------------------------------------------ fit
    def fit(self, X, y) -> "FewLabelAnomalyDetector":
        """Learn from the unlabelled rows and the confirmed anomalies.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric table (scale it first; no missing values).
        y : array-like of 0/1
            1 = confirmed anomaly (at least one); 0 = unlabelled (normal or
            unknown). Only these labels are used.
        """
        self._check_params()
        X = self._check_X(X, reset=True)
        y = _binary_labels(y, len(X))
        pos = y == 1
        n_lab = int(pos.sum())
        if n_lab == 0:
            raise ValueError("y has no confirmed anomaly (no 1); use an unsupervised detector such as "
                             "GANAnomalyDetector instead")
        if (~pos).sum() < 2:
            raise ValueError(f"only {int((~pos).sum())} unlabelled row(s); at least 2 are needed")
        seed = seed_from_random_state(self.random_state)
        self.seed_ = seed
        self.n_labelled_anomalies_ = n_lab
        unlabelled = X[~pos]

        # 1. unsupervised view, on the unlabelled rows only
        self.detector_ = self._fit_detector(unlabelled, seed)
        # 2. synthesis from the confirmed anomalies
        X_syn = self._synthesize(X, y, seed)
        self.n_synthetic_ = int(len(X_syn))
        # 3. supervised view: confirmed + generated anomalies against the unlabelled rows
        if self.estimator is None:
            from sklearn.ensemble import HistGradientBoostingClassifier

            est = HistGradientBoostingClassifier(random_state=seed % (2**32))
        else:
            est = clone(self.estimator)
            if "random_state" in est.get_params() and est.get_params()["random_state"] is None:
                est.set_params(random_state=seed % (2**32))
        X_fit = np.vstack([X, X_syn]) if len(X_syn) else X
        y_fit = np.concatenate([y, np.ones(len(X_syn), dtype=np.int64)])
        self.estimator_ = est.fit(X_fit, y_fit)
        # 4. both views as quantiles of the unlabelled training rows
        self._sup_ref = _Quantile(self._supervised(unlabelled))
        if self.detector_ is not None:
            self._unsup_ref = _Quantile(self._unsupervised(unlabelled))
            self.weight_ = n_lab / (n_lab + float(self.prior_strength)) if self.prior_strength else 1.0
        else:
            self.weight_ = 1.0
        self.decision_scores_ = self.decision_function(X)
        self._process_decision_scores()
        return self

    def _fit_detector(self, unlabelled: np.ndarray, seed: int):
        if self.detector is None:
            return None
        if self.prefit_detector:
            check_is_fitted(self.detector)
            return self.detector
        if isinstance(self.detector, str):
            from ganaug.anomaly.detector import GANAnomalyDetector

            det = GANAnomalyDetector(contamination=self.contamination, random_state=seed)
        else:
            det = clone(self.detector)
            if "random_state" in det.get_params() and det.get_params()["random_state"] is None:
                det.set_params(random_state=seed)
        return det.fit(unlabelled)

    def _default_augmenter(self, n_rows: int, seed: int):
        from ganaug.augment.tabular import TabularAugmenter

        batch = max(10, min(_AUG_BATCH, (n_rows // 10) * 10))
        epochs = int(math.ceil(_AUG_STEPS / max(1, n_rows // batch)))
        return TabularAugmenter(epochs=epochs, batch_size=batch, generator_dim=(_AUG_WIDTH, _AUG_WIDTH),
                                discriminator_dim=(_AUG_WIDTH, _AUG_WIDTH), embedding_dim=32, max_modes=1,
                                calibrate=False, random_state=seed)

    def _synthesize(self, X: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
        self.augmenter_ = None
        if self.augmenter is None:
            return np.zeros((0, X.shape[1]))
        from ganaug.augment.tabular import TabularAugmenter

        n_lab = int(y.sum())
        want = (len(y) - 2 * n_lab) if self.n_synthetic == "auto" else int(self.n_synthetic)
        want = max(0, want)
        if isinstance(self.augmenter, str):
            aug = self._default_augmenter(len(X) + 1, seed)
        else:
            aug = clone(self.augmenter)
            if "random_state" in aug.get_params() and aug.get_params()["random_state"] is None:
                aug.set_params(random_state=seed)
        X_aug, y_aug = X, y
        if isinstance(aug, TabularAugmenter):
            if want == 0:
                return np.zeros((0, X.shape[1]))
            if n_lab == 1:  # the augmenter needs two rows per class: give the one confirmed anomaly twice
                X_aug, y_aug = np.vstack([X, X[y == 1]]), np.concatenate([y, [1]])
            self.augmenter_ = aug.fit(X_aug, y_aug)
            X_new, _ = aug.sample({1: want})
            return np.asarray(X_new, dtype=np.float64)
        X_res, y_res = aug.fit_resample(X_aug, y_aug)
        self.augmenter_ = aug
        X_res, y_res = np.asarray(X_res, dtype=np.float64), np.asarray(y_res)
        extra = X_res[len(X_aug):][y_res[len(X_aug):] == 1]
        return extra

    # -------------------------------------------------------------- scoring
    def _supervised(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.estimator_.predict_proba(X)[:, 1], dtype=np.float64)

    def _unsupervised(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.detector_.decision_function(X), dtype=np.float64).ravel()

    def score_components(self, X) -> pd.DataFrame:
        """The two views of each row: ``unsupervised`` (detector score, NaN without one) and
        ``supervised`` (the classifier's anomaly probability)."""
        check_is_fitted(self, ["estimator_", "weight_"])
        X = self._check_X(X, reset=False)
        unsup = self._unsupervised(X) if self.detector_ is not None else np.full(len(X), np.nan)
        return pd.DataFrame({"unsupervised": unsup, "supervised": self._supervised(X)})

    def decision_function(self, X) -> np.ndarray:
        """Anomaly score of each row (higher = more abnormal): the weighted average of the views' quantiles."""
        check_is_fitted(self, ["estimator_", "weight_"])
        X = self._check_X(X, reset=False)
        sup = self._sup_ref(self._supervised(X))
        if self.detector_ is None:
            return sup
        unsup = self._unsup_ref(self._unsupervised(X))
        return (1.0 - self.weight_) * unsup + self.weight_ * sup
