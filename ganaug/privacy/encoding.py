"""One numeric space for training, synthetic and holdout items, fitted on the training items.

Distances only mean something when every set is encoded the same way, so the
encoder is fitted once on the *training* items and then applied to the
synthetic and holdout items.

* **tables** (DataFrame or 2-D array): numeric and datetime columns are
  standardised (training mean and std); a missing value becomes the training
  mean, and every numeric column gets a 0/1 missing indicator; categorical columns (``object``,
  ``category``, ``string``, ``bool``; missing is a level of its own) are
  one-hot with an ``other`` slot for levels unseen in training, scaled by
  ``1/sqrt(2)`` so that a different level is at distance 1, as a one-std
  difference in a number is.
* **images** (``(N, H, W)`` or ``(N, C, H, W)``): pixel space, scaled to
  [0, 1] for ``uint8``; or the feature space of a classifier: pass
  ``encoder=model.transform`` (e.g. :class:`ganaug.image.classifier.CNNClassifier`).
* **series windows** (``(N, channels, length)``): per-channel standardisation
  (training mean and std), NaN padding as 0 plus a mask of the padded steps
  (when the training windows have padding), flattened.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["PrivacyEncoder"]

_KINDS = ("auto", "table", "image", "series")
_ONE_HOT_SCALE = 1.0 / np.sqrt(2.0)


def _infer_kind(X) -> str:
    if isinstance(X, pd.DataFrame):
        return "table"
    arr = np.asarray(X)
    if arr.ndim == 2:
        return "table"
    if arr.ndim == 4:
        return "image"
    if arr.ndim == 3:
        if arr.dtype == np.uint8:
            return "image"
        raise ValueError(
            f"X has shape {arr.shape}: 3-D float data may be images (N, H, W) or series (N, channels, length); "
            "say which with kind='image' or kind='series'"
        )
    raise ValueError(f"X must be a table (2-D), images (3-D/4-D) or series (3-D), got shape {arr.shape}")


class PrivacyEncoder:
    """Encode tables, images or series windows into one numeric space for distance metrics.

    Parameters
    ----------
    kind : {"auto", "table", "image", "series"}, default="auto"
        ``"auto"``: a DataFrame or 2-D array is a table, 4-D (and 3-D
        ``uint8``) an image batch; 3-D float data must be named.
    encoder : callable, optional
        ``f(X) -> (n, d)`` features used instead of the built-in encoding
        (for example a classifier's ``transform``); applied as is, not fitted.

    Examples
    --------
    >>> import pandas as pd
    >>> from ganaug.privacy.encoding import PrivacyEncoder
    >>> train = pd.DataFrame({"age": [20.0, 40.0, None], "job": ["a", "b", "a"]})
    >>> enc = PrivacyEncoder().fit(train)
    >>> enc.transform(pd.DataFrame({"age": [30.0], "job": ["c"]})).round(3).tolist()
    [[0.0, 0.0, 0.0, 0.0, 0.707]]
    """

    def __init__(self, kind: str = "auto", encoder=None) -> None:
        self.kind = kind
        self.encoder = encoder

    # ------------------------------------------------------------------ fit
    def fit(self, X) -> "PrivacyEncoder":
        if self.kind not in _KINDS:
            raise ValueError(f"kind must be one of {list(_KINDS)}, got {self.kind!r}")
        if self.encoder is not None and not callable(self.encoder):
            raise TypeError(f"encoder must be a callable f(X) -> (n, d) features, got {type(self.encoder).__name__}")
        if len(X) == 0:
            raise ValueError("cannot fit the privacy encoder on 0 training items")
        self.kind_ = _infer_kind(X) if self.kind == "auto" else self.kind
        if self.encoder is not None:
            return self
        if self.kind_ == "table":
            self._fit_table(X)
        elif self.kind_ == "image":
            arr = np.asarray(X)
            if arr.ndim not in (3, 4):
                raise ValueError(f"images must be (N, H, W) or (N, C, H, W), got shape {arr.shape}")
            self.item_shape_ = arr.shape[1:]
            self.scale_ = 255.0 if arr.dtype == np.uint8 else 1.0
        else:
            arr = np.asarray(X, dtype=np.float64)
            if arr.ndim != 3:
                raise ValueError(f"series must be (N, channels, length), got shape {arr.shape}")
            self.item_shape_ = arr.shape[1:]
            self.mean_ = np.nanmean(arr, axis=(0, 2))[None, :, None]
            std = np.nanstd(arr, axis=(0, 2))
            self.std_ = np.where(std > 0, std, 1.0)[None, :, None]
            self.has_nan_ = bool(np.isnan(arr).any())
        return self

    def _fit_table(self, X) -> None:
        frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X))
        self.columns_ = list(frame.columns)
        self.specs_ = []
        for col in frame.columns:
            s = frame[col]
            dtype = s.dtype
            if pd.api.types.is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype) or \
                    pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
                levels = pd.Index(pd.unique(s.astype(object).where(s.notna(), "<NA>")))
                self.specs_.append(("cat", col, levels))
            elif pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_datetime64_any_dtype(dtype):
                v = self._numeric(s)
                finite = v[np.isfinite(v)]
                mean = float(finite.mean()) if finite.size else 0.0
                std = float(finite.std()) if finite.size else 1.0
                self.specs_.append(("num", col, (mean, std if std > 0 else 1.0)))
            else:
                raise TypeError(f"column {col!r} has dtype {dtype} that the privacy encoder cannot encode")

    @staticmethod
    def _numeric(s: pd.Series) -> np.ndarray:
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            days = (pd.to_datetime(s) - pd.Timestamp(0)).dt.total_seconds() / 86400.0
            return days.to_numpy(dtype=np.float64, na_value=np.nan)
        return pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)

    # ------------------------------------------------------------ transform
    def transform(self, X) -> np.ndarray:
        """Encode items to a float64 matrix ``(n, d)`` (the same columns for every set)."""
        if not hasattr(self, "kind_"):
            raise RuntimeError("PrivacyEncoder is not fitted; call fit(X_train) first")
        if self.encoder is not None:
            out = np.asarray(self.encoder(X), dtype=np.float64)
            if out.ndim != 2 or out.shape[0] != len(X):
                raise ValueError(f"encoder must return (n, d) features for n={len(X)} items, got shape {out.shape}")
            return out
        if self.kind_ == "table":
            return self._transform_table(X)
        arr = np.asarray(X)
        if arr.shape[1:] != self.item_shape_:
            raise ValueError(f"items have shape {arr.shape[1:]}, but the training items had {self.item_shape_}")
        if self.kind_ == "image":
            return arr.reshape(len(arr), -1).astype(np.float64) / self.scale_
        z = (arr.astype(np.float64) - self.mean_) / self.std_
        mask = np.isnan(z)
        if mask.any() and not self.has_nan_:
            raise ValueError("series contain NaN but the training series had none; the encoding has no mask for it")
        z = np.where(mask, 0.0, z).reshape(len(arr), -1)
        if self.has_nan_:
            z = np.concatenate([z, mask.reshape(len(arr), -1).astype(np.float64)], axis=1)
        return z

    def _transform_table(self, X) -> np.ndarray:
        frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X))
        if list(frame.columns) != self.columns_:
            if isinstance(X, pd.DataFrame) and set(frame.columns) == set(self.columns_):
                frame = frame[self.columns_]
            else:
                raise ValueError(f"columns {list(frame.columns)} differ from the training columns {self.columns_}")
        parts = []
        for kind, col, info in self.specs_:
            s = frame[col]
            if kind == "num":
                mean, std = info
                v = self._numeric(s)
                miss = np.isnan(v)
                parts.append(((np.where(miss, mean, v) - mean) / std)[:, None])
                parts.append(miss.astype(np.float64)[:, None])  # always: every set gets the same columns
            else:
                levels = info
                values = s.astype(object).where(s.notna(), "<NA>")
                codes = levels.get_indexer(values)
                onehot = np.zeros((len(values), len(levels) + 1))
                onehot[np.arange(len(values)), np.where(codes < 0, len(levels), codes)] = _ONE_HOT_SCALE
                parts.append(onehot)
        return np.concatenate(parts, axis=1) if parts else np.zeros((len(frame), 0))
