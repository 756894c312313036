"""``TabularTransformer``: a mixed-type table <-> the numeric matrix a GAN learns.

Encoding, column by column (a loop over columns; every step inside is
vectorised over rows):

* **continuous** numeric columns (float, integer with many values, datetime,
  timedelta): mode-specific normalisation as in CTGAN. A 1-D Gaussian mixture
  (:func:`ganaug.tabular._modes.fit_modes`) finds the column's modes; a value
  becomes ``alpha = (x - mean_k) / (4 std_k)`` in ``[-1, 1]`` plus a one-hot of
  its mode ``k`` (drawn from the posterior). A column with missing values gets
  one more slot in that one-hot: the **missing indicator**.
* **discrete** columns (category, bool, text, and numeric columns with at most
  ``discrete_threshold`` distinct values): one-hot of the level; a missing
  value is a level of its own. Above ``max_categories`` levels only the
  ``max_categories - 1`` most frequent are kept plus an ``other`` bucket, so a
  column with thousands of levels costs ``max_categories`` outputs; ``other``
  decodes to one of the rare levels drawn by their training frequency.

Decoding is vectorised (one array operation per column, no loop over rows):
argmax of each one-hot, ``x = mean_k + 4 std_k alpha``, clipped to the
training range and rounded when the column held whole numbers; then every
column is cast back to what it was: integers, nullable integers, booleans,
categories (with all original categories and their order), strings,
datetimes (time zone kept) and timedeltas, in the original column order and
names. Arrays come back as arrays of the original dtype.

The fitted transformer is plain data: :meth:`TabularTransformer.get_state`
returns a JSON-able dict (no pickle).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ganaug.io import to_jsonable
from ganaug.tabular._modes import fit_modes, mode_posterior

__all__ = ["TabularTransformer", "Span"]

_CHUNK = 100_000


@dataclass(frozen=True)
class Span:
    """A block of encoded columns: ``kind`` is ``"tanh"`` (one scalar) or ``"softmax"`` (a one-hot)."""

    start: int
    width: int
    kind: str


def _label_to_json(label):
    if isinstance(label, (bool, np.bool_)):
        return {"t": "bool", "v": bool(label)}
    if isinstance(label, (int, np.integer)):
        return {"t": "int", "v": int(label)}
    if isinstance(label, (float, np.floating)):
        return {"t": "float", "v": to_jsonable(float(label))}
    if isinstance(label, str):
        return {"t": "str", "v": label}
    if isinstance(label, tuple):
        return {"t": "tuple", "v": [_label_to_json(v) for v in label]}
    return {"t": "str", "v": str(label)}


def _label_from_json(d):
    t, v = d["t"], d["v"]
    if t == "tuple":
        return tuple(_label_from_json(x) for x in v)
    if t == "float":
        return float(v)
    return {"bool": bool, "int": int}.get(t, str)(v)


def _name(label) -> str:
    return repr(label)


@dataclass
class _Column:
    """Fitted description of one column (plain data, JSON round trip)."""

    name: Any
    storage: str  # how raw values become numbers/levels and come back (see _internal / _restore)
    dtype: str  # the original dtype (str form)
    kind: str  # "continuous" or "discrete"
    has_missing: bool = False
    # discrete
    levels: list = field(default_factory=list)  # internal values of the kept levels
    other_levels: list = field(default_factory=list)  # levels merged into "other" (top-k)
    other_probs: list = field(default_factory=list)
    # continuous
    center: float = 0.0
    scale: float = 1.0
    means: list = field(default_factory=list)  # in scaled units
    stds: list = field(default_factory=list)
    weights: list = field(default_factory=list)
    minimum: float = 0.0
    maximum: float = 0.0
    whole: bool = False  # all training values were whole numbers: round when decoding
    # restoration extras
    categories: list | None = None
    categories_dtype: str | None = None
    ordered: bool = False

    @property
    def has_other(self) -> bool:
        return bool(self.other_levels)

    @property
    def width(self) -> int:
        if self.kind == "continuous":
            return 1 + len(self.means) + int(self.has_missing)
        return len(self.levels) + int(self.has_other) + int(self.has_missing)

    def to_json(self) -> dict:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "name"}
        d["name"] = _label_to_json(self.name)
        return to_jsonable(d)

    @classmethod
    def from_json(cls, d: dict) -> "_Column":
        d = dict(d)
        d["name"] = _label_from_json(d["name"])
        for key in ("center", "scale", "minimum", "maximum"):
            d[key] = float(d[key])
        for key in ("means", "stds", "weights", "other_probs"):
            d[key] = [float(v) for v in d[key]]
        return cls(**d)


# ----------------------------------------------------------------- raw -> internal
def _storage_of(series: pd.Series) -> str:
    """How a column is handled, from its dtype; raises TypeError naming the column if unsupported."""
    dtype = series.dtype
    name = _name(series.name)
    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if isinstance(dtype, pd.SparseDtype):
        raise TypeError(f"column {name} has unsupported sparse dtype {dtype}; convert it with .sparse.to_dense()")
    if isinstance(dtype, pd.BooleanDtype):
        return "nullable_bool"
    if isinstance(dtype, pd.StringDtype):
        return "string"
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if isinstance(dtype, pd.api.extensions.ExtensionDtype) and pd.api.types.is_integer_dtype(dtype):
        return "nullable_int"
    if isinstance(dtype, pd.api.extensions.ExtensionDtype) and pd.api.types.is_float_dtype(dtype):
        return "nullable_float"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_timedelta64_dtype(dtype):
        return "timedelta"
    if pd.api.types.is_complex_dtype(dtype):
        raise TypeError(f"column {name} has unsupported dtype {dtype} (complex numbers)")
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if dtype == object:
        inferred = pd.api.types.infer_dtype(series, skipna=True)
        if inferred == "string":
            return "object"
        if inferred in ("integer", "floating", "mixed-integer-float"):
            return "object_numeric"
        if inferred == "boolean":
            return "object_bool"
        if inferred == "empty":
            return "object"  # all missing: reported by the all-missing check
        types = sorted({type(v).__name__ for v in series.dropna().to_numpy()[:10_000]})
        raise TypeError(
            f"column {name} is an object column holding {inferred} values (types: {', '.join(types)}); "
            "a column must hold one kind of value: text, numbers or booleans"
        )
    raise TypeError(f"column {name} has unsupported dtype {dtype}")


def _missing(series: pd.Series) -> np.ndarray:
    return series.isna().to_numpy()


def _internal(series: pd.Series, storage: str) -> tuple[np.ndarray, np.ndarray]:
    """``(values, missing)``: float64 for numeric storages, int64 ns for time, objects otherwise."""
    miss = _missing(series)
    if storage in ("float", "int", "nullable_int", "nullable_float", "object_numeric"):
        values = pd.to_numeric(series, errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
        return values, miss
    if storage in ("datetime", "timedelta"):
        s = series
        if storage == "datetime" and getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_convert("UTC").dt.tz_localize(None)
        ns = s.astype("datetime64[ns]" if storage == "datetime" else "timedelta64[ns]")
        values = ns.to_numpy().view(np.int64).copy()
        values[miss] = 0
        return values, miss
    if storage == "category":
        codes = series.cat.codes.to_numpy().astype(np.int64)
        return codes, codes < 0
    if storage in ("bool", "nullable_bool", "object_bool"):
        values = series.to_numpy(dtype=object, na_value=None)
        out = np.zeros(len(series), dtype=np.int64)
        ok = ~miss
        out[ok] = values[ok].astype(bool).astype(np.int64)
        return out, miss
    # object / string: text
    values = series.to_numpy(dtype=object, na_value=None)
    return values, miss


def _is_numeric_storage(storage: str) -> bool:
    return storage in ("float", "int", "nullable_int", "nullable_float", "object_numeric", "datetime", "timedelta")


# ----------------------------------------------------------------- internal -> raw
def _restore(col: _Column, values: np.ndarray, missing: np.ndarray):
    """Cast decoded internal values back to the column's original dtype (vectorised)."""
    storage = col.storage
    n = len(values)
    any_missing = bool(missing.any())
    if storage == "float":
        out = values.astype(np.float64)
        out[missing] = np.nan
        return out.astype(col.dtype)
    if storage == "int":
        info = np.iinfo(np.dtype(col.dtype))
        out = np.clip(np.rint(values.astype(np.float64)), info.min, info.max)
        return out.astype(col.dtype)
    if storage in ("nullable_int", "nullable_float"):
        out = np.rint(values.astype(np.float64)) if storage == "nullable_int" else values.astype(np.float64)
        out[missing] = 0
        return pd.array(out, dtype=col.dtype) if not any_missing else _masked(out, missing, col.dtype)
    if storage == "object_numeric":
        out = np.empty(n, dtype=object)
        vals = values.astype(np.float64)
        if col.whole:
            out[:] = [int(v) for v in np.rint(np.nan_to_num(vals))] if n else []
        else:
            out[:] = vals.tolist()
        out[missing] = np.nan
        return out
    if storage in ("datetime", "timedelta"):
        ns = np.rint(values.astype(np.float64)).astype(np.int64) if values.dtype.kind == "f" else values.astype(np.int64)
        if storage == "datetime":
            s = pd.Series(ns.view("datetime64[ns]"))
            target = pd.api.types.pandas_dtype(col.dtype)
            if getattr(target, "tz", None) is not None:
                s = s.dt.tz_localize("UTC").dt.tz_convert(target.tz)
        else:
            s = pd.Series(ns.view("timedelta64[ns]"))
        s = s.mask(missing)
        return s.astype(col.dtype).array
    if storage == "category":
        codes = values.astype(np.int64)
        codes[missing] = -1
        dtype = pd.CategoricalDtype(_index_from_json(col.categories, col.categories_dtype), ordered=col.ordered)
        return pd.Categorical.from_codes(codes, dtype=dtype)
    if storage == "bool":
        return values.astype(bool)
    if storage == "nullable_bool":
        out = values.astype(bool)
        return _masked(out, missing, "boolean") if any_missing else pd.array(out, dtype="boolean")
    if storage == "object_bool":
        out = values.astype(bool).astype(object)
        out[missing] = np.nan
        return out
    if storage == "string":
        out = values.astype(object)
        out[missing] = None
        return pd.array(out, dtype=col.dtype)
    out = values.astype(object)  # object text
    out[missing] = np.nan
    return out


