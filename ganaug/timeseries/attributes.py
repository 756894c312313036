"""Per-series attributes (DoppelGANger's metadata) and per-series range normalisation.

DoppelGANger (Lin et al., IMC 2020) models a dataset of series as *attributes*
(static facts about each series: a device type, a region, a size) plus the
series themselves, and generates the attributes first and the series
conditioned on them. This module holds the parts that sit below the augmenter:

:class:`AttributeEncoder`
    One table row per series -> the static float vector the recurrent networks
    see at every step (one-hot categoricals, min-max scaled numbers, a missing
    indicator per column that had missing values, NaN replaced by 0).
:func:`series_ranges`, :func:`range_normalize`, :func:`range_denormalize`
    DoppelGANger's "auto-normalisation": every series is scaled by its own
    per-channel minimum and maximum, and the (min, max) pairs become extra
    numeric attributes, generated with the others, that put the scale back.
:func:`use_range_normalization`
    The ``"auto"`` rule: on for long series whose scales differ by more than
    an order of magnitude, off otherwise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "AttributeEncoder",
    "check_attribute_frame",
    "range_denormalize",
    "range_normalize",
    "series_ranges",
    "use_range_normalization",
]

#: ``"auto"`` range normalisation needs at least this many (padded) steps ...
AUTO_MIN_LENGTH = 100
#: ... and, in some channel, a largest per-series range this many times the smallest one
AUTO_MIN_RATIO = 10.0
#: levels kept per categorical attribute by :class:`AttributeEncoder` (the rest share one "other" slot)
MAX_LEVELS = 50


def check_attribute_frame(attributes, n_series: int, what: str = "attributes") -> pd.DataFrame:
    """Validate a table of per-series attributes; returns it with a fresh RangeIndex.

    Parameters
    ----------
    attributes : DataFrame
        One row per series, in the order of the series; any mix of numeric,
        boolean, categorical, text and datetime columns; missing values allowed.
    n_series : int
        Number of series the rows must match.
    what : str
        Name used in error messages.

    Raises
    ------
    TypeError
        Not a DataFrame, or a column of a type that cannot be an attribute.
    ValueError
        Wrong number of rows, no columns, duplicate column names.

    Examples
    --------
    >>> import pandas as pd
    >>> from ganaug.timeseries.attributes import check_attribute_frame
    >>> check_attribute_frame(pd.DataFrame({"site": ["a", "b"]}, index=[7, 9]), 2).index.tolist()
    [0, 1]
    """
    if not isinstance(attributes, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas DataFrame with one row per series, got {type(attributes).__name__}")
    if attributes.shape[1] == 0:
        raise ValueError(f"{what} has no columns")
    if len(attributes) != n_series:
        raise ValueError(f"{what} has {len(attributes)} row(s) but X has {n_series} series; "
                         "give one attribute row per series, in the same order")
    odd = [c for c in attributes.columns if not isinstance(c, str)]
    if odd:
        raise TypeError(f"{what} column names must be str, got {odd[0]!r} ({type(odd[0]).__name__})")
    if attributes.columns.duplicated().any():
        dup = attributes.columns[attributes.columns.duplicated()][0]
        raise ValueError(f"{what} has a duplicate column name {dup!r}")
    for name in attributes.columns:
        _column_kind(attributes[name], name, what)  # TypeError for unsupported dtypes
    return attributes.reset_index(drop=True)


def _column_kind(s: pd.Series, name, what: str = "attributes") -> str:
    dtype = s.dtype
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(dtype):
        return "categorical"
    if pd.api.types.is_numeric_dtype(dtype):
        if pd.api.types.is_complex_dtype(dtype):
            raise TypeError(f"{what} column {name!r} is complex ({dtype}); attributes must be real numbers, "
                            "categories, text or datetimes")
        return "numeric"
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        return "numeric"
    if pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
        return "categorical"
    raise TypeError(f"{what} column {name!r} has dtype {dtype}, which cannot be an attribute; use numbers, "
                    "booleans, categories, text or datetimes")


def _as_float(s: pd.Series) -> np.ndarray:
    """A numeric, datetime or timedelta column as float64 with NaN where missing."""
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_convert("UTC").dt.tz_localize(None)
        values = s.to_numpy(dtype="datetime64[ns]").astype(np.int64).astype(np.float64)
    elif pd.api.types.is_timedelta64_dtype(s.dtype):
        values = s.to_numpy(dtype="timedelta64[ns]").astype(np.int64).astype(np.float64)
    else:
        values = pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    return np.where(s.isna().to_numpy(), np.nan, values)


def _as_levels(s: pd.Series) -> pd.Series:
    """A categorical/text/boolean column as objects, missing values as None."""
    return s.astype(object).where(s.notna(), None)


def _json_level(value):
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, str):
        return value
    raise TypeError(f"attribute level {value!r} ({type(value).__name__}) cannot be stored; use str, int, float or "
                    "bool levels")


class AttributeEncoder:
    """Per-series attribute table <-> the static float vector the recurrent networks are conditioned on.

    Categorical, text and boolean columns become one-hot blocks (the
    ``MAX_LEVELS`` most frequent training levels; rarer ones share one
    "other" slot); numeric, datetime and timedelta columns are min-max scaled
    to ``[0, 1]`` on the training rows. A column that had missing values gets
    one more feature, 1 where the value is missing; a missing number is 0 and
    a missing category is all zeros. The transform is vectorised.

    Attributes
    ----------
    columns_ : list
        Column names, in order.
    specs_ : list of dict
        Per column: ``kind`` ("categorical"/"numeric"), levels or (min, range),
        whether it has a missing indicator, and its slice of the output.
    n_features_ : int
        Width of the encoded vector.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from ganaug.timeseries.attributes import AttributeEncoder
    >>> table = pd.DataFrame({"site": ["a", "b", "a"], "size": [1.0, np.nan, 3.0]})
    >>> enc = AttributeEncoder().fit(table)
    >>> enc.n_features_
    4
    >>> enc.transform(table).tolist()
    [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 1.0], [1.0, 0.0, 1.0, 0.0]]
    """

    def fit(self, frame: pd.DataFrame) -> "AttributeEncoder":
        specs, start = [], 0
        for name in frame.columns:
            s = frame[name]
            kind = _column_kind(s, name)
            missing = bool(s.isna().any())
            if kind == "categorical":
                counts = _as_levels(s).value_counts(dropna=True, sort=True)
                levels = [_json_level(v) for v in counts.index[:MAX_LEVELS].tolist()]
                other = len(counts) > MAX_LEVELS
                width = len(levels) + int(other)
                spec = {"kind": kind, "levels": levels, "other": other}
            else:
                values = _as_float(s)
                finite = values[np.isfinite(values)]
                lo = float(finite.min()) if finite.size else 0.0
                span = float(finite.max()) - lo if finite.size else 0.0
                width = 1
                spec = {"kind": kind, "min": lo, "range": span if span > 0 else 1.0}
            spec.update(missing=missing, start=start, width=width + int(missing))
            start += spec["width"]
            specs.append(spec)
        self.columns_ = list(frame.columns)
        self.specs_ = specs
        self.n_features_ = int(start)
        return self

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Encoded attributes ``(n_rows, n_features_)`` float32."""
        absent = [c for c in self.columns_ if c not in frame.columns]
        if absent:
            raise ValueError(f"attributes lack the column(s) {absent} seen in training")
        n = len(frame)
        out = np.zeros((n, self.n_features_), dtype=np.float32)
        rows = np.arange(n)
        for name, spec in zip(self.columns_, self.specs_):  # a loop over columns, not rows
            s = frame[name]
            start = spec["start"]
            if spec["kind"] == "categorical":
                levels = spec["levels"]
                codes = pd.Categorical(_as_levels(s), categories=levels).codes.astype(np.int64)
                if spec["other"]:
                    codes = np.where((codes < 0) & s.notna().to_numpy(), len(levels), codes)
                hit = codes >= 0
                out[rows[hit], start + codes[hit]] = 1.0
                width = len(levels) + int(spec["other"])
            else:
                values = (_as_float(s) - spec["min"]) / spec["range"]
                out[:, start] = np.nan_to_num(values, nan=0.0, posinf=1.0, neginf=0.0)
                width = 1
            if spec["missing"]:
                out[:, start + width] = s.isna().to_numpy()
        return out

    def to_json(self) -> dict:
        return {"columns": [str(c) for c in self.columns_], "specs": self.specs_,
                "n_features": self.n_features_}

    @classmethod
    def from_json(cls, d: dict) -> "AttributeEncoder":
        enc = cls()
        enc.columns_ = list(d["columns"])
        enc.specs_ = [dict(s) for s in d["specs"]]
        enc.n_features_ = int(d["n_features"])
        return enc


