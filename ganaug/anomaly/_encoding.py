"""Input encodings of the detector: tables, images and series to GAN-ready tensors, as plain JSON state.

Anomaly scoring needs an encoding that *keeps* how far outside the normal
range a value lies: the tabular augmenter's transformer clips every value to
the range of its mode and refuses levels it has not seen, both right for
synthesis and wrong here. So each numeric feature is mapped linearly so that
the central 99 % of the training values fills ``[-0.9, 0.9]`` (the range of
the generator's ``tanh`` output); training rows are clipped to ``[-1, 1]``
for the GAN, scored rows are not, so a value ten times beyond the training
range leaves a residual ten times larger. Categories become one-hots; an
unseen level is an all-zero block (a residual of 1, never an error).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["TableCodec", "SeriesCodec", "as_float_array", "check_finite"]

_LO_Q, _HI_Q, _SPAN = 0.005, 0.995, 0.9


def check_finite(arr: np.ndarray, what: str, names=None) -> None:
    """Raise ValueError naming the first column (or position) with NaN or inf."""
    bad = ~np.isfinite(arr)
    if not bad.any():
        return
    kind = "NaN" if np.isnan(arr[bad]).any() else "infinite values"
    if arr.ndim == 2:
        col = int(np.flatnonzero(bad.any(axis=0))[0])
        row = int(np.flatnonzero(bad[:, col])[0])
        name = names[col] if names is not None else col
        raise ValueError(
            f"{what} has {kind} in column {name!r} (first at row {row}); GANAnomalyDetector does not accept "
            "missing or infinite values: impute them first (e.g. sklearn.impute.SimpleImputer in a Pipeline)"
        )
    pos = np.unravel_index(int(np.flatnonzero(bad.ravel())[0]), arr.shape)
    raise ValueError(f"{what} has {kind} (first at index {tuple(int(p) for p in pos)}); impute or drop them first")


def as_float_array(X, what: str = "X") -> np.ndarray:
    """A float64 array from array-likes; TypeError for non-numeric, sparse or complex data."""
    if hasattr(X, "toarray") or type(X).__module__.startswith("scipy.sparse"):
        raise TypeError(f"{what} is sparse; GANAnomalyDetector needs dense data (use X.toarray())")
    arr = np.asarray(X)
    if arr.dtype.kind == "c":
        raise TypeError(f"{what} has complex dtype {arr.dtype}; complex data is not supported")
    if arr.dtype.kind not in "biuf":
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"{what} must be numeric, got dtype {arr.dtype}") from None
    return arr.astype(np.float64, copy=False)


def _linear_scale(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column (center, half-width) so that the central 99 % maps to [-0.9, 0.9]."""
    lo = np.quantile(values, _LO_Q, axis=0)
    hi = np.quantile(values, _HI_Q, axis=0)
    half = (hi - lo) / 2.0
    # a (nearly) constant column: any deviation from it is abnormal; scale by the overall spread
    fallback = np.maximum(np.abs(values).max(axis=0), 1.0) * 1e-3
    half = np.where(half > 1e-12, half, fallback)
    return (hi + lo) / 2.0, half / _SPAN


