"""Constraints on generated rows: rules every synthetic row must obey.

Pass them to :class:`ganaug.augment.tabular.TabularAugmenter` as
``constraints=[...]``. At ``fit`` every constraint is checked against the
training rows (a constraint the real data break is refused before training,
with the number of violating rows and the first of them); afterwards **no row
returned by** ``sample``, ``fit_resample``, ``iter_samples`` or
``sample_to_file`` violates one.

Two ways of enforcing a constraint:

* **reparametrisation** (:class:`Inequality` between two numeric or two
  datetime columns without missing values): the GAN is trained on
  ``high - low`` instead of ``high``; this difference is never below its
  training minimum (decoded values are clipped to the training range), and
  ``high = low + difference`` is rebuilt after decoding, so the rule holds by
  construction and no row is thrown away;
* **rejection** (every other case): rows that break a constraint are drawn
  again, at most ``max_tries`` rounds (a parameter of the augmenter), and a
  clear ``ValueError`` says which constraints fail how often when too few rows
  pass to finish.

A missing value in a column that :class:`Inequality`, :class:`Range`,
:class:`Positive` or :class:`Negative` compares makes the rule not apply to
that row (the row is valid), as in SDV. :class:`FixedCombinations` treats a
missing value as one more value.

Constraints are saved with the model as JSON (``to_dict`` /
:func:`constraint_from_dict`); :class:`Custom` holds a Python function and
cannot be saved.

Examples
--------
>>> import pandas as pd
>>> from ganaug.tabular.constraints import Inequality, Positive
>>> df = pd.DataFrame({"Amount": [800, 1000, 2000], "Price": [846, 900, 2985]})
>>> Inequality("Amount", "Price").is_valid(df).tolist()
[True, False, True]
>>> Positive("Amount", strict=True).to_dict()
{'type': 'Positive', 'column': 'Amount', 'strict': True}
"""

from __future__ import annotations

import operator

import numbers
import numpy as np
import pandas as pd

__all__ = [
    "Constraint",
    "Inequality",
    "Range",
    "FixedCombinations",
    "Positive",
    "Negative",
    "Custom",
    "ConstraintSet",
    "constraint_from_dict",
    "describe_violations",
    "parse_constraints",
]

_FIRST_ROWS = 5


# ------------------------------------------------------------------ helpers
def _check_name(value, what: str, owner: str):
    """A column name must be a str or an int (the names JSON can store)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (str, numbers.Integral)):
        raise TypeError(f"{owner}: {what} must be a column name (str, or int for arrays), got "
                        f"{type(value).__name__} {value!r}")
    return value.item() if isinstance(value, np.integer) else value


def _check_flag(value, what: str, owner: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}: {what} must be True or False, got {type(value).__name__} {value!r}")
    return bool(value)


def _family(series: pd.Series) -> str | None:
    """'number', 'datetime', 'timedelta' or None (not comparable by <=)."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(dtype):
        return None
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_timedelta64_dtype(dtype):
        return "timedelta"
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype):
        return "number"
    return None


def _as_bool(result) -> np.ndarray:
    """A comparison result (maybe a nullable BooleanArray) as a plain bool array, NA -> False."""
    if isinstance(result, pd.Series):
        return result.to_numpy(dtype=bool, na_value=False)
    return np.asarray(result, dtype=bool)


def _is_missing(series: pd.Series) -> np.ndarray:
    return series.isna().to_numpy()


def _constant_for(value, series: pd.Series, owner: str):
    """A constant bound, converted to something ``series`` compares with (numbers or timestamps)."""
    family = _family(series)
    if family == "number":
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise TypeError(f"{owner}: bound {value!r} must be a number for the numeric column {series.name!r}")
        if not np.isfinite(float(value)):
            raise ValueError(f"{owner}: bound {value!r} must be finite")
        return value
    if family == "datetime":
        try:
            ts = pd.Timestamp(value)
        except (TypeError, ValueError):
            raise TypeError(f"{owner}: bound {value!r} is neither a column nor a date/time for the datetime "
                            f"column {series.name!r}") from None
        if ts is pd.NaT:
            raise ValueError(f"{owner}: bound {value!r} must not be missing")
        tz = getattr(series.dtype, "tz", None)
        if tz is not None and ts.tz is None:
            ts = ts.tz_localize(tz)
        elif tz is None and ts.tz is not None:
            raise TypeError(f"{owner}: bound {value!r} has a time zone but column {series.name!r} has none")
        return ts
    if family == "timedelta":
        try:
            td = pd.Timedelta(value)
        except (TypeError, ValueError):
            raise TypeError(f"{owner}: bound {value!r} is neither a column nor a duration for the timedelta "
                            f"column {series.name!r}") from None
        if td is pd.NaT:
            raise ValueError(f"{owner}: bound {value!r} must not be missing")
        return td
    raise TypeError(f"{owner}: column {series.name!r} has dtype {series.dtype}; only numeric, datetime or "
                    "timedelta columns can be bounded")


