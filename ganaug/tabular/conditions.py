"""Conditions on feature values for ``TabularAugmenter.sample(n, conditions=...)``.

Two forms:

* a dict ``{column: value}`` applied to every requested row; a value is a
  scalar (an exact value) or a pair ``(low, high)``: the **closed** interval
  ``low <= x <= high`` (numeric, datetime and timedelta columns);
* a DataFrame with one row per requested row; each cell is the exact value
  wanted in that row, and a missing cell (NaN/None) means "no condition".

How a condition is met:

* an exact value of a **discrete** column (category, text, bool, or a
  number column with few distinct values) is produced by construction: the
  generator is given that level in its condition vector (the same vector it
  was trained with, training-by-sampling), so the other columns are generated
  to go with it, and the decoded column is set to that level;
* a value or range of a **continuous** column (and a level merged into the
  ``other`` bucket of a high-cardinality column) is met by rejection: rows
  outside are drawn again, at most ``max_tries`` rounds.

Every returned row satisfies its condition. A column the model was not
trained on, a value never seen in training, or a range that does not meet
the training range is refused with a ``ValueError`` before anything is drawn.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ganaug.tabular.transformer import _internal, _is_numeric_storage, _storage_of

__all__ = ["ConditionSchema", "Conditions", "ForcedLevels"]

_SHOW = 10


def _is_missing_scalar(v) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):  # arrays, lists: not a scalar
        return False


@dataclass
class ForcedLevels:
    """Levels imposed on the generator, per row: the condition-vector category and the decoded one-hots.

    Attributes
    ----------
    cats : ndarray of int, shape (n,)
        Global category id for the generator's condition vector (-1: draw as usual).
    columns : list of (int, int, int, ndarray)
        ``(softmax span index, encoded start, width, level)`` per forced
        column; ``level`` is the one-hot index per row (-1: not forced).
    """

    cats: np.ndarray
    columns: list = field(default_factory=list)

    def take(self, idx: np.ndarray) -> "ForcedLevels":
        """The rows ``idx`` (candidate rows drawn for target rows).

        Parameters
        ----------
        idx : ndarray of int

        Returns
        -------
        ForcedLevels
        """
        return ForcedLevels(self.cats[idx], [(j, s, w, lev[idx]) for j, s, w, lev in self.columns])


@dataclass
class _Level:
    pos: int
    name: object
    values: np.ndarray  # object (n,), the canonical level value
    level: np.ndarray  # int (n,), one-hot index (-1: none; len(levels): the "other" bucket)
    has: np.ndarray  # bool (n,)

    def take(self, idx):
        return _Level(self.pos, self.name, self.values[idx], self.level[idx], self.has[idx])


@dataclass
class _Range:
    pos: int
    name: object
    storage: str
    lo: np.ndarray
    hi: np.ndarray
    has: np.ndarray

    def take(self, idx):
        return _Range(self.pos, self.name, self.storage, self.lo[idx], self.hi[idx], self.has[idx])


class Conditions:
    """Resolved conditions of one ``sample`` call: one entry per requested row (see :class:`ConditionSchema`).

    Parameters
    ----------
    n : int
        Number of rows.
    levels, ranges : list
        Exact-level and range conditions (internal records).
    """

    def __init__(self, n: int, levels: list, ranges: list) -> None:
        self.n = int(n)
        self.levels = levels
        self.ranges = ranges

    def take(self, idx: np.ndarray) -> "Conditions":
        """The conditions of rows ``idx``.

        Parameters
        ----------
        idx : ndarray of int

        Returns
        -------
        Conditions
        """
        return Conditions(len(idx), [c.take(idx) for c in self.levels], [c.take(idx) for c in self.ranges])

    def forced(self, transformer, sampler) -> ForcedLevels | None:
        """The levels the generator is told to produce (exact discrete conditions), or None.

        Parameters
        ----------
        transformer : TabularTransformer
        sampler : ConditionalSampler

        Returns
        -------
        ForcedLevels or None
        """
        if not self.levels:
            return None
        discrete_index = np.cumsum(transformer.categorical_mask) - 1
        cats = np.full(self.n, -1, dtype=np.int64)
        columns = []
        for cond in reversed(self.levels):  # the first condition wins the condition vector
            d = int(discrete_index[cond.pos])
            span = transformer.discrete_spans[d]
            lev = np.where(cond.has, cond.level, -1)
            cats = np.where(lev >= 0, int(sampler.level_offsets[d]) + lev, cats)
            columns.append((cond.pos, span.start, span.width, lev))
        return ForcedLevels(cats, columns[::-1])

    def _column_ok(self, frame: pd.DataFrame) -> list[tuple[str, np.ndarray]]:
        out = []
        for c in self.levels:
            eq = _object_equal(frame.iloc[:, c.pos].to_numpy(dtype=object), c.values)
            wanted = pd.unique(pd.Series(c.values[c.has], dtype=object))
            shown = f"== {wanted[0]!r}" if len(wanted) == 1 else "== its value"
            out.append((f"{c.name!r} {shown}", eq | ~c.has))
        for c in self.ranges:
            vals, miss = _internal(frame.iloc[:, c.pos], c.storage)
            with np.errstate(invalid="ignore"):
                inside = (vals >= c.lo) & (vals <= c.hi) & ~miss
            lo, hi = np.unique(c.lo[c.has]), np.unique(c.hi[c.has])
            shown = (f"in [{lo[0]:g}, {hi[0]:g}]" if lo.size == 1 and hi.size == 1 and c.lo.dtype.kind == "f"
                     else "in its range")
            out.append((f"{c.name!r} {shown}", inside | ~c.has))
        return out

    def is_valid(self, frame: pd.DataFrame) -> np.ndarray:
        """True for the rows of ``frame`` (row ``i`` for condition row ``i``) that meet their conditions.

        Parameters
        ----------
        frame : DataFrame

        Returns
        -------
        ndarray of bool
        """
        ok = np.ones(len(frame), dtype=bool)
        for _, mask in self._column_ok(frame):
            ok &= mask
        return ok

    def violations(self, frame: pd.DataFrame) -> list[tuple[str, float]]:
        """``(condition, share of rows missing it)`` for error messages.

        Parameters
        ----------
        frame : DataFrame

        Returns
        -------
        list of (str, float)
        """
        n = max(len(frame), 1)
        return [(f"condition {name}", float((~mask).sum()) / n) for name, mask in self._column_ok(frame)]


def _object_equal(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise ``a == b`` of two object arrays; a missing value equals nothing."""
    miss = pd.isna(a) | pd.isna(b)
    a, b = a.copy(), b.copy()
    a[miss], b[miss] = None, 0  # None == 0 is False: no NA reaches ==
    with np.errstate(all="ignore"):
        res = np.asarray(a == b)
    if res.dtype != bool:  # pragma: no cover - values whose == is not a bool
        res = np.array([v is True or v is np.True_ for v in res.ravel()], dtype=bool)
    return res & ~miss