class TableCodec:
    """Numeric columns scaled linearly (range kept), categorical columns one-hot (unseen level -> zeros)."""

    def fit(self, X) -> "TableCodec":
        frame = X if isinstance(X, pd.DataFrame) else None
        if frame is not None:
            self.columns = [str(c) for c in frame.columns]
            if len(set(self.columns)) != len(self.columns):
                raise ValueError(f"X has duplicate column names {self.columns}")
            self.kinds = ["categorical" if _is_categorical(frame[c]) else "numeric" for c in frame.columns]
            self.levels = {}
            for c, kind in zip(frame.columns, self.kinds):
                if kind == "categorical":
                    s = frame[c]
                    if s.isna().any():
                        raise ValueError(f"X has missing values in column {str(c)!r}; impute them first")
                    self.levels[str(c)] = sorted({str(v) for v in s.tolist()})
            num = self._numeric(X)
        else:
            num = as_float_array(X)
            if num.ndim != 2:
                raise ValueError(f"X must be 2-D (rows, features), got shape {num.shape}")
            self.columns = [str(i) for i in range(num.shape[1])]
            self.kinds = ["numeric"] * num.shape[1]
            self.levels = {}
        self.is_frame = frame is not None
        if num.shape[1]:
            self.center, self.scale = _linear_scale(num)
        else:
            self.center, self.scale = np.zeros(0), np.ones(0)
        return self

    def _numeric(self, X) -> np.ndarray:
        if isinstance(X, pd.DataFrame):
            cols = [c for c, k in zip(X.columns, self.kinds) if k == "numeric"]
            parts = []
            for c in cols:
                try:
                    parts.append(pd.to_numeric(X[c], errors="raise").to_numpy(dtype=np.float64, na_value=np.nan))
                except (TypeError, ValueError):
                    raise TypeError(f"column {str(c)!r} is not numeric (dtype {X[c].dtype})") from None
            num = np.stack(parts, axis=1) if parts else np.zeros((len(X), 0))
            check_finite(num, "X", [str(c) for c in cols])
            return num
        num = as_float_array(X)
        if num.ndim != 2:
            raise ValueError(f"X must be 2-D (rows, features), got shape {num.shape}")
        check_finite(num, "X")
        return num

    @property
    def spans(self) -> list[tuple[int, int, str]]:
        out, pos = [], 0
        n_num = sum(k == "numeric" for k in self.kinds)
        for j in range(n_num):
            out.append((pos + j, 1, "tanh"))
        pos = n_num
        for c, k in zip(self.columns, self.kinds):
            if k == "categorical":
                w = len(self.levels[c])
                out.append((pos, w, "softmax"))
                pos += w
        return out

    @property
    def width(self) -> int:
        return sum(k == "numeric" for k in self.kinds) + sum(len(v) for v in self.levels.values())

    def transform(self, X) -> np.ndarray:
        """Encoded float32 matrix ``(n, width)`` (numeric part unclipped)."""
        if self.is_frame:
            if not isinstance(X, pd.DataFrame):
                arr = np.asarray(X)
                if arr.ndim != 2 or arr.shape[1] != len(self.columns):
                    raise ValueError(f"X must have the {len(self.columns)} columns {self.columns} seen in fit, "
                                     f"got shape {arr.shape}")
                X = pd.DataFrame(arr, columns=self.columns)
            got = [str(c) for c in X.columns]
            if got != self.columns:
                raise ValueError(f"X has columns {got}, but the detector was fitted on {self.columns}")
        num = self._numeric(X)
        if num.shape[1] != len(self.center):
            raise ValueError(f"X has {num.shape[1]} features, but the detector was fitted on {len(self.center)}")
        parts = [((num - self.center) / self.scale).astype(np.float32)]
        if self.is_frame:
            for c, k in zip(X.columns, self.kinds):
                if k != "categorical":
                    continue
                s = X[c]
                if s.isna().any():
                    raise ValueError(f"X has missing values in column {str(c)!r}; impute them first")
                levels = self.levels[str(c)]
                idx = pd.Index(levels).get_indexer(s.astype(str).to_numpy())
                block = np.zeros((len(s), len(levels)), dtype=np.float32)
                ok = idx >= 0
                block[np.flatnonzero(ok), idx[ok]] = 1.0
                parts.append(block)
        return np.concatenate(parts, axis=1)

    def get_state(self) -> dict:
        return {"columns": self.columns, "kinds": self.kinds, "levels": self.levels, "is_frame": self.is_frame,
                "center": self.center.tolist(), "scale": self.scale.tolist()}

    @classmethod
    def from_state(cls, state: dict) -> "TableCodec":
        self = cls()
        self.columns, self.kinds, self.levels = list(state["columns"]), list(state["kinds"]), dict(state["levels"])
        self.is_frame = bool(state["is_frame"])
        self.center = np.asarray(state["center"], dtype=np.float64)
        self.scale = np.asarray(state["scale"], dtype=np.float64)
        return self


def _is_categorical(s: pd.Series) -> bool:
    return (isinstance(s.dtype, pd.CategoricalDtype) or s.dtype == object or pd.api.types.is_bool_dtype(s)
            or pd.api.types.is_string_dtype(s))


class SeriesCodec:
    """Per-channel linear scaling of one long series into the generator's sigmoid range (central 99 % -> [0.05, 0.95])."""

    def fit(self, series: np.ndarray) -> "SeriesCodec":
        center, scale = _linear_scale(series)
        # [-0.9, 0.9] -> [0.05, 0.95]
        self.center, self.scale = center, scale * 2.0
        return self

    def transform(self, series: np.ndarray) -> np.ndarray:
        return ((series - self.center) / self.scale + 0.5).astype(np.float32)

    def get_state(self) -> dict:
        return {"center": self.center.tolist(), "scale": self.scale.tolist()}

    @classmethod
    def from_state(cls, state: dict) -> "SeriesCodec":
        self = cls()
        self.center = np.asarray(state["center"], dtype=np.float64)
        self.scale = np.asarray(state["scale"], dtype=np.float64)
        return self