def _masked(values: np.ndarray, missing: np.ndarray, dtype: str):
    arr = pd.array(values, dtype=dtype)
    arr[missing] = pd.NA
    return arr


def _index_to_json(index: pd.Index) -> tuple[list, str]:
    if index.dtype == object or pd.api.types.is_numeric_dtype(index.dtype) or pd.api.types.is_bool_dtype(index.dtype):
        return to_jsonable(index.tolist()), str(index.dtype)
    return [str(v) for v in index], str(index.dtype)


def _index_from_json(values: list, dtype: str | None) -> pd.Index:
    if dtype is None or dtype == "object":
        return pd.Index(values, dtype=object)
    return pd.Index(values).astype(dtype)


def _dtype_str(dtype) -> str:
    if isinstance(dtype, pd.StringDtype):
        return f"string[{dtype.storage}]"
    return str(dtype)


# ------------------------------------------------------------------- transformer
class TabularTransformer:
    """Fitted encoder of a mixed-type table into a GAN-ready float matrix, and back.

    Parameters
    ----------
    max_modes : int, default=10
        Most Gaussian modes per continuous column.
    discrete_threshold : int, default=10
        A numeric column with at most this many distinct values is encoded as
        discrete (one-hot of its values), which restores those exact values.
    max_categories : int, default=50
        A discrete column with more levels keeps the ``max_categories - 1``
        most frequent and an ``other`` bucket.
    random_state : int, optional
        Seeds the mode assignment of :meth:`transform` and the subsampling of
        large columns when fitting modes.

    Attributes
    ----------
    output_dim : int
        Width of the encoded matrix.
    spans : list of Span
        Layout of the encoded matrix (``tanh`` scalars and ``softmax`` blocks).
    discrete_spans : list of Span
        The one-hots of the discrete columns (used for the conditional vector).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from ganaug.tabular import TabularTransformer
    >>> df = pd.DataFrame({"age": [23, 35, 47, 51, 62, 29] * 5,
    ...                    "city": pd.Categorical(["a", "b", "a", "c", "b", "a"] * 5),
    ...                    "income": [1.5, np.nan, 3.2, 4.8, 2.2, 1.1] * 5})
    >>> tt = TabularTransformer(random_state=0).fit(df)
    >>> E = tt.transform(df)
    >>> E.shape[1] == tt.output_dim
    True
    >>> back = tt.inverse_transform(E)
    >>> back.dtypes.tolist() == df.dtypes.tolist(), back["city"].equals(df["city"])
    (True, True)
    >>> int(back["income"].isna().sum())
    5
    """

    def __init__(self, max_modes: int = 10, discrete_threshold: int = 10, max_categories: int = 50, random_state=None):
        self.max_modes = max_modes
        self.discrete_threshold = discrete_threshold
        self.max_categories = max_categories
        self.random_state = random_state

    # ------------------------------------------------------------ validation
    @staticmethod
    def to_frame(X) -> tuple[pd.DataFrame, dict]:
        """Check the container and shape of ``X``; return it as a DataFrame and its layout.

        Raises ``TypeError``/``ValueError`` for a wrong ndim, no columns,
        duplicate column names or a non-tabular input.
        """
        if isinstance(X, pd.Series):
            raise ValueError("X must be 2-D (rows, columns); got a Series: use X.to_frame()")
        if hasattr(X, "tocsr") or type(X).__module__.startswith("scipy.sparse"):
            raise TypeError("Sparse data was passed, but dense data is required (sparse input is not supported); "
                            "use X.toarray() to convert to a dense array")
        if isinstance(X, pd.DataFrame):
            if X.columns.has_duplicates:
                dup = X.columns[X.columns.duplicated()].unique().tolist()
                raise ValueError(f"X has duplicate column names {dup}; column names must be unique")
            if X.shape[1] == 0:
                raise ValueError(f"X has no columns: 0 feature(s) (shape={X.shape}) while a minimum of 1 is required.")
            layout = {"kind": "dataframe", "columns": [_label_to_json(c) for c in X.columns],
                      "columns_name": _label_to_json(X.columns.name) if X.columns.name is not None else None}
            plain = isinstance(X.index, pd.RangeIndex) and X.index.start == 0 and X.index.step == 1
            frame = X if plain else X.reset_index(drop=True)
            return frame, layout
        if hasattr(X, "__array__") or isinstance(X, (list, tuple)):
            try:
                arr = np.asarray(X)
            except Exception as exc:  # ragged lists and the like
                raise ValueError(f"X cannot be read as a 2-D table: {exc}") from None
            if arr.ndim != 2:
                raise ValueError(f"X must be 2-D (rows, columns), got an array of shape {arr.shape}")
            if arr.shape[1] == 0:
                raise ValueError(f"X has no columns: 0 feature(s) (shape={arr.shape}) while a minimum of 1 is required.")
            if arr.dtype.kind == "c":
                raise ValueError(f"Complex data not supported: X has dtype {arr.dtype}")
            if arr.dtype.kind not in "biufOUS":
                raise TypeError(f"X has unsupported dtype {arr.dtype}")
            frame = pd.DataFrame(arr)
            if arr.dtype.kind in "US":
                frame = frame.astype(object)
            return frame, {"kind": "ndarray", "dtype": arr.dtype.str}
        raise TypeError(f"X must be a pandas DataFrame or a 2-D array-like, got {type(X).__name__}")

    def check_frame(self, frame: pd.DataFrame) -> list[str]:
        """Validate every column's content; returns the storage name of each column.

        Raises a ``TypeError`` (unsupported dtype, mixed object column) or
        ``ValueError`` (infinite values, a column with no values at all) that
        names the column.
        """
        storages = []
        for name, series in frame.items():
            storage = _storage_of(series)
            miss = _missing(series)
            if len(series) and miss.all():
                raise ValueError(
                    f"column {_name(name)} is entirely missing (all {len(series)} values are NaN/None); drop it"
                )
            if storage in ("float", "nullable_float", "object_numeric"):
                vals = pd.to_numeric(series, errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
                inf = np.isinf(vals)
                if inf.any():
                    first = int(np.flatnonzero(inf)[0])
                    raise ValueError(
                        f"column {_name(name)} contains {int(inf.sum())} infinite value(s) (first at row {first}); "
                        "replace them (e.g. with NaN, which is supported)"
                    )
            storages.append(storage)
        return storages

    # ------------------------------------------------------------------- fit
    def fit(self, X) -> "TabularTransformer":
        """Learn each column's type and encoding from ``X`` (DataFrame or 2-D array)."""
        frame, layout = self.to_frame(X)
        if len(frame) == 0:
            raise ValueError("X is empty (0 rows)")
        storages = self.check_frame(frame)
        for name, v in (("max_modes", self.max_modes), ("max_categories", self.max_categories)):
            if not isinstance(v, (int, np.integer)) or v < (1 if name == "max_modes" else 2):
                raise ValueError(f"{name} must be an int >= {1 if name == 'max_modes' else 2}, got {v!r}")
        if not isinstance(self.discrete_threshold, (int, np.integer)) or self.discrete_threshold < 0:
            raise ValueError(f"discrete_threshold must be an int >= 0, got {self.discrete_threshold!r}")
        rng = np.random.default_rng(self.random_state)
        self.layout_ = layout
        self.columns_ = [self._fit_column(frame[c], s, rng) for c, s in zip(frame.columns, storages)]
        self._build_spans()
        return self

    def _fit_column(self, series: pd.Series, storage: str, rng: np.random.Generator) -> _Column:
        values, miss = _internal(series, storage)
        col = _Column(name=series.name, storage=storage, dtype=_dtype_str(series.dtype), kind="discrete",
                      has_missing=bool(miss.any()))
        if storage == "category":
            cats, cat_dtype = _index_to_json(series.cat.categories)
            col.categories, col.categories_dtype, col.ordered = cats, cat_dtype, bool(series.cat.ordered)
        present = values[~miss]
        if _is_numeric_storage(storage):
            uniq = np.unique(present)
            col.whole = bool(np.all(np.mod(present, 1) == 0)) if present.dtype.kind == "f" else True
            if uniq.size > self.discrete_threshold:
                self._fit_continuous(col, present.astype(np.float64), rng)
                return col
            self._fit_levels(col, present, uniq)
            return col
        uniq = pd.unique(present)
        if storage in ("object", "string"):
            uniq = np.array(sorted(uniq.tolist()), dtype=object)
        else:
            uniq = np.sort(uniq.astype(np.int64))
        self._fit_levels(col, present, uniq)
        return col

    def _fit_levels(self, col: _Column, present: np.ndarray, uniq: np.ndarray) -> None:
        col.kind = "discrete"
        codes = pd.Index(uniq).get_indexer(present)
        counts = np.bincount(codes, minlength=len(uniq))
        if len(uniq) > self.max_categories:
            order = np.argsort(-counts, kind="stable")
            keep, rest = order[: self.max_categories - 1], order[self.max_categories - 1 :]
            col.levels = to_jsonable(uniq[keep].tolist())
            col.other_levels = to_jsonable(uniq[rest].tolist())
            rest_counts = counts[rest].astype(np.float64)
            col.other_probs = (rest_counts / rest_counts.sum()).tolist()
        else:
            col.levels = to_jsonable(uniq.tolist())

    def _fit_continuous(self, col: _Column, x: np.ndarray, rng: np.random.Generator) -> None:
        col.kind = "continuous"
        col.minimum, col.maximum = float(x.min()), float(x.max())
        # work in scaled units so that huge or tiny magnitudes cannot overflow
        center = float(np.median(x))
        scale = float(np.max(np.abs(x - center)))
        if not np.isfinite(scale) or scale == 0.0:
            scale = float(np.max(np.abs(x))) or 1.0
            center = 0.0
        col.center, col.scale = center, scale
        means, stds, weights = fit_modes((x - center) / scale, self.max_modes, rng, whole=col.whole)
        col.means, col.stds, col.weights = means.tolist(), stds.tolist(), weights.tolist()

    def _build_spans(self) -> None:
        spans, discrete, starts, parts, tanh_pos, soft = [], [], [], [], [], []
        pos = 0
        for col in self.columns_:
            starts.append(pos)
            if col.kind == "continuous":
                spans.append(Span(pos, 1, "tanh"))
                spans.append(Span(pos + 1, col.width - 1, "softmax"))
                parts.append((len(tanh_pos), len(soft)))
                tanh_pos.append(pos)
                soft.append(spans[-1])
            else:
                span = Span(pos, col.width, "softmax")
                spans.append(span)
                discrete.append(span)
                parts.append((None, len(soft)))
                soft.append(span)
            pos += col.width
        self.output_dim = pos
        self.spans = spans
        self.discrete_spans = discrete
        self._starts = starts
        self._parts = parts  # per column: (index among tanh spans or None, index among softmax spans)
        self._tanh_pos = tanh_pos
        self._soft_spans = soft

    # ------------------------------------------------------------- transform
    def _check_fitted(self) -> None:
        if not hasattr(self, "columns_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("this TabularTransformer is not fitted yet; call fit(X) first")

    def transform(self, X, random_state=None) -> np.ndarray:
        """Encode ``X`` (same columns as in :meth:`fit`) to a float32 matrix ``(n, output_dim)``.

        Parameters
        ----------
        X : DataFrame or 2-D array
        random_state : int, optional
            Seeds the draw of each value's mode from its posterior (default:
            the transformer's ``random_state``).
        """
        self._check_fitted()
        frame, layout = self.to_frame(X)
        expected = [_label_from_json(c) for c in self.layout_.get("columns", [])] or list(range(len(self.columns_)))
        if list(frame.columns) != expected:
            raise ValueError(f"X has columns {list(frame.columns)}, but the transformer was fitted on {expected}")
        storages = self.check_frame(frame)
        rng = np.random.default_rng(self.random_state if random_state is None else random_state)
        out = np.zeros((len(frame), self.output_dim), dtype=np.float32)
        for col, start, storage, (_, series) in zip(self.columns_, self._starts, storages, frame.items()):
            if storage != col.storage and not (_is_numeric_storage(storage) and _is_numeric_storage(col.storage)):
                raise TypeError(f"column {_name(col.name)} was {col.dtype} when fitted, got {series.dtype}")
            values, miss = _internal(series, col.storage)
            if col.kind == "continuous":
                self._encode_continuous(col, values, miss, out, start, rng)
            else:
                self._encode_discrete(col, values, miss, out, start)
        return out

    def _encode_continuous(self, col, values, miss, out, start, rng) -> None:
        means, stds, weights = np.array(col.means), np.array(col.stds), np.array(col.weights)
        k = len(means)
        rows = np.flatnonzero(~miss)
        for lo in range(0, rows.size, _CHUNK):
            r = rows[lo : lo + _CHUNK]
            x = (values[r].astype(np.float64) - col.center) / col.scale
            post = mode_posterior(x, means, stds, weights)
            u = rng.random((r.size, 1))
            mode = np.minimum((np.cumsum(post, axis=1) < u).sum(axis=1), k - 1)
            alpha = np.clip((x - means[mode]) / (4.0 * stds[mode]), -0.99, 0.99)
            out[r, start] = alpha
            out[r, start + 1 + mode] = 1.0
        if col.has_missing:
            out[miss, start + 1 + k] = 1.0
        elif miss.any():
            raise ValueError(f"column {_name(col.name)} has missing values but had none when the transformer was fitted")

    def _encode_discrete(self, col, values, miss, out, start) -> None:
        idx = self._level_index(col, values, miss)
        out[np.arange(len(idx)), start + idx] = 1.0

    def _level_index(self, col: _Column, values: np.ndarray, miss: np.ndarray) -> np.ndarray:
        n_levels = len(col.levels)
        idx = np.full(len(values), -1, dtype=np.int64)
        ok = ~miss
        if col.storage in ("object", "string"):
            idx[ok] = pd.Index(col.levels, dtype=object).get_indexer(values[ok])
        else:
            idx[ok] = pd.Index(np.asarray(col.levels, dtype=values.dtype)).get_indexer(values[ok])
        unknown = ok & (idx < 0)
        if unknown.any() and col.has_other:
            idx[unknown] = n_levels
            unknown[:] = False
        if unknown.any():
            first = values[np.flatnonzero(unknown)[0]]
            raise ValueError(f"column {_name(col.name)} has a value not seen when the transformer was fitted: {first!r}")
        if miss.any():
            if not col.has_missing:
                raise ValueError(
                    f"column {_name(col.name)} has missing values but had none when the transformer was fitted"
                )
            idx[miss] = n_levels + int(col.has_other)
        return idx

    def discrete_codes(self, encoded: np.ndarray) -> np.ndarray:
        """Level index of every discrete column, ``(n, n_discrete)`` int64 (argmax of each one-hot)."""
        self._check_fitted()
        out = np.zeros((len(encoded), len(self.discrete_spans)), dtype=np.int64)
        for j, span in enumerate(self.discrete_spans):
            out[:, j] = np.argmax(encoded[:, span.start : span.start + span.width], axis=1)
        return out

    # --------------------------------------------------------------- features
    def feature_matrix(self, X) -> np.ndarray:
        """A plain numeric view of ``X`` for a quick downstream model: one float column per column.

        Continuous columns give their values (datetimes in ns), discrete
        columns their level index (``other`` and unseen rare levels: the index
        after the kept levels; unseen levels without an ``other`` bucket and
        missing values: NaN). :meth:`encoded_features` gives the same view of
        encoded rows, so real and generated rows are comparable.
        """
        self._check_fitted()
        frame, _ = self.to_frame(X)
        out = np.full((len(frame), len(self.columns_)), np.nan, dtype=np.float64)
        for j, (col, (_, series)) in enumerate(zip(self.columns_, frame.items())):
            values, miss = _internal(series, col.storage)
            if col.kind == "continuous":
                out[:, j] = np.where(miss, np.nan, values.astype(np.float64))
                continue
            idx = np.full(len(values), -1, dtype=np.int64)
            ok = ~miss
            if col.storage in ("object", "string"):
                idx[ok] = pd.Index(col.levels, dtype=object).get_indexer(values[ok])
            else:
                idx[ok] = pd.Index(np.asarray(col.levels, dtype=values.dtype)).get_indexer(values[ok])
            if col.has_other:
                idx[ok & (idx < 0)] = len(col.levels)
            out[:, j] = np.where(idx < 0, np.nan, idx)
        return out

    def encoded_features(self, encoded: np.ndarray) -> np.ndarray:
        """:meth:`feature_matrix` of encoded rows (real or generated), without decoding to a DataFrame."""
        self._check_fitted()
        E = np.asarray(encoded)
        out = np.empty((len(E), len(self.columns_)), dtype=np.float64)
        for j, (col, start) in enumerate(zip(self.columns_, self._starts)):
            block = E[:, start : start + col.width]
            if col.kind == "continuous":
                x, miss = self._decode_continuous(col, block[:, 0], np.argmax(block[:, 1:], axis=1))
                out[:, j] = np.where(miss, np.nan, x)
            else:
                idx = np.argmax(block, axis=1).astype(np.float64)
                if col.has_missing:
                    idx[idx == len(col.levels) + int(col.has_other)] = np.nan
                out[:, j] = idx
        return out

    def decoded_continuous(self, alpha, choice) -> list[tuple[int, np.ndarray, np.ndarray]]:
        """``(column index, value, missing)`` of each continuous column, before clipping and rounding."""
        self._check_fitted()
        out = []
        for i, (col, (t, j)) in enumerate(zip(self.columns_, self._parts)):
            if col.kind == "continuous":
                captured = {}

                def grab(x, m, captured=captured):
                    captured["x"] = x.copy()
                    return x

                _, miss = self._decode_continuous(col, np.asarray(alpha)[:, t], np.asarray(choice)[:, j], grab)
                out.append((i, captured["x"], miss))
        return out

    @property
    def continuous_columns(self) -> list[int]:
        """Indices of the continuous columns."""
        self._check_fitted()
        return [i for i, c in enumerate(self.columns_) if c.kind == "continuous"]

    @property
    def categorical_mask(self) -> np.ndarray:
        """True for the columns that :meth:`feature_matrix` gives as level indices."""
        self._check_fitted()
        return np.array([c.kind == "discrete" for c in self.columns_])

    def level_values(self, column: int) -> np.ndarray:
        """The values of a discrete column's levels as decoding returns them (object array).

        The kept levels first (their index is the one-hot position), then the
        rare levels merged into ``other`` (if any).

        Parameters
        ----------
        column : int
            Column index.

        Returns
        -------
        ndarray of object
        """
        self._check_fitted()
        col = self.columns_[column]
        if col.kind != "discrete":
            raise ValueError(f"column {_name(col.name)} is continuous; it has no levels")
        values = col.levels + col.other_levels
        if col.storage in ("object", "string"):
            arr = np.array(values, dtype=object)
        elif _is_numeric_storage(col.storage) and col.storage not in ("datetime", "timedelta"):
            arr = np.array(values, dtype=np.float64)
        else:
            arr = np.array(values, dtype=np.int64)
        restored = _restore(col, arr, np.zeros(len(arr), dtype=bool))
        return pd.Series(restored).to_numpy(dtype=object)

    # ------------------------------------------------------------------ inverse
    def inverse_transform(self, encoded, random_state=None, value_map=None):
        """Decode a matrix (real encodings or generator outputs) back to the fitted layout.

        One-hots are read by argmax, so soft generator outputs are fine.
        Returns a DataFrame with the original column names, order and dtypes,
        or an array of the original dtype when fitted on an array.
        ``random_state`` seeds the choice of a rare level for ``other``.
        """
        self._check_fitted()
        E = np.asarray(encoded)
        if E.ndim != 2 or E.shape[1] != self.output_dim:
            raise ValueError(f"encoded data must have shape (n, {self.output_dim}), got {E.shape}")
        alpha = np.empty((len(E), len(self._tanh_pos)), dtype=np.float32)
        choice = np.empty((len(E), len(self._soft_spans)), dtype=np.int64)
        for t, pos in enumerate(self._tanh_pos):
            alpha[:, t] = E[:, pos]
        for j, span in enumerate(self._soft_spans):
            choice[:, j] = np.argmax(E[:, span.start : span.start + span.width], axis=1)
        return self.inverse_from_parts(alpha, choice, random_state=random_state, value_map=value_map)

    def inverse_from_parts(self, alpha, choice, random_state=None, value_map=None):
        """Decode from the scalars and the chosen index of every one-hot span.

        ``alpha`` is ``(n, n_tanh)`` (the ``tanh`` spans in order) and
        ``choice`` ``(n, n_softmax)`` (the index picked in each ``softmax``
        span, in order); this is what the generator's sampling mode returns,
        so no ``(n, output_dim)`` matrix or argmax is needed. ``value_map``,
        if given, is called as ``value_map(column_index, x, missing)`` on each
        continuous column's decoded values before they are clipped and
        rounded, and returns the values to use (marginal calibration).
        """
        self._check_fitted()
        alpha, choice = np.asarray(alpha), np.asarray(choice)
        n = len(alpha)
        if alpha.shape != (n, len(self._tanh_pos)) or choice.shape != (n, len(self._soft_spans)):
            raise ValueError(
                f"expected alpha of shape (n, {len(self._tanh_pos)}) and choice of shape (n, {len(self._soft_spans)}), "
                f"got {alpha.shape} and {choice.shape}"
            )
        rng = np.random.default_rng(self.random_state if random_state is None else random_state)
        arrays = []
        for i, (col, (t, j)) in enumerate(zip(self.columns_, self._parts)):
            if col.kind == "continuous":
                mapper = None if value_map is None else (lambda x, m, i=i: value_map(i, x, m))
                values, miss = self._decode_continuous(col, alpha[:, t], choice[:, j], mapper)
            else:
                values, miss = self._decode_discrete(col, choice[:, j], rng)
            arrays.append(_restore(col, values, miss))
        return self._assemble(arrays, n)

    def _decode_continuous(self, col: _Column, alpha: np.ndarray, choice: np.ndarray, mapper=None):
        k = len(col.means)
        miss = choice == k
        mode = np.minimum(choice, k - 1)
        means, stds = np.asarray(col.means), np.asarray(col.stds)
        a = np.clip(alpha.astype(np.float64), -1.0, 1.0)
        with np.errstate(over="ignore", invalid="ignore"):
            x = col.center + col.scale * (means[mode] + 4.0 * stds[mode] * a)
        if mapper is not None:
            x = mapper(x, miss)
        x = np.clip(x, col.minimum, col.maximum)
        if col.whole:
            x = np.rint(x)
        if col.storage in ("datetime", "timedelta"):
            x = np.where(miss, 0.0, x)
        return x, miss

    def _decode_discrete(self, col: _Column, idx: np.ndarray, rng: np.random.Generator):
        n_levels = len(col.levels)
        miss = (idx == n_levels + int(col.has_other)) if col.has_missing else np.zeros(len(idx), dtype=bool)
        if col.storage in ("object", "string"):
            levels = np.array(col.levels + col.other_levels + [None], dtype=object)
        elif _is_numeric_storage(col.storage) and col.storage not in ("datetime", "timedelta"):
            levels = np.array(col.levels + col.other_levels + [0], dtype=np.float64)
        else:
            levels = np.array(col.levels + col.other_levels + [0], dtype=np.int64)
        pick = np.where(miss, len(levels) - 1, np.minimum(idx, n_levels))
        if col.has_other:
            other = idx == n_levels
            if other.any():
                cdf = np.cumsum(col.other_probs)
                drawn = np.searchsorted(cdf, rng.random(int(other.sum())) * cdf[-1], side="right")
                pick[other] = n_levels + np.minimum(drawn, len(col.other_levels) - 1)
        return levels[pick], miss

    def _assemble(self, arrays: list, n: int):
        if self.layout_["kind"] == "ndarray":
            dtype = np.dtype(self.layout_["dtype"])
            if not arrays:
                return np.zeros((n, 0), dtype=dtype)
            cols = [np.asarray(a, dtype=object) if dtype == object else np.asarray(a) for a in arrays]
            return np.column_stack(cols).astype(dtype, copy=False) if n else np.zeros((0, len(cols)), dtype=dtype)
        names = [_label_from_json(c) for c in self.layout_["columns"]]
        df = pd.DataFrame({i: a for i, a in enumerate(arrays)}, index=pd.RangeIndex(n))
        df.columns = pd.Index(names, tupleize_cols=False) if not any(isinstance(c, tuple) for c in names) else pd.MultiIndex.from_tuples(names)
        if self.layout_.get("columns_name") is not None:
            df.columns.name = _label_from_json(self.layout_["columns_name"])
        return df

    # ---------------------------------------------------------- persistence
    def get_state(self) -> dict:
        """The fitted transformer as a JSON-able dict."""
        self._check_fitted()
        return {
            "params": {"max_modes": self.max_modes, "discrete_threshold": self.discrete_threshold,
                       "max_categories": self.max_categories,
                       "random_state": self.random_state if isinstance(self.random_state, numbers.Integral) else None},
            "layout": self.layout_,
            "columns": [c.to_json() for c in self.columns_],
        }

    @classmethod
    def from_state(cls, state: dict) -> "TabularTransformer":
        """Rebuild a fitted transformer from :meth:`get_state`."""
        tt = cls(**state["params"])
        tt.layout_ = state["layout"]
        tt.columns_ = [_Column.from_json(c) for c in state["columns"]]
        tt._build_spans()
        return tt

    # ------------------------------------------------------------- summaries
    @property
    def column_names(self) -> list:
        self._check_fitted()
        return [c.name for c in self.columns_]

    def describe(self) -> pd.DataFrame:
        """One row per column: storage, kind, number of modes or levels, missing, width."""
        self._check_fitted()
        return pd.DataFrame(
            {
                "column": [c.name for c in self.columns_],
                "dtype": [c.dtype for c in self.columns_],
                "kind": [c.kind for c in self.columns_],
                "modes_or_levels": [len(c.means) if c.kind == "continuous" else len(c.levels) for c in self.columns_],
                "other_bucket": [c.has_other for c in self.columns_],
                "missing": [c.has_missing for c in self.columns_],
                "width": [c.width for c in self.columns_],
            }
        )
