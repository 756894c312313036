"""Few labelled anomalies: the unsupervised view as features, a weighted classifier, and a label-aware blend.

The setting is ADBench's *weakly supervised* one (Han et al., NeurIPS 2022):
thousands of unlabelled rows (mostly normal, some unknown anomalies) and a
handful of confirmed anomalies. :class:`FewLabelAnomalyDetector` does, in one
``fit(X, y)`` (``y`` = 1 for a confirmed anomaly, 0 for everything else):

1. **unsupervised view** -- a :class:`~ganaug.anomaly.GANAnomalyDetector`
   (its GAN, isolation-forest and nearest-neighbour members) trained on the
   unlabelled rows (any pyod-style detector can take its place);
2. **representation** -- each member's standardised score is appended to the
   row's features, as XGBOD does with unsupervised scores (Zhao & Hryniewicki,
   2018): a classifier can then say "far from the data *and* like the known
   anomalies";
3. **supervised view** -- a classifier (default ``HistGradientBoostingClassifier``
   with balanced class weights) learns the confirmed anomalies (and, if
   asked, anomalies generated from them by a label-conditioned
   :class:`~ganaug.augment.tabular.TabularAugmenter`: a complement, never a
   replacement) against the unlabelled rows;
4. **label-aware score** -- both views are mapped to their quantile among the
   unlabelled training rows and averaged with weight
   ``w = n_labelled / (n_labelled + prior_strength)`` on the supervised one.
   The unsupervised quantile breaks the classifier's many ties and keeps the
   ranking sensible where the labels say nothing.

The defaults (representation, class weights, ``prior_strength=0.25``, no
generated anomalies) were chosen on ADBench sets outside the benchmark
(``pipelines/anomaly_dev_tuning.py``; docs/anomaly_fewlabel.md).

:func:`mask_labels` is the protocol's label hiding (keep a ratio of the known
anomalies labelled, at least one), for evaluating on fully labelled data.
"""

from __future__ import annotations