def _bound_to_json(value):
    if isinstance(value, (pd.Timestamp, np.datetime64)) or hasattr(value, "isoformat"):
        return pd.Timestamp(value).isoformat()
    if isinstance(value, (pd.Timedelta, np.timedelta64)):
        return pd.Timedelta(value).isoformat()
    if isinstance(value, np.generic):
        return value.item()
    return value


# ---------------------------------------------------------------- the rules
class Constraint:
    """Base class of the constraints (use one of the subclasses).

    A subclass implements :meth:`is_valid` (a vectorised row check),
    :meth:`to_dict` and the column checks of :meth:`check_frame`.
    """

    #: columns the rule reads
    columns: tuple = ()

    def check_frame(self, frame: pd.DataFrame) -> None:
        """Raise ``ValueError`` (unknown column) or ``TypeError`` (wrong dtype) for this table.

        Parameters
        ----------
        frame : DataFrame
            The training table.
        """
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise ValueError(f"{self!r} names unknown column {missing[0]!r}; the columns are {list(frame.columns)}")

    def fit(self, frame: pd.DataFrame) -> dict:
        """Learn what the rule needs from the training rows (JSON-able state; most rules need none).

        Parameters
        ----------
        frame : DataFrame
            The training table.

        Returns
        -------
        dict
        """
        return {}

    def is_valid(self, frame: pd.DataFrame, state: dict | None = None) -> np.ndarray:  # pragma: no cover - abstract
        """True for every row of ``frame`` that satisfies the rule.

        Parameters
        ----------
        frame : DataFrame
            Rows to check (same columns as in training).
        state : dict, optional
            What :meth:`fit` returned.

        Returns
        -------
        ndarray of bool
        """
        raise NotImplementedError

    def to_dict(self) -> dict:  # pragma: no cover - abstract
        """The declaration as JSON (``{"type": ..., ...}``), read back by :func:`constraint_from_dict`.

        Returns
        -------
        dict
        """
        raise NotImplementedError

    def __repr__(self) -> str:
        d = self.to_dict()
        kind = d.pop("type")
        return f"{kind}({', '.join(f'{k}={v!r}' for k, v in d.items())})"

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and vars(other) == vars(self)

    def __hash__(self) -> int:
        return hash((type(self).__name__, repr(self)))


class Inequality(Constraint):
    """``low <= high`` (``low < high`` if ``strict``) between two numeric or two datetime columns.

    Enforced by reparametrisation when both columns share one dtype family
    (two integer, two float or two datetime columns with the same time zone)
    and neither has missing values: the model learns ``high - low``, which is
    never below its training minimum, and ``high`` is rebuilt as
    ``low + difference``. Otherwise by rejection. A row with a missing value
    in either column is valid.

    Parameters
    ----------
    low, high : str or int
        Column names.
    strict : bool, default=False

    Examples
    --------
    >>> import pandas as pd
    >>> from ganaug.tabular.constraints import Inequality
    >>> df = pd.DataFrame({"start": pd.to_datetime(["2024-01-01", "2024-03-01"]),
    ...                    "end": pd.to_datetime(["2024-02-01", "2024-03-01"])})
    >>> Inequality("start", "end", strict=True).is_valid(df).tolist()
    [True, False]
    """

    def __init__(self, low, high, strict: bool = False) -> None:
        owner = "Inequality"
        self.low = _check_name(low, "low", owner)
        self.high = _check_name(high, "high", owner)
        self.strict = _check_flag(strict, "strict", owner)
        if self.low == self.high:
            raise ValueError(f"Inequality: low and high are the same column {self.low!r}")

    @property
    def columns(self) -> tuple:
        return (self.low, self.high)

    def check_frame(self, frame: pd.DataFrame) -> None:
        """Both columns exist and are numeric, or both datetime (same time-zone awareness), or both timedelta.

        Parameters
        ----------
        frame : DataFrame
        """
        super().check_frame(frame)
        lo, hi = frame[self.low], frame[self.high]
        f_lo, f_hi = _family(lo), _family(hi)
        if f_lo is None or f_lo != f_hi:
            raise TypeError(f"{self!r} compares columns of dtypes {lo.dtype} and {hi.dtype}; both must be numeric, "
                            "both datetime or both timedelta")
        if f_lo == "datetime" and (getattr(lo.dtype, "tz", None) is None) != (getattr(hi.dtype, "tz", None) is None):
            raise TypeError(f"{self!r}: one column has a time zone and the other has none ({lo.dtype}, {hi.dtype})")

    def is_valid(self, frame: pd.DataFrame, state: dict | None = None) -> np.ndarray:
        """True where ``low <= high`` (``<`` if strict) or a value is missing.

        Parameters
        ----------
        frame : DataFrame
        state : dict, optional
            Unused.

        Returns
        -------
        ndarray of bool
        """
        lo, hi = frame[self.low], frame[self.high]
        ok = _as_bool(hi > lo) if self.strict else _as_bool(hi >= lo)
        return ok | _is_missing(lo) | _is_missing(hi)

    def to_dict(self) -> dict:
        """JSON form: ``{"type": "Inequality", "low": ..., "high": ..., "strict": ...}``.

        Returns
        -------
        dict
        """
        return {"type": "Inequality", "low": self.low, "high": self.high, "strict": self.strict}


