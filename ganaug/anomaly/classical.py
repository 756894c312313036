"""Fast classical anomaly scorers used as ensemble members and as features of the few-label detector.

Three cheap, well-understood views of "unusual", each ``fit(X)`` /
``decision_function(X)`` (higher = more abnormal), with ``decision_scores_``
on the training rows computed so that a row never counts as its own
neighbour:

``IsolationScorer``        isolation forest (Liu et al., 2008): scikit-learn's ``IsolationForest``, path length
                           on 256-row subsamples; saved with skops (trusted types only, no pickle)
``ECODScorer``             empirical-CDF outlier detection (Li et al., 2022): per-feature tail probabilities of
                           the training distribution, summed as ``-log``; beyond the training range the tail
                           keeps shrinking exponentially (in interquartile ranges), so far rows keep ranking
``NearestNeighborScorer``  mean distance to the ``k`` nearest of a random reference subsample of the training
                           rows (a bagged kNN: cheap at any size)

Their state is plain arrays (ECOD, kNN) or a skops byte string (IForest), so
the detectors that hold them save without pickle.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_array, check_is_fitted

from ganaug.utils import seed_from_random_state

__all__ = ["ECODScorer", "IsolationScorer", "NearestNeighborScorer", "SCORERS", "robust_stats"]


def robust_stats(v) -> dict[str, float]:
    """Median and interquartile range of scores (the standard deviation, or 1, when the IQR is 0).

    The scale every detector member (and the few-label detector's score
    features) is standardised by: ``(score - median) / iqr``.
    """
    v = np.asarray(v, dtype=np.float64)
    q1, med, q3 = np.percentile(v, [25, 50, 75])
    iqr = q3 - q1 if q3 > q1 else (float(np.std(v)) or 1.0)
    return {"median": float(med), "iqr": float(iqr)}


def _as_rows(X, n_features: int | None = None) -> np.ndarray:
    arr = check_array(X, dtype=np.float64, ensure_min_samples=1, input_name="X")
    if n_features is not None and arr.shape[1] != n_features:
        raise ValueError(f"X has {arr.shape[1]} features, but the scorer was fitted on {n_features}")
    return arr


class ECODScorer(BaseEstimator):
    """Empirical-CDF outlier scores (ECOD), fitted on training rows only.

    For each feature, the left and right tail probabilities of a value under
    the training data's empirical distribution; the score is the largest of
    the summed ``-log`` left tails, right tails, and tails picked by each
    feature's skewness.

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.anomaly.classical import ECODScorer
    >>> X = np.random.default_rng(0).normal(size=(500, 3))
    >>> s = ECODScorer().fit(X)
    >>> bool(s.decision_function([[6.0, 0.0, 0.0]])[0] > s.decision_scores_.max())
    True
    """

    def fit(self, X) -> "ECODScorer":
        X = _as_rows(X)
        self.n_features_in_ = X.shape[1]
        self.sorted_ = np.sort(X, axis=0)
        q1, q3 = np.percentile(X, [25, 75], axis=0)
        std = X.std(axis=0)
        self.scale_ = np.where(q3 > q1, q3 - q1, np.where(std > 0, std, 1.0))
        centred = X - X.mean(axis=0)
        m3 = (centred**3).mean(axis=0)
        self.skew_sign_ = np.sign(m3 / np.where(std > 0, std, 1.0) ** 3)
        self.decision_scores_ = self.decision_function(X)
        return self

    def _tails(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = self.sorted_.shape[0]
        left = np.empty_like(X)
        right = np.empty_like(X)
        lo, hi = self.sorted_[0], self.sorted_[-1]
        for j in range(X.shape[1]):  # a loop over features, each one vectorised over rows
            col = self.sorted_[:, j]
            left[:, j] = np.searchsorted(col, X[:, j], side="right")
            right[:, j] = n - np.searchsorted(col, X[:, j], side="left")
        left = (left + 1.0) / (n + 2.0)
        right = (right + 1.0) / (n + 2.0)
        # beyond the training range the tail keeps shrinking: exp(-excess / IQR)
        left *= np.exp(-np.clip(lo - X, 0.0, None) / self.scale_)
        right *= np.exp(-np.clip(X - hi, 0.0, None) / self.scale_)
        return -np.log(left), -np.log(right)

    def decision_function(self, X) -> np.ndarray:
        """ECOD score of each row (higher = more abnormal)."""
        check_is_fitted(self, "sorted_")
        X = _as_rows(X, self.n_features_in_)
        nl, nr = self._tails(X)
        auto = np.where(self.skew_sign_ < 0, nl, nr)
        return np.maximum.reduce([nl.sum(1), nr.sum(1), auto.sum(1)])

    def get_state(self) -> dict[str, np.ndarray]:
        return {"sorted": self.sorted_, "scale": self.scale_, "skew_sign": self.skew_sign_,
                "decision_scores": self.decision_scores_}

    @classmethod
    def from_state(cls, state: dict, params: dict | None = None) -> "ECODScorer":
        s = cls(**(params or {}))
        s.sorted_ = np.asarray(state["sorted"], dtype=np.float64)
        s.scale_ = np.asarray(state["scale"], dtype=np.float64)
        s.skew_sign_ = np.asarray(state["skew_sign"], dtype=np.float64)
        s.decision_scores_ = np.asarray(state["decision_scores"], dtype=np.float64)
        s.n_features_in_ = s.sorted_.shape[1]
        return s


class NearestNeighborScorer(BaseEstimator):
    """Mean Euclidean distance to the ``n_neighbors`` nearest rows of a reference subsample.

    Parameters
    ----------
    n_neighbors : int, default=5
    max_reference : int, default=2048
        Training rows kept as the reference (a random subsample above it).
    random_state : int, optional

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.anomaly.classical import NearestNeighborScorer
    >>> X = np.random.default_rng(0).normal(size=(300, 2))
    >>> s = NearestNeighborScorer(random_state=0).fit(X)
    >>> bool(s.decision_function([[5.0, 5.0]])[0] > s.decision_scores_.max())
    True
    """

    def __init__(self, n_neighbors: int = 5, max_reference: int = 2048, random_state=None) -> None:
        self.n_neighbors = n_neighbors
        self.max_reference = max_reference
        self.random_state = random_state

    def fit(self, X) -> "NearestNeighborScorer":
        for name in ("n_neighbors", "max_reference"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
                raise ValueError(f"{name} must be an int >= 1, got {v!r}")
        X = _as_rows(X)
        self.n_features_in_ = X.shape[1]
        if len(X) < 2:
            raise ValueError("NearestNeighborScorer needs at least 2 training rows")
        rng = np.random.default_rng(seed_from_random_state(self.random_state))
        idx = np.arange(len(X)) if len(X) <= self.max_reference else np.sort(
            rng.choice(len(X), self.max_reference, replace=False))
        self.reference_ = X[idx]
        # training scores leave each reference row out of its own neighbours
        self.decision_scores_ = self._score(X, exclude=idx)
        return self

    def _score(self, X: np.ndarray, exclude: np.ndarray | None = None, chunk: int = 1024) -> np.ndarray:
        """Mean distance to the ``k`` nearest reference rows, in float32 chunks (one matrix product and one
        top-k per chunk); ``exclude[i]`` is the reference position of training row ``i`` (left out).

        Chunks of 1024 rows keep the distance block (4-8 MB) in cache: 100k rows score in about 0.27 s
        on 2 cores against 0.48 s with 8192-row chunks (same numbers).
        """
        import torch

        ref = torch.as_tensor(self.reference_, dtype=torch.float32)
        k = min(int(self.n_neighbors), len(ref) - (1 if exclude is not None else 0))
        ref_sq = (ref * ref).sum(1)
        self_pos = None
        if exclude is not None:
            self_pos = np.full(len(X), -1)
            self_pos[exclude] = np.arange(len(exclude))
        out = np.empty(len(X))
        with torch.no_grad():
            for lo in range(0, len(X), chunk):
                x = torch.as_tensor(X[lo : lo + chunk], dtype=torch.float32)
                # ||x||^2 is the same for a whole row: rank by ||r||^2 - 2 x.r (one fused product), add it after
                d2 = torch.addmm(ref_sq.expand(len(x), -1), x, ref.T, beta=1.0, alpha=-2.0)
                if self_pos is not None:
                    own = self_pos[lo : lo + chunk]
                    rows = np.flatnonzero(own >= 0)
                    d2[torch.as_tensor(rows), torch.as_tensor(own[rows])] = float("inf")
                near = torch.topk(d2, k, dim=1, largest=False).values + (x * x).sum(1, keepdim=True)
                out[lo : lo + chunk] = near.clamp_min(0.0).sqrt().mean(1).double().numpy()
        return out

    def decision_function(self, X) -> np.ndarray:
        """Mean distance to the nearest reference rows (higher = more abnormal)."""
        check_is_fitted(self, "reference_")
        return self._score(_as_rows(X, self.n_features_in_))

    def get_state(self) -> dict[str, np.ndarray]:
        return {"reference": self.reference_, "decision_scores": self.decision_scores_}

    @classmethod
    def from_state(cls, state: dict, params: dict | None = None) -> "NearestNeighborScorer":
        s = cls(**(params or {}))
        s.reference_ = np.asarray(state["reference"], dtype=np.float64)
        s.decision_scores_ = np.asarray(state["decision_scores"], dtype=np.float64)
        s.n_features_in_ = s.reference_.shape[1]
        return s


#: rows from which the isolation forest scores on one thread per core
_THREADED_ROWS = 10_000


class IsolationScorer(BaseEstimator):
    """Isolation forest scores (scikit-learn's ``IsolationForest``; higher = more abnormal).

    Parameters
    ----------
    n_estimators : int, default=100
    max_samples : int, default=256
    random_state : int, optional

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.anomaly.classical import IsolationScorer
    >>> X = np.random.default_rng(0).normal(size=(300, 2))
    >>> s = IsolationScorer(random_state=0).fit(X)
    >>> bool(s.decision_function([[5.0, 5.0]])[0] > np.median(s.decision_scores_))
    True
    """

    def __init__(self, n_estimators: int = 100, max_samples: int = 256, random_state=None) -> None:
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.random_state = random_state

    def fit(self, X) -> "IsolationScorer":
        from sklearn.ensemble import IsolationForest

        X = _as_rows(X)
        self.n_features_in_ = X.shape[1]
        seed = seed_from_random_state(self.random_state) % (2**32)
        from ganaug.utils import available_cpus

        self.forest_ = IsolationForest(n_estimators=self.n_estimators, max_samples=min(self.max_samples, len(X)),
                                       n_jobs=available_cpus(), random_state=seed).fit(X)
        self.decision_scores_ = self.decision_function(X)
        return self

    def decision_function(self, X) -> np.ndarray:
        """Isolation score of each row (minus scikit-learn's ``score_samples``)."""
        check_is_fitted(self, "forest_")
        X = _as_rows(X, self.n_features_in_)
        if len(X) < _THREADED_ROWS:
            return -self.forest_.score_samples(X)
        from joblib import parallel_backend

        from ganaug.utils import available_cpus

        # scikit-learn scores tree by tree on one thread unless told otherwise; its tree traversal releases
        # the GIL, so threads halve the time on 2 cores for large inputs (below ~10k rows they only add overhead)
        with parallel_backend("threading", n_jobs=available_cpus()):
            return -self.forest_.score_samples(X)

    def get_state(self) -> dict[str, np.ndarray]:
        from skops.io import dumps

        blob = np.frombuffer(dumps(self.forest_), dtype=np.uint8).copy()
        return {"skops": blob, "decision_scores": self.decision_scores_}

    @classmethod
    def from_state(cls, state: dict, params: dict | None = None) -> "IsolationScorer":
        s = cls(**(params or {}))
        s.forest_ = loads_trusted(np.asarray(state["skops"], dtype=np.uint8).tobytes())
        s.decision_scores_ = np.asarray(state["decision_scores"], dtype=np.float64)
        s.n_features_in_ = int(s.forest_.n_features_in_)
        return s


def loads_trusted(blob: bytes):
    """Load a skops byte string, accepting only scikit-learn's and numpy's own types (never pickle).

    Raises
    ------
    ganaug.exceptions.ModelFormatError
        When the file holds any type outside scikit-learn, numpy and the builtins.
    """
    from skops.io import get_untrusted_types, loads

    from ganaug.exceptions import ModelFormatError

    untrusted = get_untrusted_types(data=blob)
    allowed_prefixes = ("sklearn.", "numpy.", "builtins.", "scipy.")
    refused = [t for t in untrusted if not t.startswith(allowed_prefixes)]
    if refused:
        raise ModelFormatError(f"the saved scikit-learn part holds types ganaug does not trust: {refused}")
    return loads(blob, trusted=untrusted)


#: member name -> class
SCORERS = {"iforest": IsolationScorer, "ecod": ECODScorer, "knn": NearestNeighborScorer}