import math
import numbers
import os
from pathlib import Path

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

    def get_state(self) -> dict[str, np.ndarray]:
        return {"values": self.values, "levels": self.levels, "bounds": np.array([self.top, self.scale])}

    @classmethod
    def from_state(cls, state: dict) -> "_Quantile":
        q = cls.__new__(cls)
        q.values = np.asarray(state["values"], dtype=np.float64)
        q.levels = np.asarray(state["levels"], dtype=np.float64)
        q.top, q.scale = (float(v) for v in np.asarray(state["bounds"], dtype=np.float64))
        return q

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
    anomalies). It fits an unsupervised detector on the unlabelled rows,
    appends its members' scores to the features, trains a class-weighted
    classifier on the confirmed anomalies against the unlabelled rows, and
    scores a row by the weighted average of the two views' quantiles (the
    supervised weight ``n_labelled / (n_labelled + prior_strength)`` grows
    with the labels you have). Higher = more abnormal.

    With no confirmed anomaly ``fit`` refuses (use
    :class:`~ganaug.anomaly.GANAnomalyDetector`, the unsupervised view alone).

    Parameters
    ----------
    contamination : float, default=0.1
        Expected share of anomalies, in (0, 0.5]; sets ``threshold_``.
    detector : "gan", None or estimator, default="gan"
        Unsupervised view. ``"gan"``: ``GANAnomalyDetector(contamination,
        random_state)`` with its defaults (GAN, isolation forest and
        nearest-neighbour members); ``None``: none (the score is the
        classifier's alone, on the raw features); or any pyod-style detector
        with ``fit`` and ``decision_function`` (cloned, fitted on the
        unlabelled rows).
    augmenter : None, "gan" or sampler, default=None
        Anomaly synthesis, added to the confirmed anomalies. ``None`` (the
        default: generated anomalies did not help on the development sets,
        see docs/anomaly_fewlabel.md); ``"gan"``: a small ``TabularAugmenter``
        (about 150 steps, widths 64, no calibration) fitted on all rows with
        ``y`` as the condition, generating ``n_synthetic`` anomalies; a
        ``TabularAugmenter`` instance is cloned and used as it is; any other
        imbalanced-learn sampler runs ``fit_resample`` with its own strategy.
    estimator : classifier, optional
        Supervised view, cloned (default
        ``HistGradientBoostingClassifier(class_weight="balanced",
        random_state=...)``); needs ``predict_proba``.
    representation : {"scores", "raw"}, default="scores"
        Classifier features: ``"scores"`` = the row plus the detector
        members' standardised scores (XGBOD's idea); ``"raw"`` = the row only.
    n_synthetic : "auto" or int, default="auto"
        Generated anomalies (ganaug augmenter): "auto" = as many as make both
        classes the same size.
    prior_strength : float, default=0.25
        Labels at which the two views weigh the same; 0 = classifier only.
    prefit_detector : bool, default=False
        ``detector`` is already fitted (e.g. shared between runs); it is used
        as it is, not refitted, and its scores of ``X`` are the features.
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
    score_features_ : list of str
        Names of the detector scores appended to the features.
    decision_scores_, threshold_, labels_ : as pyod

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.anomaly.fewlabel import FewLabelAnomalyDetector
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(size=(300, 3)), rng.normal(4.0, 0.5, size=(12, 3))])
    >>> y = np.zeros(len(X), dtype=int); y[-12:-10] = 1          # two confirmed, ten unknown
    >>> det = FewLabelAnomalyDetector(detector=None, random_state=0).fit(X, y)
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
        augmenter=None,
        estimator=None,
        representation: str = "scores",
        n_synthetic="auto",
        prior_strength: float = 0.25,
        prefit_detector: bool = False,
        random_state=None,
    ) -> None:
        self.contamination = contamination
        self.detector = detector
        self.augmenter = augmenter
        self.estimator = estimator
        self.representation = representation
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
        if self.representation not in ("scores", "raw"):
            raise ValueError(f"representation must be 'scores' or 'raw', got {self.representation!r}")
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
            Numeric table (scale it first; no missing values: NaN or inf is an error).
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
        # 2. representation: the rows plus the detector's member scores (training rows as the detector saw them)
        F, unsup = self._features(X, self._scores(X, unlabelled_mask=~pos, fitting=True))
        # 3. supervised view: confirmed (+ generated) anomalies against the unlabelled rows
        X_syn = self._synthesize(X, y, seed)
        self.n_synthetic_ = int(len(X_syn))
        F_fit, y_fit = F, y
        if len(X_syn):
            F_fit = np.vstack([F, self._features(X_syn, self._scores(X_syn))[0]])
            y_fit = np.concatenate([y, np.ones(len(X_syn), dtype=np.int64)])
        self.estimator_ = self._make_estimator(seed).fit(F_fit, y_fit)
        # 4. both views as quantiles of the unlabelled training rows
        self._sup_ref = _Quantile(self._supervised(F[~pos]))
        if self.detector_ is not None:
            self._unsup_ref = _Quantile(unsup[~pos])
            self.weight_ = n_lab / (n_lab + float(self.prior_strength)) if self.prior_strength else 1.0
        else:
            self.weight_ = 1.0
        self.decision_scores_ = self._blend(F, unsup)
        self._process_decision_scores()
        return self

    def _make_estimator(self, seed: int):
        if self.estimator is None:
            from sklearn.ensemble import HistGradientBoostingClassifier

            return HistGradientBoostingClassifier(class_weight="balanced", random_state=seed % (2**32))
        est = clone(self.estimator)
        if "random_state" in est.get_params() and est.get_params()["random_state"] is None:
            est.set_params(random_state=seed % (2**32))
        return est

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

    # ------------------------------------------------------ representation
    def _detector_scores(self, X: np.ndarray, train_rows: np.ndarray | None = None) -> pd.DataFrame:
        """The detector's member scores of ``X``; rows marked in ``train_rows`` take the scores of its fit."""
        det = self.detector_
        comps = getattr(det, "decision_components_", None)
        members = list(getattr(det, "members_", ()))
        if len(members) > 1:
            if train_rows is None or comps is None:
                return det.score_components(X)[members].reset_index(drop=True)
            out = np.empty((len(X), len(members)))
            out[train_rows] = comps[members].to_numpy()
            if (~train_rows).any():
                out[~train_rows] = det.score_components(X[~train_rows])[members].to_numpy()
            return pd.DataFrame(out, columns=members)
        if train_rows is not None and hasattr(det, "decision_scores_") and len(det.decision_scores_) == train_rows.sum():
            raw = np.empty(len(X))
            raw[train_rows] = np.asarray(det.decision_scores_, dtype=np.float64).ravel()
            if (~train_rows).any():
                raw[~train_rows] = np.asarray(det.decision_function(X[~train_rows]), dtype=np.float64).ravel()
        else:
            raw = np.asarray(det.decision_function(X), dtype=np.float64).ravel()
        return pd.DataFrame({"detector": raw})

    def _scores(self, X: np.ndarray, unlabelled_mask: np.ndarray | None = None,
                fitting: bool = False) -> pd.DataFrame | None:
        """The detector's scores of ``X``, standardised (None without a detector). In ``fit`` the unlabelled rows
        take the scores of the detector's own fit, and a single raw score sets its median / IQR scale."""
        if self.detector_ is None:
            if fitting:
                self.score_features_ = []
            return None
        train_rows = unlabelled_mask if (fitting and not self.prefit_detector) else None
        scores = self._detector_scores(X, train_rows)
        if fitting:
            if scores.shape[1] == 1:  # a single raw score: standardise it on the unlabelled rows
                from ganaug.anomaly.classical import robust_stats

                st = robust_stats(scores.to_numpy()[unlabelled_mask, 0])
                self._score_scale = (st["median"], st["iqr"])
            else:  # the members of a GANAnomalyDetector are standardised already
                self._score_scale = (0.0, 1.0)
            self.score_features_ = list(scores.columns) if self.representation == "scores" else []
        med, iqr = self._score_scale
        return (scores.astype(np.float64) - med) / iqr

    def _features(self, X: np.ndarray, z: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray | None]:
        """``(features, unsupervised score)``: ``X`` plus the standardised detector scores ``z``
        (``representation="scores"``), and their sum (None without a detector)."""
        if z is None:
            return X, None
        zz = z.to_numpy()
        return (np.hstack([X, zz]) if self.representation == "scores" else X), zz.sum(1)

    # ----------------------------------------------------------- synthesis
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
    def _supervised(self, F: np.ndarray) -> np.ndarray:
        return np.asarray(self.estimator_.predict_proba(F)[:, 1], dtype=np.float64)

    def _blend(self, F: np.ndarray, unsup: np.ndarray | None) -> np.ndarray:
        sup = self._sup_ref(self._supervised(F))
        if unsup is None:
            return sup
        return (1.0 - self.weight_) * self._unsup_ref(unsup) + self.weight_ * sup

    def score_components(self, X) -> pd.DataFrame:
        """The views of each row: ``unsupervised`` (the detector's standardised score, NaN without one),
        ``supervised`` (the classifier's anomaly probability), and each detector member's standardised score."""
        check_is_fitted(self, ["estimator_", "weight_"])
        X = self._check_X(X, reset=False)
        z = self._scores(X)
        F, unsup = self._features(X, z)
        out = {"unsupervised": unsup if unsup is not None else np.full(len(X), np.nan),
               "supervised": self._supervised(F)}
        if z is not None:
            out.update({c: z[c].to_numpy() for c in z.columns})
        return pd.DataFrame(out)

    def decision_function(self, X) -> np.ndarray:
        """Anomaly score of each row (higher = more abnormal): the weighted average of the views' quantiles."""
        check_is_fitted(self, ["estimator_", "weight_"])
        X = self._check_X(X, reset=False)
        return self._blend(*self._features(X, self._scores(X)))

    # ---------------------------------------------------------- persistence
    def save(self, path: str | os.PathLike) -> None:
        """Write the fitted detector to a directory, never with pickle.

        The classifier is stored with skops (``skops.io``: scikit-learn's own
        types only), the GAN detector and a ganaug augmenter in their own
        ganaug model folders (``detector/``, ``augmenter/``), everything else
        as JSON and safetensors; every file is hash-checked on :meth:`load`.
        A custom (non-ganaug) detector cannot be saved: ``save`` says so.
        """
        import torch
        from skops.io import dumps

        from ganaug.anomaly.detector import GANAnomalyDetector
        from ganaug.io import save_model_dir, to_jsonable

        check_is_fitted(self, ["estimator_", "weight_"])
        if self.detector_ is not None and not isinstance(self.detector_, GANAnomalyDetector):
            raise TypeError(f"cannot save a FewLabelAnomalyDetector whose detector is a "
                            f"{type(self.detector_).__name__}: only ganaug's GANAnomalyDetector (or None) is saved "
                            "without pickle")
        out = Path(path)
        params = {k: v for k, v in self.get_params(deep=False).items() if k not in ("detector", "augmenter", "estimator")}
        config = {
            "estimator": "FewLabelAnomalyDetector",
            "params": to_jsonable(params),
            "detector": None if self.detector_ is None else "detector",
            "augmenter": "augmenter" if self._saves_augmenter() else None,
            "estimator_class": f"{type(self.estimator_).__module__}.{type(self.estimator_).__qualname__}",
            "seed": self.seed_,
            "n_features_in": self.n_features_in_,
            "n_labelled_anomalies": self.n_labelled_anomalies_,
            "n_synthetic": self.n_synthetic_,
            "weight": self.weight_,
            "score_features": list(self.score_features_),
            "score_scale": list(getattr(self, "_score_scale", (0.0, 1.0))),
        }
        tensors = {"estimator.skops": torch.as_tensor(np.frombuffer(dumps(self.estimator_), dtype=np.uint8).copy()),
                   "decision_scores": torch.as_tensor(np.asarray(self.decision_scores_, dtype=np.float64))}
        refs = {"sup": self._sup_ref, **({"unsup": self._unsup_ref} if self.detector_ is not None else {})}
        for name, ref in refs.items():
            tensors.update({f"{name}_ref.{k}": torch.as_tensor(v) for k, v in ref.get_state().items()})
        save_model_dir(out, config, tensors)
        if self.detector_ is not None:
            self.detector_.save(out / "detector")
        if self._saves_augmenter():
            self.augmenter_.save(out / "augmenter")

    def _saves_augmenter(self) -> bool:
        from ganaug.augment.tabular import TabularAugmenter

        return isinstance(self.augmenter_, TabularAugmenter)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "FewLabelAnomalyDetector":
        """Read a detector written by :meth:`save` (hashes checked, no pickle, skops with trusted types only)."""
        from ganaug.anomaly.classical import loads_trusted
        from ganaug.anomaly.detector import GANAnomalyDetector
        from ganaug.exceptions import ModelFormatError
        from ganaug.io import load_model_dir

        src = Path(path)
        config, tensors = load_model_dir(src)
        if config.get("estimator") != "FewLabelAnomalyDetector":
            raise ModelFormatError(f"{str(path)!r} holds a {config.get('estimator')!r}, not a FewLabelAnomalyDetector")
        det = cls(**config["params"])
        det.seed_ = int(config["seed"])
        det.n_features_in_ = int(config["n_features_in"])
        det.n_labelled_anomalies_ = int(config["n_labelled_anomalies"])
        det.n_synthetic_ = int(config["n_synthetic"])
        det.weight_ = float(config["weight"])
        det.score_features_ = list(config["score_features"])
        det._score_scale = tuple(float(v) for v in config["score_scale"])
        det.estimator_ = loads_trusted(tensors["estimator.skops"].numpy().tobytes())
        det.detector_ = GANAnomalyDetector.load(src / "detector") if config["detector"] else None
        det.augmenter_ = None
        if config.get("augmenter"):
            from ganaug.augment.tabular import TabularAugmenter

            det.augmenter_ = TabularAugmenter.load(src / "augmenter")

        def ref(name):
            prefix = f"{name}_ref."
            return _Quantile.from_state({k[len(prefix):]: v.numpy() for k, v in tensors.items() if k.startswith(prefix)})

        det._sup_ref = ref("sup")
        if det.detector_ is not None:
            det._unsup_ref = ref("unsup")
        det.decision_scores_ = tensors["decision_scores"].numpy().astype(np.float64)
        det._process_decision_scores()
        return det