class Range(Constraint):
    """``low <= column <= high`` (strict inequalities if ``strict``); bounds are constants or column names.

    Enforced by rejection (the generator's decoded values are also clipped to
    their training range, so constant bounds that the training data obey
    rarely reject anything). A row with a missing value in a compared column
    is valid.

    Parameters
    ----------
    column : str or int
        The bounded column (numeric, datetime or timedelta).
    low, high : str, number, date/time or None
        A ``str`` that names a column of the table is that column; any other
        value is a constant (a number, or a date/time such as
        ``"2024-01-01"`` for a datetime column). ``None``: no bound on that
        side (at least one bound is needed).
    strict : bool, default=False

    Examples
    --------
    >>> import pandas as pd
    >>> from ganaug.tabular.constraints import Range
    >>> df = pd.DataFrame({"Age": [17, 30, 99], "Retire": [65, 65, 70]})
    >>> Range("Age", 18, "Retire").is_valid(df).tolist()
    [False, True, False]
    """

    def __init__(self, column, low, high, strict: bool = False) -> None:
        owner = "Range"
        self.column = _check_name(column, "column", owner)
        for what, bound in (("low", low), ("high", high)):
            if bound is None or isinstance(bound, str):
                continue
            if isinstance(bound, (bool, np.bool_)):
                raise TypeError(f"Range: {what} must be a column name, a number or a date/time, got {bound!r}")
            if isinstance(bound, numbers.Real):
                if not np.isfinite(float(bound)):
                    raise ValueError(f"Range: {what} must be finite, got {bound!r}")
                continue
            if isinstance(bound, (pd.Timestamp, pd.Timedelta, np.datetime64, np.timedelta64)) or hasattr(
                    bound, "isoformat"):
                continue
            raise TypeError(f"Range: {what} must be a column name, a number or a date/time, got "
                            f"{type(bound).__name__} {bound!r}")
        if low is None and high is None:
            raise ValueError("Range: give at least one of low and high")
        if isinstance(low, numbers.Real) and isinstance(high, numbers.Real) and low > high:
            raise ValueError(f"Range: low={low!r} is above high={high!r}")
        self.low = low.item() if isinstance(low, np.generic) else low
        self.high = high.item() if isinstance(high, np.generic) else high
        self.strict = _check_flag(strict, "strict", owner)
        if self.column in (low, high) and isinstance(self.column, str):
            raise ValueError(f"Range: column {self.column!r} cannot bound itself")

    @property
    def columns(self) -> tuple:
        return (self.column,)

    def _bound(self, bound, frame: pd.DataFrame):
        if isinstance(bound, str) and bound in frame.columns:
            return frame[bound]
        return _constant_for(bound, frame[self.column], repr(self))

    def check_frame(self, frame: pd.DataFrame) -> None:
        """The column exists and is ordered; bound columns share its dtype family; constants fit its dtype.

        Parameters
        ----------
        frame : DataFrame
        """
        super().check_frame(frame)
        series = frame[self.column]
        if _family(series) is None:
            raise TypeError(f"{self!r}: column {self.column!r} has dtype {series.dtype}; only numeric, datetime "
                            "or timedelta columns can be bounded")
        for bound in (self.low, self.high):
            if bound is None:
                continue
            if isinstance(bound, str) and bound not in frame.columns and _family(series) != "datetime":
                raise ValueError(f"{self!r} names unknown column {bound!r} as a bound; the columns are "
                                 f"{list(frame.columns)}")
            if isinstance(bound, str) and bound in frame.columns:
                other = frame[bound]
                if _family(other) != _family(series):
                    raise TypeError(f"{self!r}: bound column {bound!r} ({other.dtype}) is not comparable with "
                                    f"{self.column!r} ({series.dtype})")
            else:
                self._bound(bound, frame)
        lo = None if self.low is None or isinstance(self.low, str) and self.low in frame.columns else self._bound(
            self.low, frame)
        hi = None if self.high is None or isinstance(self.high, str) and self.high in frame.columns else self._bound(
            self.high, frame)
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"{self!r}: low is above high")

    def is_valid(self, frame: pd.DataFrame, state: dict | None = None) -> np.ndarray:
        """True where the value lies within the bounds or a compared value is missing.

        Parameters
        ----------
        frame : DataFrame
        state : dict, optional
            Unused.

        Returns
        -------
        ndarray of bool
        """
        x = frame[self.column]
        ok = np.ones(len(frame), dtype=bool)
        skip = _is_missing(x)
        for bound, above in ((self.low, True), (self.high, False)):
            if bound is None:
                continue
            b = self._bound(bound, frame)
            if isinstance(b, pd.Series):
                skip = skip | _is_missing(b)
            if above:
                ok &= _as_bool(x > b) if self.strict else _as_bool(x >= b)
            else:
                ok &= _as_bool(x < b) if self.strict else _as_bool(x <= b)
        return ok | skip

    def to_dict(self) -> dict:
        """JSON form: ``{"type": "Range", "column": ..., "low": ..., "high": ..., "strict": ...}``.

        Returns
        -------
        dict
        """
        return {"type": "Range", "column": self.column, "low": _bound_to_json(self.low),
                "high": _bound_to_json(self.high), "strict": self.strict}