# ---------------------------------------------------------------- ranges
def series_ranges(X3: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-series, per-channel minimum and maximum over the observed (non-NaN) steps.

    Parameters
    ----------
    X3 : ndarray of shape (N, channels, length)
        Series padded with NaN at the end (as :func:`~ganaug.timeseries.encoding.check_series_array` returns).

    Returns
    -------
    lo, hi : ndarray of shape (N, channels), float64

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.timeseries.attributes import series_ranges
    >>> lo, hi = series_ranges(np.array([[[1.0, 5.0, np.nan]], [[2.0, 2.0, 2.0]]]))
    >>> lo.tolist(), hi.tolist()
    ([[1.0], [2.0]], [[5.0], [2.0]])
    """
    values = np.asarray(X3, dtype=np.float64)
    return np.nanmin(values, axis=2), np.nanmax(values, axis=2)


def range_normalize(X3: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Scale every series and channel to ``[0, 1]`` by its own min and max (a constant one becomes 0).

    NaN padding stays NaN; the result is float64 ``(N, channels, length)``.

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.timeseries.attributes import range_normalize
    >>> X = np.array([[[1.0, 5.0, 3.0]], [[2.0, 2.0, np.nan]]])
    >>> range_normalize(X, np.array([[1.0], [2.0]]), np.array([[5.0], [2.0]])).tolist()
    [[[0.0, 1.0, 0.5]], [[0.0, 0.0, nan]]]
    """
    span = hi - lo
    safe = np.where(span > 0, span, 1.0)
    return (np.asarray(X3, dtype=np.float64) - lo[:, :, None]) / safe[:, :, None]


def range_denormalize(X3: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Inverse of :func:`range_normalize`: ``lo + x * (hi - lo)`` per series and channel (``hi < lo`` counts as ``lo``).

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.timeseries.attributes import range_denormalize
    >>> range_denormalize(np.array([[[0.0, 1.0, 0.5]]]), np.array([[10.0]]), np.array([[20.0]])).tolist()
    [[[10.0, 20.0, 15.0]]]
    """
    span = np.maximum(np.asarray(hi, dtype=np.float64) - lo, 0.0)
    return lo[:, :, None] + np.asarray(X3, dtype=np.float64) * span[:, :, None]


def use_range_normalization(option, lo: np.ndarray, hi: np.ndarray, length: int) -> bool:
    """Resolve ``range_normalization`` (``"auto"``, True or False) for training series.

    ``"auto"`` is on when the (padded) series have at least
    ``AUTO_MIN_LENGTH`` (100) steps **and**, for some channel, the largest
    per-series range is more than ``AUTO_MIN_RATIO`` (10) times the smallest
    positive one: long series whose scales differ, where one global scaling
    squeezes the small series into a sliver of ``[0, 1]``. Short windows
    (e.g. TimeGAN's 24-step stocks windows) keep the global scaling.

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.timeseries.attributes import use_range_normalization
    >>> lo, hi = np.zeros((3, 1)), np.array([[1.0], [5.0], [50.0]])
    >>> use_range_normalization("auto", lo, hi, 200), use_range_normalization("auto", lo, hi, 24)
    (True, False)
    """
    if isinstance(option, (bool, np.bool_)):
        return bool(option)
    if not (isinstance(option, str) and option == "auto"):
        raise ValueError(f"range_normalization must be 'auto', True or False, got {option!r}")
    if int(length) < AUTO_MIN_LENGTH:
        return False
    span = hi - lo
    positive = np.where(span > 0, span, np.nan)
    with np.errstate(all="ignore"):
        smallest = np.nanmin(np.where(np.isnan(positive).all(0), 1.0, positive), axis=0)
        ratio = np.nanmax(np.where(np.isnan(positive).all(0), 1.0, positive), axis=0) / smallest
    return bool((ratio > AUTO_MIN_RATIO).any())
