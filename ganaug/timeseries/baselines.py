"""Simple oversamplers for series, the baselines a series GAN has to beat.

Both follow imbalanced-learn's ``fit_resample`` contract (original series
first, then the new ones grouped by class; ``sampling_strategy`` as in
imbalanced-learn) and keep the ``(N, channels, length)`` or ``(N, length)``
layout, NaN end-padding included.

* :class:`SeriesRandomOverSampler` - duplicates randomly chosen series of the
  classes to grow (imbalanced-learn's ``RandomOverSampler`` expects 2-D X).
* :class:`JitterScalingOverSampler` - duplicates with Gaussian jitter and
  per-series, per-channel magnitude scaling, the two augmentations that Um et
  al. (2017) found most useful for sensor series.
"""

from __future__ import annotations

import numpy as np
from imblearn.utils import check_sampling_strategy
from sklearn.base import BaseEstimator

from ganaug.timeseries.encoding import check_series_array

__all__ = ["JitterScalingOverSampler", "SeriesRandomOverSampler"]


class SeriesRandomOverSampler(BaseEstimator):
    """Random oversampling of series (duplicates), any layout imbalanced-learn cannot take.

    Parameters
    ----------
    sampling_strategy : str, float, dict or callable, default="auto"
    random_state : int, optional

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.timeseries.baselines import SeriesRandomOverSampler
    >>> X = np.arange(24.0).reshape(4, 2, 3); y = np.array([0, 0, 0, 1])
    >>> X_res, y_res = SeriesRandomOverSampler(random_state=0).fit_resample(X, y)
    >>> X_res.shape, y_res.tolist()
    ((6, 2, 3), [0, 0, 0, 1, 1, 1])
    """

    _sampling_type = "over-sampling"

    def __init__(self, sampling_strategy="auto", random_state=None) -> None:
        self.sampling_strategy = sampling_strategy
        self.random_state = random_state

    def _pick(self, X, y):
        X3, _, _ = check_series_array(X, min_length=1)
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != len(X3):
            raise ValueError(f"X has {len(X3)} series but y has shape {y.shape}")
        strategy = check_sampling_strategy(self.sampling_strategy, y, self._sampling_type)
        rng = np.random.default_rng(self.random_state)
        picks, labels = [], []
        for label, n_new in strategy.items():  # a loop over classes, not series
            if n_new <= 0:
                continue
            members = np.flatnonzero(y == label)
            picks.append(rng.choice(members, size=int(n_new), replace=True))
            labels.append(np.full(int(n_new), label, dtype=y.dtype))
        idx = np.concatenate(picks) if picks else np.zeros(0, dtype=np.int64)
        y_new = np.concatenate(labels) if labels else y[:0]
        return np.asarray(X), y, idx, y_new, rng

    def fit_resample(self, X, y):
        """Original series first, then duplicates until ``sampling_strategy`` is met."""
        X, y, idx, y_new, _ = self._pick(X, y)
        return np.concatenate([X, X[idx]]), np.concatenate([y, y_new])


class JitterScalingOverSampler(SeriesRandomOverSampler):
    """Oversampling by jittered and magnitude-scaled copies (Um et al., 2017).

    A copy of series ``x`` is ``x * s + e`` with ``s ~ N(1, scaling)`` drawn per
    series and channel and ``e ~ N(0, jitter * std_c)`` per value, where
    ``std_c`` is the channel's standard deviation over the training data.

    Parameters
    ----------
    jitter : float, default=0.03
    scaling : float, default=0.1
    sampling_strategy : str, float, dict or callable, default="auto"
    random_state : int, optional

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.timeseries.baselines import JitterScalingOverSampler
    >>> X = np.random.default_rng(0).normal(size=(5, 1, 8)); y = np.array([0, 0, 0, 0, 1])
    >>> X_res, y_res = JitterScalingOverSampler(random_state=0).fit_resample(X, y)
    >>> X_res.shape, bool(np.allclose(X_res[5:], X[4], atol=0.5)), bool(np.array_equal(X_res[5], X[4]))
    ((8, 1, 8), True, False)
    """

    def __init__(self, jitter: float = 0.03, scaling: float = 0.1, sampling_strategy="auto",
                 random_state=None) -> None:
        self.jitter = jitter
        self.scaling = scaling
        super().__init__(sampling_strategy=sampling_strategy, random_state=random_state)

    def fit_resample(self, X, y):
        """Original series first, then jittered and scaled copies until ``sampling_strategy`` is met."""
        X, y, idx, y_new, rng = self._pick(X, y)
        return np.concatenate([X, self._copies(X, idx, rng)]), np.concatenate([y, y_new])

    def sample_copies(self, X, n: int) -> np.ndarray:
        """``n`` jittered and scaled copies of randomly chosen series of ``X`` (no labels needed).

        Examples
        --------
        >>> import numpy as np
        >>> from ganaug.timeseries.baselines import JitterScalingOverSampler
        >>> JitterScalingOverSampler(random_state=0).sample_copies(np.zeros((3, 2, 5)), 4).shape
        (4, 2, 5)
        """
        check_series_array(X, min_length=1)
        X = np.asarray(X)
        rng = np.random.default_rng(self.random_state)
        return self._copies(X, rng.integers(0, len(X), int(n)), rng)

    def _copies(self, X: np.ndarray, idx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if self.jitter < 0 or self.scaling < 0:
            raise ValueError(f"jitter and scaling must be >= 0, got {self.jitter}, {self.scaling}")
        X3 = X[:, None, :] if X.ndim == 2 else X
        std = np.nanstd(X3.astype(np.float64), axis=(0, 2))  # per channel
        base = X3[idx].astype(np.float64)
        s = rng.normal(1.0, self.scaling, size=(len(idx), X3.shape[1], 1))
        e = rng.normal(0.0, 1.0, size=base.shape) * (self.jitter * std)[None, :, None]
        new = (base * s + e).astype(X.dtype if X.dtype.kind == "f" else np.float64)  # NaN padding stays NaN
        return new[:, 0, :] if X.ndim == 2 else new