class _Sign(Constraint):
    _name = ""

    def __init__(self, column, strict: bool = False) -> None:
        self.column = _check_name(column, "column", self._name)
        self.strict = _check_flag(strict, "strict", self._name)

    @property
    def columns(self) -> tuple:
        return (self.column,)

    def check_frame(self, frame: pd.DataFrame) -> None:
        """The column exists and is numeric (or timedelta).

        Parameters
        ----------
        frame : DataFrame
        """
        super().check_frame(frame)
        series = frame[self.column]
        if _family(series) not in ("number", "timedelta"):
            raise TypeError(f"{self!r}: column {self.column!r} has dtype {series.dtype}; it must be numeric")

    def _zero(self, series: pd.Series):
        return pd.Timedelta(0) if _family(series) == "timedelta" else 0

    #: ``(strict comparison, inclusive comparison)`` of the value against zero
    _compare: tuple = ()

    def is_valid(self, frame: pd.DataFrame, state: dict | None = None) -> np.ndarray:
        """True where the value has the required sign (zero allowed unless strict) or is missing.

        Parameters
        ----------
        frame : DataFrame
        state : dict, optional
            Unused.

        Returns
        -------
        ndarray of bool
        """
        x = frame[self.column]
        strict, inclusive = self._compare
        ok = _as_bool((strict if self.strict else inclusive)(x, self._zero(x)))
        return ok | _is_missing(x)

    def to_dict(self) -> dict:
        """JSON form: ``{"type": ..., "column": ..., "strict": ...}``.

        Returns
        -------
        dict
        """
        return {"type": self._name, "column": self.column, "strict": self.strict}


class Positive(_Sign):
    """``column >= 0`` (``> 0`` if ``strict``), by rejection; a missing value is valid.

    Parameters
    ----------
    column : str or int
    strict : bool, default=False

    Examples
    --------
    >>> import pandas as pd
    >>> from ganaug.tabular.constraints import Positive
    >>> Positive("x").is_valid(pd.DataFrame({"x": [-1.0, 0.0, None]})).tolist()
    [False, True, True]
    """

    _name = "Positive"
    _compare = (operator.gt, operator.ge)


class Negative(_Sign):
    """``column <= 0`` (``< 0`` if ``strict``), by rejection; a missing value is valid.

    Parameters
    ----------
    column : str or int
    strict : bool, default=False

    Examples
    --------
    >>> import pandas as pd
    >>> from ganaug.tabular.constraints import Negative
    >>> Negative("x", strict=True).is_valid(pd.DataFrame({"x": [-1.0, 0.0]})).tolist()
    [True, False]
    """

    _name = "Negative"
    _compare = (operator.lt, operator.le)


def _combination_keys(frame: pd.DataFrame, columns) -> np.ndarray:
    """One string per row that identifies its values in ``columns`` (missing values included)."""
    parts = []
    for c in columns:
        s = frame[c]
        text = s.astype(object).where(~s.isna(), None).map(repr, na_action=None).to_numpy(dtype=object)
        parts.append(text.astype(str))
    key = parts[0]
    for p in parts[1:]:
        key = np.char.add(np.char.add(key, "\x1f"), p)
    return key