class ConditionSchema:
    """What ``sample(conditions=...)`` may ask of a fitted model: column names, kinds and training ranges.

    Parameters
    ----------
    names : list
        Column names in training order.
    ranges : dict
        ``{position: (storage, dtype, min, max)}`` for every numeric,
        datetime and timedelta column (internal units: float, or int ns).
    replaced : list of int
        Positions of columns the model learns as differences (constraint
        reparametrisation): conditions on them are met by rejection.

    Examples
    --------
    >>> import pandas as pd
    >>> from ganaug.tabular.conditions import ConditionSchema
    >>> schema = ConditionSchema.fit(pd.DataFrame({"Amount": [800, 1000, 2000], "Home": ["rent", "own", "rent"]}))
    >>> schema.ranges[0][2:]
    (800.0, 2000.0)
    """

    def __init__(self, names: list, ranges: dict, replaced: list) -> None:
        self.names = list(names)
        self.ranges = {int(k): tuple(v) for k, v in ranges.items()}
        self.replaced = [int(p) for p in replaced]

    @classmethod
    def fit(cls, frame: pd.DataFrame, replaced_columns=()) -> "ConditionSchema":
        """Learn the schema from the (original) training table.

        Parameters
        ----------
        frame : DataFrame
        replaced_columns : sequence
            Names of reparametrised columns.

        Returns
        -------
        ConditionSchema
        """
        ranges = {}
        for pos, (_, series) in enumerate(frame.items()):
            storage = _storage_of(series)
            if not _is_numeric_storage(storage):
                continue
            vals, miss = _internal(series, storage)
            present = vals[~miss]
            if present.size:
                cast = float if storage not in ("datetime", "timedelta") else int
                ranges[pos] = (storage, str(series.dtype), cast(present.min()), cast(present.max()))
        names = list(frame.columns)
        replaced = [names.index(c) for c in replaced_columns]
        return cls(names, ranges, replaced)

    @classmethod
    def from_transformer(cls, transformer) -> "ConditionSchema":
        """The schema of a model saved before conditions existed: training ranges from the fitted encoder.

        Parameters
        ----------
        transformer : TabularTransformer

        Returns
        -------
        ConditionSchema
        """
        ranges = {}
        for pos, col in enumerate(transformer.columns_):
            if not _is_numeric_storage(col.storage):
                continue
            cast = int if col.storage in ("datetime", "timedelta") else float
            if col.kind == "continuous":
                ranges[pos] = (col.storage, col.dtype, cast(col.minimum), cast(col.maximum))
            elif col.levels or col.other_levels:
                values = [float(v) for v in col.levels + col.other_levels]
                ranges[pos] = (col.storage, col.dtype, cast(min(values)), cast(max(values)))
        return cls(transformer.column_names, ranges, [])

    def get_state(self) -> dict:
        """JSON form (column names are stored by the transformer; only positions here).

        Returns
        -------
        dict
        """
        return {"ranges": [[k, *v] for k, v in self.ranges.items()], "replaced": self.replaced}

    @classmethod
    def from_state(cls, state: dict, names: list) -> "ConditionSchema":
        """Rebuild from :meth:`get_state` and the column names.

        Parameters
        ----------
        state : dict
        names : list

        Returns
        -------
        ConditionSchema
        """
        return cls(names, {r[0]: tuple(r[1:]) for r in state["ranges"]}, state["replaced"])

    # ---------------------------------------------------------- resolving
    def _position(self, name) -> int:
        if not isinstance(name, (bool, np.bool_)):
            for pos, known in enumerate(self.names):  # a loop over columns
                if isinstance(known, str) == isinstance(name, str) and known == name:
                    return pos
        raise ValueError(f"conditions name unknown column {name!r}; the model's columns are {self.names}")

    def _to_internal(self, value, pos: int, name):
        """A scalar condition value in the column's internal units (float, or int ns)."""
        storage, dtype, lo, hi = self.ranges[pos]
        if storage in ("datetime", "timedelta"):
            try:
                if storage == "datetime":
                    ts = pd.Timestamp(value)
                    tz = getattr(pd.api.types.pandas_dtype(dtype), "tz", None)
                    if tz is not None and ts.tz is None:
                        ts = ts.tz_localize(tz)
                    elif tz is None and ts.tz is not None:
                        raise TypeError(f"condition on {name!r}: {value!r} has a time zone, the column has none")
                    return int(ts.as_unit("ns").value)
                return int(pd.Timedelta(value).as_unit("ns").value)
            except (ValueError, OverflowError) as exc:
                raise TypeError(f"condition on {name!r}: {value!r} is not a {storage} value ({exc})") from None
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise TypeError(f"condition on the numeric column {name!r} must be a number or a (low, high) pair of "
                            f"numbers, got {type(value).__name__} {value!r}")
        f = float(value)
        if not np.isfinite(f):
            raise ValueError(f"condition on {name!r} must be finite, got {value!r}")
        return f

    def _show(self, pos: int, v) -> str:
        storage = self.ranges[pos][0]
        if storage == "datetime":
            return str(pd.Timestamp(int(v)))
        if storage == "timedelta":
            return str(pd.Timedelta(int(v)))
        return f"{v:g}"

    def _range(self, pos: int, name, lo: np.ndarray, hi: np.ndarray, has: np.ndarray) -> _Range:
        storage, _, tmin, tmax = self.ranges[pos]
        bad = has & (lo > hi)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"condition on {name!r}: low {self._show(pos, lo[i])} is above high "
                             f"{self._show(pos, hi[i])}")
        outside = has & ((hi < tmin) | (lo > tmax))
        if outside.any():
            i = int(np.flatnonzero(outside)[0])
            what = (f"value {self._show(pos, lo[i])}" if lo[i] == hi[i]
                    else f"range [{self._show(pos, lo[i])}, {self._show(pos, hi[i])}]")
            raise ValueError(f"condition on {name!r}: {what} was never seen in training (training values span "
                             f"[{self._show(pos, tmin)}, {self._show(pos, tmax)}])")
        return _Range(pos, name, storage, lo, hi, has)

    def _levels(self, transformer, pos: int, name, values: np.ndarray, has: np.ndarray) -> _Level:
        col = transformer.columns_[pos]
        known = transformer.level_values(pos)
        n_kept = len(col.levels)
        level = np.full(len(values), -1, dtype=np.int64)
        canon = np.empty(len(values), dtype=object)
        distinct = pd.unique(pd.Series(values[has], dtype=object))
        time = self.ranges.get(pos, ("",))[0] in ("datetime", "timedelta")
        for v in distinct:  # a loop over the distinct requested values, not over rows
            if time and not _is_missing_scalar(v):  # "2024-01-01" for a date column with few dates
                ns = self._to_internal(v, pos, name)
                probe = pd.Series([ns], dtype="int64").astype(
                    "datetime64[ns]" if self.ranges[pos][0] == "datetime" else "timedelta64[ns]")
                tz = getattr(pd.api.types.pandas_dtype(self.ranges[pos][1]), "tz", None)
                if tz is not None:
                    probe = probe.dt.tz_localize("UTC").dt.tz_convert(tz)
                rows_v = has & _object_equal(values, np.full(len(values), v, dtype=object))
                v = probe.astype(self.ranges[pos][1]).iloc[0]
                values = values.copy()
                values[rows_v] = v
            match = np.flatnonzero(_object_equal(known, np.full(len(known), v, dtype=object)))
            if not match.size:
                shown = known[:_SHOW].tolist()
                more = f" (and {len(known) - _SHOW} more)" if len(known) > _SHOW else ""
                raise ValueError(f"condition {name!r} == {v!r}: this value was never seen in training; seen "
                                 f"values: {shown}{more}")
            i = int(match[0])
            rows = has & _object_equal(values, np.full(len(values), v, dtype=object))
            level[rows] = min(i, n_kept)  # a rare level is drawn through the "other" bucket, then checked
            canon[rows] = known[i]
        return _Level(pos, name, canon, level, has)

    def parse_text(self, name: str, text: str, transformer):
        """A condition written as text (command line): ``VALUE`` or ``LOW..HIGH`` (closed interval).

        Parameters
        ----------
        name : str
            Column name as text (an int column name of an array model is read as an int).
        text : str
        transformer : TabularTransformer

        Returns
        -------
        tuple
            ``(column name, value)`` where value is a scalar or a ``(low, high)`` pair, ready for :meth:`resolve`.
        """
        known = {str(c): c for c in self.names}
        if name not in known:
            raise ValueError(f"--where names unknown column {name!r}; the model's columns are {self.names}")
        column = known[name]
        pos = self.names.index(column)
        discrete = bool(transformer.categorical_mask[pos]) and pos not in self.replaced

        def one(t: str):
            t = t.strip()
            if discrete:
                levels = transformer.level_values(pos)
                for v in levels:  # the levels of one column
                    if str(v) == t:
                        return v
                if pos in self.ranges:
                    try:
                        return float(t)
                    except ValueError:
                        pass
                return t  # resolve() refuses it with the list of seen values
            if pos in self.ranges and self.ranges[pos][0] in ("datetime", "timedelta"):
                return t
            try:
                return float(t)
            except ValueError:
                raise ValueError(f"--where {name}={text}: {t!r} is not a number") from None

        if ".." in text and pos in self.ranges:
            lo, _, hi = text.partition("..")
            return column, (one(lo), one(hi))
        return column, one(text)

    def resolve(self, conditions, n: int, transformer) -> Conditions:
        """Check ``conditions`` against the model and expand them to one entry per requested row.

        Parameters
        ----------
        conditions : dict or DataFrame
            See the module docstring.
        n : int
            Number of requested rows (a DataFrame must have exactly ``n`` rows).
        transformer : TabularTransformer
            The fitted encoder (levels of the discrete columns).

        Returns
        -------
        Conditions

        Raises
        ------
        ValueError
            Unknown column, value never seen in training, empty interval,
            wrong number of condition rows.
        TypeError
            A value of the wrong type, or conditions that are neither a dict nor a DataFrame.
        """
        discrete = transformer.categorical_mask
        if n == 0 and isinstance(conditions, dict):  # still check the values when nothing is asked for
            return self.resolve(conditions, 1, transformer).take(np.arange(0))
        levels, ranges = [], []
        if isinstance(conditions, pd.DataFrame):
            if len(conditions) != n:
                raise ValueError(f"a DataFrame of conditions gives one row per requested row: it has "
                                 f"{len(conditions)} rows for {n} requested")
            if conditions.columns.has_duplicates:
                raise ValueError("the conditions DataFrame has duplicate column names")
            items = [(name, conditions[name].to_numpy(dtype=object), False) for name in conditions.columns]
        elif isinstance(conditions, dict):
            if not conditions:
                raise ValueError("conditions is an empty dict; pass None for no conditions")
            items = []
            for name, value in conditions.items():
                if isinstance(value, (tuple, list)):
                    if len(value) != 2:
                        raise ValueError(f"condition on {name!r}: a range is a (low, high) pair, got {value!r}")
                    items.append((name, value, True))
                elif isinstance(value, (dict, set, np.ndarray, pd.Series)):
                    raise TypeError(f"condition on {name!r} must be a value or a (low, high) pair, got "
                                    f"{type(value).__name__}")
                else:
                    if _is_missing_scalar(value):
                        raise ValueError(f"condition on {name!r} is missing (NaN/None); give a value")
                    items.append((name, np.full(n, value, dtype=object), False))
        else:
            raise TypeError(f"conditions must be a dict {{column: value or (low, high)}} or a DataFrame with one "
                            f"row per requested row, got {type(conditions).__name__}")
        for name, value, is_range in items:
            pos = self._position(name)
            numeric = pos in self.ranges
            as_level = bool(discrete[pos]) and pos not in self.replaced and not is_range
            if is_range:
                if not numeric:
                    raise TypeError(f"condition on {name!r}: a (low, high) range needs a numeric, datetime or "
                                    "timedelta column")
                lo_v, hi_v = value
                if _is_missing_scalar(lo_v) or _is_missing_scalar(hi_v):
                    raise ValueError(f"condition on {name!r}: range bounds must not be missing, got {value!r}")
                lo, hi = self._to_internal(lo_v, pos, name), self._to_internal(hi_v, pos, name)
                dtype = np.int64 if isinstance(lo, int) and isinstance(hi, int) and self.ranges[pos][0] in (
                    "datetime", "timedelta") else np.float64
                ranges.append(self._range(pos, name, np.full(n, lo, dtype=dtype), np.full(n, hi, dtype=dtype),
                                          np.ones(n, dtype=bool)))
                continue
            has = ~pd.isna(pd.Series(value, dtype=object)).to_numpy()
            if as_level:
                levels.append(self._levels(transformer, pos, name, value, has))
                continue
            if not numeric:  # pragma: no cover - every non-numeric column is discrete
                raise TypeError(f"condition on {name!r}: unsupported column")
            time = self.ranges[pos][0] in ("datetime", "timedelta")
            internal = np.zeros(n, dtype=np.int64 if time else np.float64)
            present = pd.unique(pd.Series(value[has], dtype=object))
            lookup = {}
            for v in present:  # distinct values only
                lookup[v] = self._to_internal(v, pos, name)
            if has.any():
                internal[has] = pd.Series(value[has], dtype=object).map(lookup).to_numpy(dtype=internal.dtype)
            ranges.append(self._range(pos, name, internal, internal.copy(), has))
        return Conditions(n, levels, ranges)
