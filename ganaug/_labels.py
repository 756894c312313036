"""Target (``y``) handling shared by the augmenters and the modality classifiers: validation, encoding, round trip.

It sits at package level, beside :mod:`ganaug.io`, so that the modalities
(``image/``, ``timeseries/``), ``data/`` and ``augment/`` can all use it while
imports keep pointing down the layers (see DESIGN.md): a modality never
imports the augmenters. :mod:`ganaug.augment._labels` re-exports it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ganaug.io import to_jsonable

__all__ = [
    "LabelFormat",
    "allocate_counts",
    "classes_from_json",
    "classes_to_json",
    "encode_labels",
    "label_repr",
    "squeeze_labels",
]


class LabelFormat:
    """Remembers the container and dtype of ``y`` so outputs come back alike.

    Kinds: ``"series"`` (name and dtype, categories included, are kept),
    ``"ndarray"`` (dtype kept) and ``"list"`` (returned as an ndarray).
    """

    def __init__(self, kind: str, dtype: Any, name: Any = None, categories: list | None = None, ordered: bool = False):
        self.kind = kind
        self.dtype = dtype
        self.name = name
        self.categories = categories
        self.ordered = ordered

    @classmethod
    def of(cls, y) -> "LabelFormat":
        if isinstance(y, pd.Series):
            if isinstance(y.dtype, pd.CategoricalDtype):
                return cls("series", "category", y.name, list(y.cat.categories), bool(y.cat.ordered))
            return cls("series", y.dtype, y.name)
        if isinstance(y, np.ndarray):
            return cls("ndarray", y.dtype)
        return cls("list", None)

    def build(self, values: np.ndarray):
        """Wrap label values (drawn from ``classes_``) in the remembered container."""
        if self.kind == "series":
            if self.dtype == "category":
                dtype = pd.CategoricalDtype(self.categories, ordered=self.ordered)
                return pd.Series(pd.Categorical(values, dtype=dtype), name=self.name)
            return pd.Series(values, name=self.name).astype(self.dtype)
        if self.kind == "ndarray":
            return np.asarray(values).astype(self.dtype, copy=False)
        return np.asarray(values)

    def concat(self, y_original, y_new):
        """Original labels first, new ones after, in the original's container."""
        if self.kind == "series":
            return pd.concat([y_original.reset_index(drop=True), y_new.reset_index(drop=True)], ignore_index=True)
        if self.kind == "ndarray":
            return np.concatenate([y_original, y_new.astype(y_original.dtype, copy=False)])
        return np.concatenate([np.asarray(y_original), np.asarray(y_new)])

    def to_json(self) -> dict:
        name = self.name if (self.name is None or isinstance(self.name, (str, int, float))) else str(self.name)
        return {
            "kind": self.kind,
            "dtype": None if self.dtype is None else str(self.dtype),
            "name": to_jsonable(name),
            "categories": to_jsonable(self.categories) if self.categories is not None else None,
            "ordered": self.ordered,
        }

    @classmethod
    def from_json(cls, d: dict) -> "LabelFormat":
        dtype = d["dtype"]
        if dtype not in (None, "category"):
            dtype = pd.api.types.pandas_dtype(dtype)
        return cls(d["kind"], dtype, d.get("name"), d.get("categories"), bool(d.get("ordered", False)))


def squeeze_labels(y):
    """A one-column DataFrame becomes its Series; anything else is returned as it is."""
    if isinstance(y, pd.DataFrame):
        if y.shape[1] != 1:
            raise ValueError(f"y must be 1-dimensional; got a DataFrame with {y.shape[1]} columns")
        return y.iloc[:, 0]
    return y


def _label_array(y) -> np.ndarray:
    if isinstance(y, pd.Series):
        if isinstance(y.dtype, pd.CategoricalDtype):
            return np.asarray(y.astype(object))
        return y.to_numpy()
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        raise ValueError(f"y must be 1-dimensional, got shape {arr.shape}; use y.ravel()")
    if arr.ndim != 1:
        raise ValueError(f"y must be 1-dimensional, got shape {arr.shape}")
    return arr


def encode_labels(y, n_rows: int) -> tuple[np.ndarray, np.ndarray, LabelFormat]:
    """Validate ``y`` and return ``(classes, codes, format)``.

    Raises a ``ValueError`` that names the problem for: wrong length, missing
    labels, a continuous float target, or mixed label types.
    """
    if isinstance(y, (str, bytes)) or np.isscalar(y):
        raise TypeError(f"y must be an array-like of labels, got {type(y).__name__}")
    y = squeeze_labels(y)
    fmt = LabelFormat.of(y)
    arr = _label_array(y)
    if len(arr) != n_rows:
        raise ValueError(f"X has {n_rows} rows but y has {len(arr)} labels; they must match")
    if len(arr) == 0:
        raise ValueError("y is empty")
    missing = pd.isna(arr)
    if missing.any():
        first = int(np.flatnonzero(missing)[0])
        raise ValueError(f"y has {int(missing.sum())} missing labels (first at position {first}); drop or label those rows")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)):
            raise ValueError("y contains infinite values")
        if np.any(arr != np.round(arr)) and len(np.unique(arr)) > max(20, len(arr) // 2):
            raise ValueError("y looks continuous (many non-integer float values); augmenters need class labels")
    if arr.dtype == object:
        types = {type(v) for v in arr}
        if len(types) > 1 and not all(issubclass(t, (int, np.integer)) for t in types):
            raise TypeError(f"y mixes label types {sorted(t.__name__ for t in types)}; use one type for all labels")
    try:
        classes, codes = np.unique(arr, return_inverse=True)
    except TypeError as exc:
        raise TypeError(f"labels in y cannot be compared with each other: {exc}") from None
    return classes, codes.astype(np.int64).ravel(), fmt


def label_repr(label) -> str:
    """``repr`` of a label as the user wrote it (``'b'``, not ``np.str_('b')``)."""
    return repr(label.item() if isinstance(label, np.generic) else label)


def allocate_counts(n: int, proportions: np.ndarray) -> np.ndarray:
    """Split ``n`` into integer counts by ``proportions`` (largest remainder; sums to ``n``).

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug._labels import allocate_counts
    >>> allocate_counts(10, np.array([0.7, 0.2, 0.1])).tolist()
    [7, 2, 1]
    """
    p = np.asarray(proportions, dtype=float)
    p = p / p.sum()
    raw = n * p
    counts = np.floor(raw).astype(np.int64)
    rest = int(n - counts.sum())
    if rest > 0:
        order = np.argsort(-(raw - counts), kind="stable")
        counts[order[:rest]] += 1
    return counts


def classes_to_json(classes: np.ndarray) -> dict:
    return {"dtype": str(classes.dtype), "values": to_jsonable(classes.tolist())}


def classes_from_json(d: dict) -> np.ndarray:
    dtype = np.dtype(d["dtype"])
    values = d["values"]
    if dtype.kind == "f":
        values = [float(v) for v in values]
    return np.array(values, dtype=dtype)