class FixedCombinations(Constraint):
    """Only combinations of values of ``columns`` that occur in the training rows, by rejection.

    Typical use: columns that belong together (a city and its country, a
    product and its category). Missing values count as one more value.

    Parameters
    ----------
    columns : sequence of str or int
        At least two distinct column names.

    Examples
    --------
    >>> import pandas as pd
    >>> from ganaug.tabular.constraints import FixedCombinations
    >>> train = pd.DataFrame({"city": ["Paris", "Lyon", "Berlin"], "country": ["FR", "FR", "DE"]})
    >>> rule = FixedCombinations(["city", "country"])
    >>> state = rule.fit(train)
    >>> rule.is_valid(pd.DataFrame({"city": ["Paris", "Berlin"], "country": ["FR", "FR"]}), state).tolist()
    [True, False]
    """

    def __init__(self, columns) -> None:
        owner = "FixedCombinations"
        if isinstance(columns, (str, bytes)) or not isinstance(columns, (list, tuple)):
            raise TypeError(f"{owner}: columns must be a list of column names, got {type(columns).__name__} "
                            f"{columns!r}")
        names = [_check_name(c, "each column", owner) for c in columns]
        if len(names) < 2:
            raise ValueError(f"{owner}: needs at least two columns, got {names!r}")
        if len(set(names)) != len(names):
            raise ValueError(f"{owner}: columns must be distinct, got {names!r}")
        self._columns = tuple(names)

    @property
    def columns(self) -> tuple:
        return self._columns

    def fit(self, frame: pd.DataFrame) -> dict:
        """Remember the combinations present in ``frame``.

        Parameters
        ----------
        frame : DataFrame

        Returns
        -------
        dict
            ``{"seen": [key, ...]}``.
        """
        return {"seen": sorted(set(_combination_keys(frame, self._columns).tolist()))}

    def is_valid(self, frame: pd.DataFrame, state: dict | None = None) -> np.ndarray:
        """True where the row's combination was seen in training.

        Parameters
        ----------
        frame : DataFrame
        state : dict
            What :meth:`fit` returned.

        Returns
        -------
        ndarray of bool
        """
        if state is None:
            raise ValueError(f"{self!r} needs the combinations seen in training: call fit(frame) first")
        keys = _combination_keys(frame, self._columns)
        return pd.Index(state["seen"], dtype=object).get_indexer(keys) >= 0

    def to_dict(self) -> dict:
        """JSON form: ``{"type": "FixedCombinations", "columns": [...]}``.

        Returns
        -------
        dict
        """
        return {"type": "FixedCombinations", "columns": list(self._columns)}


class Custom(Constraint):
    """Any rule given as a vectorised function ``fn(frame) -> boolean mask``, by rejection.

    ``fn`` receives a DataFrame of generated rows (columns as in training) and
    returns one bool per row (True = keep). It is called on whole chunks, so
    write it with column operations, not a loop over rows. A model with a
    ``Custom`` constraint cannot be saved (the function is Python code; JSON
    cannot hold it): recreate the augmenter and pass the function again.

    Parameters
    ----------
    fn : callable
        ``fn(frame) -> array-like of bool`` of length ``len(frame)``.
    name : str, optional
        Shown in messages (default: the function's name).

    Examples
    --------
    >>> import pandas as pd
    >>> from ganaug.tabular.constraints import Custom
    >>> rule = Custom(lambda df: df["Amount"] % 100 == 0, name="round amounts")
    >>> rule.is_valid(pd.DataFrame({"Amount": [800, 850]})).tolist()
    [True, False]
    """

    def __init__(self, fn, name: str | None = None) -> None:
        if not callable(fn):
            raise TypeError(f"Custom: fn must be a callable fn(frame) -> bool mask, got {type(fn).__name__} {fn!r}")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Custom: name must be a str, got {type(name).__name__}")
        self.fn = fn
        self.name = name if name is not None else getattr(fn, "__name__", "custom")

    def __repr__(self) -> str:
        return f"Custom({self.name!r})"

    def is_valid(self, frame: pd.DataFrame, state: dict | None = None) -> np.ndarray:
        """``fn(frame)``, checked to be one bool per row.

        Parameters
        ----------
        frame : DataFrame
        state : dict, optional
            Unused.

        Returns
        -------
        ndarray of bool
        """
        out = self.fn(frame)
        arr = out.to_numpy(na_value=False) if isinstance(out, (pd.Series, pd.Index)) else np.asarray(out)
        if arr.shape != (len(frame),):
            raise TypeError(f"{self!r}: fn must return one bool per row (shape ({len(frame)},)), got shape {arr.shape}")
        if arr.dtype.kind != "b":
            if arr.dtype == object and all(isinstance(v, (bool, np.bool_)) for v in arr[:1000]):
                arr = arr.astype(bool)
            else:
                raise TypeError(f"{self!r}: fn must return booleans, got dtype {arr.dtype}")
        return arr

    def to_dict(self) -> dict:
        """Always raises: a Python function cannot be stored as JSON.

        Returns
        -------
        dict
            Never returns.

        Raises
        ------
        ValueError
        """
        raise ValueError(f"{self!r} is a Python function and cannot be saved with the model: drop it before save(), "
                         "or write it as Inequality/Range/Positive/Negative/FixedCombinations")


