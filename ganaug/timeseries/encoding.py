"""Raw series <-> network tensors: validation, NaN end-padding, per-channel scaling, windows.

Layouts
-------
Users hand over series as aeon/sktime do: ``(N, channels, length)``, or
``(N, length)`` for one channel. Variable-length series are padded with NaN
*at the end* (all channels together), as in the bundled JapaneseVowels.

The recurrent networks work on ``(N, length, channels)`` float tensors scaled
per channel to ``[0, 1]`` (min-max fitted on the training data, as TimeGAN
does), with the padding set to 0 and the observed length of every series kept
beside them. :class:`SeriesEncoder` does both directions, vectorised.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["SeriesEncoder", "check_series_array", "make_windows", "lengths_to_mask"]


def _as_float_array(X, what: str) -> np.ndarray:
    if isinstance(X, (pd.DataFrame, pd.Series)):
        X = X.to_numpy()
    try:
        arr = np.asarray(X)
    except ValueError as exc:  # ragged nested lists
        raise ValueError(
            f"{what} must be a rectangular array; pad variable-length series with NaN at the end ({exc})"
        ) from None
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise TypeError(f"{what} must hold numbers, got dtype {arr.dtype}")
    return arr


def check_series_array(X, *, what: str = "X", min_length: int = 2) -> tuple[np.ndarray, np.ndarray, bool]:
    """Validate a batch of series and find each one's observed length.

    Parameters
    ----------
    X : array-like of shape (N, channels, length) or (N, length)
        Series; NaN allowed only as padding at the end, in every channel at once.
    what : str
        Name used in error messages.
    min_length : int, default=2
        Fewest observed steps a series may have.

    Returns
    -------
    X3 : ndarray of shape (N, channels, length)
        The input as a 3-D array (a view when possible; dtype kept).
    lengths : ndarray of int64, shape (N,)
        Observed steps per series.
    was_2d : bool
        Whether the input was (N, length).

    Raises
    ------
    ValueError
        Wrong number of dimensions, empty input, infinite values, NaN inside a
        series rather than at its end, padding that differs between channels,
        or a series shorter than ``min_length``.
    TypeError
        Non-numeric data.

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.timeseries.encoding import check_series_array
    >>> X = np.array([[[1.0, 2.0, 3.0]], [[1.0, 2.0, np.nan]]])
    >>> X3, lengths, was_2d = check_series_array(X)
    >>> lengths.tolist(), was_2d
    ([3, 2], False)
    """
    arr = _as_float_array(X, what)
    if arr.ndim == 2:
        arr3, was_2d = arr[:, None, :], True
    elif arr.ndim == 3:
        arr3, was_2d = arr, False
    else:
        raise ValueError(
            f"{what} must be 3-D (n_series, n_channels, length) or 2-D (n_series, length), got shape {arr.shape}"
        )
    n, c, length = arr3.shape
    if n == 0 or c == 0 or length == 0:
        raise ValueError(f"{what} is empty (shape {arr3.shape})")
    if length < min_length:
        raise ValueError(f"{what} has length {length}; series need at least {min_length} time steps")
    if arr3.dtype.kind == "f":
        if np.isinf(arr3).any():
            i, ch, t = np.argwhere(np.isinf(arr3))[0]
            raise ValueError(f"{what} has an infinite value (series {i}, channel {ch}, step {t})")
        nan = np.isnan(arr3)
    else:
        nan = np.zeros(arr3.shape, dtype=bool)
    any_nan = nan.any(axis=1)  # (N, L)
    if nan.any():
        all_nan = nan.all(axis=1)
        bad = any_nan != all_nan
        if bad.any():
            i, t = np.argwhere(bad)[0]
            raise ValueError(
                f"{what}: series {i} has NaN at step {t} in some channels but not in others; "
                "NaN may only pad the end of a series, in all channels at once"
            )
        # padding must be a suffix: once NaN, NaN until the end
        inside = np.diff(any_nan.astype(np.int8), axis=1) < 0
        if inside.any():
            i, t = np.argwhere(inside)[0]
            raise ValueError(
                f"{what}: series {i} has NaN inside the sequence (step {t}, observed values follow it); "
                "NaN is only allowed as padding at the end of a series - impute gaps first"
            )
    lengths = (length - any_nan.sum(axis=1)).astype(np.int64)
    short = np.flatnonzero(lengths < min_length)
    if short.size:
        i = short[0]
        raise ValueError(
            f"{what}: series {i} has {lengths[i]} observed step(s); series need at least {min_length}"
        )
    return arr3, lengths, was_2d


def lengths_to_mask(lengths, length: int):
    """Boolean ``(N, length)`` mask, True at observed steps (torch or numpy, like ``lengths``).

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.timeseries.encoding import lengths_to_mask
    >>> lengths_to_mask(np.array([2, 3]), 3).astype(int).tolist()
    [[1, 1, 0], [1, 1, 1]]
    """
    if isinstance(lengths, np.ndarray):
        return np.arange(length)[None, :] < lengths[:, None]
    import torch

    return torch.arange(length, device=lengths.device)[None, :] < lengths[:, None]


def make_windows(series, window: int = 24, stride: int = 1) -> np.ndarray:
    """Sliding windows of one long series, in the ``(N, channels, window)`` layout.

    Parameters
    ----------
    series : DataFrame, Series or array-like of shape (T,) or (T, channels)
        One series, time along the first axis (numeric columns only).
    window : int, default=24
        Steps per window (>= 2).
    stride : int, default=1
        Step between window starts.

    Returns
    -------
    ndarray of shape (n_windows, channels, window), float
        ``n_windows = (T - window) // stride + 1``; a copy, not a view.

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.timeseries.encoding import make_windows
    >>> make_windows(np.arange(10.0), window=4, stride=3)[:, 0].tolist()
    [[0.0, 1.0, 2.0, 3.0], [3.0, 4.0, 5.0, 6.0], [6.0, 7.0, 8.0, 9.0]]
    """
    if isinstance(window, (bool, np.bool_)) or not isinstance(window, (int, np.integer)) or window < 2:
        raise ValueError(f"window must be an int >= 2, got {window!r}")
    if isinstance(stride, (bool, np.bool_)) or not isinstance(stride, (int, np.integer)) or stride < 1:
        raise ValueError(f"stride must be an int >= 1, got {stride!r}")
    if isinstance(series, pd.DataFrame):
        bad = [c for c in series.columns if not pd.api.types.is_numeric_dtype(series[c])]
        if bad:
            raise TypeError(f"series column {bad[0]!r} is not numeric (dtype {series[bad[0]].dtype}); drop it first")
    arr = _as_float_array(series, "series")
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"series must be 1-D (T,) or 2-D (T, channels), got shape {arr.shape}")
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        t, ch = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(f"series has a missing or infinite value at step {t}, channel {ch}; impute it first")
    if arr.shape[0] < window:
        raise ValueError(f"series has {arr.shape[0]} steps, fewer than window={window}")
    win = np.lib.stride_tricks.sliding_window_view(arr, window, axis=0)[::stride]  # (N, C, window)
    return np.ascontiguousarray(win)


class SeriesEncoder:
    """Per-channel min-max scaling to ``[0, 1]`` and the ``(N, L, C)`` layout of the networks.

    Fitted on observed (non-padding) values only. A constant channel is kept
    constant. ``inverse_transform`` restores the caller's layout, dtype and NaN
    padding.

    Attributes
    ----------
    n_channels_, length_ : int
    data_min_, data_range_ : ndarray of shape (channels,)
    was_2d_ : bool
        The training input was ``(N, length)``.
    dtype_ : numpy dtype of the training input (float types kept, others become float64).
    variable_length_ : bool
        Some training series were padded.

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.timeseries.encoding import SeriesEncoder
    >>> X = np.array([[[0.0, 5.0, 10.0]], [[2.0, 4.0, np.nan]]])
    >>> enc = SeriesEncoder().fit(X)
    >>> values, lengths = enc.transform(X)
    >>> values.shape, lengths.tolist(), float(values.max())
    ((2, 3, 1), [3, 2], 1.0)
    >>> np.allclose(enc.inverse_transform(values, lengths), X, equal_nan=True)
    True
    """

    def fit(self, X, lengths: np.ndarray | None = None) -> "SeriesEncoder":
        X3, lens, was_2d = check_series_array(X)
        self.n_channels_ = int(X3.shape[1])
        self.length_ = int(X3.shape[2])
        self.was_2d_ = bool(was_2d)
        self.dtype_ = X3.dtype if X3.dtype.kind == "f" else np.dtype(np.float64)
        self.variable_length_ = bool((lens < self.length_).any())
        values = X3.astype(np.float64)
        lo = np.nanmin(values, axis=(0, 2))
        hi = np.nanmax(values, axis=(0, 2))
        rng = hi - lo
        self.data_min_ = lo
        self.data_range_ = np.where(rng > 0, rng, 1.0)
        return self

    def check(self, X, what: str = "X") -> tuple[np.ndarray, np.ndarray, bool]:
        """Validate new series against the fitted channels and length."""
        X3, lengths, was_2d = check_series_array(X, what=what)
        if X3.shape[1] != self.n_channels_:
            raise ValueError(f"{what} has {X3.shape[1]} channel(s); the model was fitted on {self.n_channels_}")
        if X3.shape[2] != self.length_:
            raise ValueError(f"{what} has length {X3.shape[2]}; the model was fitted on length {self.length_}")
        return X3, lengths, was_2d

    def transform(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Scaled float32 ``(N, length, channels)`` with zeros at padding, and lengths ``(N,)``."""
        X3, lengths, _ = self.check(X)
        scaled = (X3.astype(np.float64) - self.data_min_[None, :, None]) / self.data_range_[None, :, None]
        scaled = np.nan_to_num(scaled, nan=0.0).transpose(0, 2, 1)
        return np.ascontiguousarray(scaled, dtype=np.float32), lengths

    def inverse_transform(self, values, lengths=None, squeeze: bool | None = None) -> np.ndarray:
        """Back from scaled ``(N, length, channels)`` to the caller's layout, NaN after each length.

        ``squeeze`` (default: as fitted) returns ``(N, length)`` for one channel.
        """
        v = np.asarray(values, dtype=np.float64)
        if v.ndim != 3 or v.shape[2] != self.n_channels_:
            raise ValueError(f"values must be (N, length, {self.n_channels_}), got shape {v.shape}")
        out = v.transpose(0, 2, 1) * self.data_range_[None, :, None] + self.data_min_[None, :, None]
        if lengths is not None:
            mask = lengths_to_mask(np.asarray(lengths), v.shape[1])
            out = np.where(mask[:, None, :], out, np.nan)
        out = out.astype(self.dtype_, copy=False)
        if self.was_2d_ if squeeze is None else squeeze:
            out = out[:, 0, :]
        return np.ascontiguousarray(out)

    # ------------------------------------------------------------ persistence
    def to_json(self) -> dict:
        return {
            "n_channels": self.n_channels_,
            "length": self.length_,
            "was_2d": self.was_2d_,
            "dtype": str(self.dtype_),
            "variable_length": self.variable_length_,
            "data_min": self.data_min_.tolist(),
            "data_range": self.data_range_.tolist(),
        }

    @classmethod
    def from_json(cls, d: dict) -> "SeriesEncoder":
        enc = cls()
        enc.n_channels_ = int(d["n_channels"])
        enc.length_ = int(d["length"])
        enc.was_2d_ = bool(d["was_2d"])
        enc.dtype_ = np.dtype(d["dtype"])
        enc.variable_length_ = bool(d["variable_length"])
        enc.data_min_ = np.asarray(d["data_min"], dtype=np.float64)
        enc.data_range_ = np.asarray(d["data_range"], dtype=np.float64)
        return enc