_TYPES = {"Inequality": Inequality, "Range": Range, "FixedCombinations": FixedCombinations, "Positive": Positive,
          "Negative": Negative}


def constraint_from_dict(spec: dict) -> Constraint:
    """Build a constraint from its JSON form, e.g. ``{"type": "Inequality", "low": "Amount", "high": "Price"}``.

    Parameters
    ----------
    spec : dict
        ``"type"`` is one of ``Inequality``, ``Range``, ``FixedCombinations``,
        ``Positive``, ``Negative``; the other keys are the class's arguments.

    Returns
    -------
    Constraint

    Examples
    --------
    >>> from ganaug.tabular.constraints import constraint_from_dict
    >>> constraint_from_dict({"type": "Range", "column": "Age", "low": 18, "high": 99})
    Range(column='Age', low=18, high=99, strict=False)
    """
    if not isinstance(spec, dict):
        raise TypeError(f"a constraint in JSON form is an object {{\"type\": ...}}, got {type(spec).__name__} {spec!r}")
    kind = spec.get("type")
    if not isinstance(kind, str):
        raise ValueError(f"a constraint in JSON form needs \"type\": one of {sorted(_TYPES)}; got {spec!r}")
    if kind == "Custom":
        raise ValueError("a Custom constraint holds a Python function and cannot be read from JSON")
    if kind not in _TYPES:
        raise ValueError(f"unknown constraint type {kind!r}; use one of {sorted(_TYPES)}")
    args = {k: v for k, v in spec.items() if k != "type"}
    try:
        return _TYPES[kind](**args)
    except TypeError as exc:
        if "argument" in str(exc):  # unexpected or missing keyword
            raise TypeError(f"constraint {spec!r}: {exc}") from None
        raise


def parse_constraints(value) -> list[Constraint]:
    """The ``constraints`` parameter as a list of :class:`Constraint` (dicts are read with :func:`constraint_from_dict`).

    Parameters
    ----------
    value : None or sequence of Constraint or dict

    Returns
    -------
    list of Constraint

    Examples
    --------
    >>> from ganaug.tabular.constraints import Positive, parse_constraints
    >>> parse_constraints([Positive("Amount"), {"type": "Inequality", "low": "Amount", "high": "Price"}])
    [Positive(column='Amount', strict=False), Inequality(low='Amount', high='Price', strict=False)]
    """
    if value is None:
        return []
    if isinstance(value, (Constraint, dict)):
        raise TypeError("constraints must be a list of constraints, e.g. constraints=[Inequality('a', 'b')]; got a "
                        "single one: wrap it in a list")
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise TypeError(f"constraints must be a list of ganaug.tabular.constraints objects, got "
                        f"{type(value).__name__} {value!r}")
    out = []
    for i, item in enumerate(value):
        if isinstance(item, Constraint):
            out.append(item)
        elif isinstance(item, dict):
            out.append(constraint_from_dict(item))
        else:
            raise TypeError(f"constraints[{i}] must be a constraint (Inequality, Range, FixedCombinations, Positive, "
                            f"Negative, Custom) or its JSON dict, got {type(item).__name__} {item!r}")
    return out


def infer_inequalities(frame: pd.DataFrame, min_correlation: float = 0.5, max_constraints: int = 20) -> list:
    """:class:`Inequality` constraints that every row of ``frame`` obeys between correlated numeric columns.

    ``a <= b`` is kept when it holds on every row, the two columns share one
    plain numeric dtype family and have no missing values (so the model can
    learn ``b - a`` by reparametrisation), their Pearson correlation is at
    least ``min_correlation`` (the order carries information about how the
    columns move together), and their ranges overlap (``max(a) > min(b)``:
    an order implied by disjoint ranges needs no constraint). Each column is
    the ``high`` side of at most one inequality, the one with the strongest
    correlation. Columns that are equal on every row are skipped (so the
    rules never form a cycle: one would make its columns equal).

    This is what ``TabularAugmenter(constraints="auto")`` declares. On the
    bundled tables it finds the rules a person would declare (credit:
    ``Amount <= Price``, ``Seniority <= Age``; attrition: the chain of tenure
    columns) and nothing on hmda and default.

    Parameters
    ----------
    frame : DataFrame
        The training table.
    min_correlation : float, default=0.5
    max_constraints : int, default=20
        The strongest-correlated ones are kept.

    Returns
    -------
    list of Inequality

    Examples
    --------
    >>> from ganaug.datasets import load_credit
    >>> from ganaug.tabular.constraints import infer_inequalities
    >>> X, _ = load_credit()
    >>> infer_inequalities(X)  # doctest: +NORMALIZE_WHITESPACE
    [Inequality(low='Amount', high='Price', strict=False),
     Inequality(low='Seniority', high='Age', strict=False)]
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    if not 0.0 <= float(min_correlation) <= 1.0:
        raise ValueError(f"min_correlation must be in [0, 1], got {min_correlation!r}")
    columns = [c for c in frame.columns
               if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
               and not isinstance(frame[c].dtype, pd.api.extensions.ExtensionDtype) and not frame[c].isna().any()
               and frame[c].nunique() > 1]
    if len(columns) < 2 or len(frame) < 3:
        return []
    values = frame[columns].to_numpy(dtype=np.float64)
    # correlations from at most 20 000 rows (a fixed sample: the same table gives the same rules);
    # the inequality itself is checked on every row below
    sample = values if len(values) <= 20_000 else values[np.random.default_rng(0).choice(len(values), 20_000,
                                                                                           replace=False)]
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.nan_to_num(np.corrcoef(sample, rowvar=False), nan=0.0)
    lows, highs = np.nonzero(corr >= float(min_correlation))
    candidates = []
    for i, j in zip(lows.tolist(), highs.tolist()):
        if i == j or not _reparam_kind(frame[columns[i]], frame[columns[j]]):
            continue
        a, b = values[:, i], values[:, j]
        if np.array_equal(a, b) or not (a <= b).all() or not a.max() > b.min():
            continue
        candidates.append((float(corr[i, j]), columns[i], columns[j]))
    # No cycle can arise: a <= b <= ... <= a on every row makes the columns equal, and equal pairs are skipped.
    chosen, highs = [], set()
    for _, low, high in sorted(candidates, key=lambda c: -c[0]):
        if high in highs or len(chosen) >= int(max_constraints):
            continue
        highs.add(high)
        chosen.append(Inequality(low, high))
    return chosen


# -------------------------------------------------------------- fitted set
def _reparam_kind(lo: pd.Series, hi: pd.Series) -> bool:
    """Whether ``high - low`` can stand in for ``high`` (same plain dtype family, no missing values)."""
    if lo.isna().any() or hi.isna().any():
        return False
    dl, dh = lo.dtype, hi.dtype
    if isinstance(dl, pd.api.extensions.ExtensionDtype) or isinstance(dh, pd.api.extensions.ExtensionDtype):
        tz_l, tz_h = getattr(dl, "tz", None), getattr(dh, "tz", None)
        return isinstance(dl, pd.DatetimeTZDtype) and isinstance(dh, pd.DatetimeTZDtype) and str(tz_l) == str(tz_h)
    if pd.api.types.is_bool_dtype(dl) or pd.api.types.is_bool_dtype(dh):
        return False
    for check in (pd.api.types.is_integer_dtype, pd.api.types.is_float_dtype, pd.api.types.is_datetime64_dtype):
        if check(dl) and check(dh):
            return True
    return False


class ConstraintSet:
    """The constraints of a fitted augmenter: their fitted state and the reparametrisation plan.

    Built by :meth:`fit` from the declarations and the training table (it
    checks both), used by the augmenter to transform the training table
    (:meth:`transform`), rebuild generated rows (:meth:`inverse_transform`)
    and check them (:meth:`is_valid`).

    Parameters
    ----------
    constraints : list of Constraint
    states : list of dict
        :meth:`Constraint.fit` of each.
    reparametrised : list of int
        Indices of the :class:`Inequality` constraints enforced by modelling ``high - low``.
    dtypes : dict
        Original dtype (str) of each reparametrised ``high`` column.

    Examples
    --------
    >>> from ganaug.datasets import load_credit
    >>> from ganaug.tabular.constraints import ConstraintSet, Inequality
    >>> X, _ = load_credit()
    >>> cs = ConstraintSet.fit([Inequality("Amount", "Price")], X)
    >>> cs.reparametrised
    [0]
    >>> bool((cs.transform(X)["Price"] >= 0).all()), cs.inverse_transform(cs.transform(X)).equals(X)
    (True, True)
    """

    def __init__(self, constraints: list, states: list, reparametrised: list, dtypes: dict) -> None:
        self.constraints = list(constraints)
        self.states = list(states)
        self.reparametrised = [int(i) for i in reparametrised]
        self.dtypes = dict(dtypes)

    @property
    def empty(self) -> bool:
        """No constraint declared."""
        return not self.constraints

    @property
    def replaced_columns(self) -> list:
        """The ``high`` columns the model learns as differences."""
        return [self.constraints[i].high for i in self.reparametrised]

    @classmethod
    def fit(cls, constraints, frame: pd.DataFrame) -> "ConstraintSet":
        """Check the declarations against ``frame`` and the rows against the declarations.

        Parameters
        ----------
        constraints : None or list of Constraint or dict
        frame : DataFrame
            The training table.

        Returns
        -------
        ConstraintSet

        Raises
        ------
        TypeError
            A declaration that is not a constraint, or a column of the wrong type.
        ValueError
            An unknown column, or training rows that violate a constraint (the
            message gives their number and the first of them).
        """
        parsed = parse_constraints(constraints)
        states = []
        for c in parsed:
            c.check_frame(frame)
            state = c.fit(frame)
            ok = c.is_valid(frame, state)
            if not ok.all():
                bad = np.flatnonzero(~ok)
                bounds = [getattr(c, k, None) for k in ("low", "high")] if isinstance(c, Range) else []
                cols = [col for col in (*c.columns, *bounds) if isinstance(col, (str, int)) and col in frame.columns]
                cols = list(dict.fromkeys(cols)) or list(frame.columns)
                shown = frame.iloc[bad[:_FIRST_ROWS]][cols].to_string()
                raise ValueError(
                    f"the training data violate {c!r}: {bad.size} of {len(frame)} rows (first at row positions "
                    f"{bad[:_FIRST_ROWS].tolist()}):\n{shown}\nfix or drop those rows, or remove the constraint")
            states.append(state)
        reparam, dtypes, replaced, lows = [], {}, set(), set()
        for i, c in enumerate(parsed):
            if not isinstance(c, Inequality) or not _reparam_kind(frame[c.low], frame[c.high]):
                continue
            # high is rebuilt from low: low must be rebuilt before (or never replaced), high only once
            if c.high in replaced or c.high in lows:
                continue
            reparam.append(i)
            replaced.add(c.high)
            lows.add(c.low)
            dtypes[c.high] = str(frame[c.high].dtype)
        return cls(parsed, states, reparam, dtypes)

    # -------------------------------------------------------------- data
    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Replace each reparametrised ``high`` by ``high - low`` (computed from the original values).

        Parameters
        ----------
        frame : DataFrame

        Returns
        -------
        DataFrame
        """
        if not self.reparametrised:
            return frame
        out = frame.copy()
        for i in self.reparametrised:
            c = self.constraints[i]
            out[c.high] = frame[c.high] - frame[c.low]
        return out

    def inverse_transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Rebuild every reparametrised ``high`` as ``low + difference``, in its original dtype.

        Parameters
        ----------
        frame : DataFrame

        Returns
        -------
        DataFrame
        """
        if not self.reparametrised:
            return frame
        out = frame.copy()
        for i in self.reparametrised:  # declaration order: a low that is itself rebuilt comes first
            c = self.constraints[i]
            out[c.high] = (out[c.low] + out[c.high]).astype(self.dtypes[c.high])
        return out

    def is_valid(self, frame: pd.DataFrame) -> np.ndarray:
        """True for every row that satisfies all constraints.

        Parameters
        ----------
        frame : DataFrame

        Returns
        -------
        ndarray of bool
        """
        ok = np.ones(len(frame), dtype=bool)
        for c, state in zip(self.constraints, self.states):
            ok &= c.is_valid(frame, state)
        return ok

    def violations(self, frame: pd.DataFrame) -> list[tuple[str, float]]:
        """``(repr, share of rows violating)`` of every constraint, for error messages.

        Parameters
        ----------
        frame : DataFrame

        Returns
        -------
        list of (str, float)
        """
        n = max(len(frame), 1)
        return [(repr(c), float((~c.is_valid(frame, s)).sum()) / n) for c, s in zip(self.constraints, self.states)]

    # ------------------------------------------------------- persistence
    def get_state(self) -> dict:
        """JSON form; raises ``ValueError`` for a :class:`Custom` constraint.

        Returns
        -------
        dict
        """
        return {"constraints": [c.to_dict() for c in self.constraints], "states": self.states,
                "reparametrised": self.reparametrised, "dtypes": [[k, v] for k, v in self.dtypes.items()]}

    @classmethod
    def from_state(cls, state: dict) -> "ConstraintSet":
        """Rebuild from :meth:`get_state`.

        Parameters
        ----------
        state : dict

        Returns
        -------
        ConstraintSet
        """
        return cls([constraint_from_dict(d) for d in state["constraints"]], state["states"],
                   state["reparametrised"], {k: v for k, v in state["dtypes"]})


def describe_violations(pairs: list[tuple[str, float]]) -> str:
    """``"Inequality(...) 27.0%, Positive(...) 1.2%"`` for the rules some rows break.

    Parameters
    ----------
    pairs : list of (str, float)

    Returns
    -------
    str
    """
    broken = sorted((p for p in pairs if p[1] > 0), key=lambda p: -p[1])
    return ", ".join(f"{name} {share:.1%}" for name, share in broken) or "none"

