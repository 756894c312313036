"""Hypothesis strategies and checks shared by the reliability tests.

The contract every public entry point is held to: with any input it either
works (and the output is checked) or raises a ``ValueError``/``TypeError``
*raised by ganaug's own validation* (or scikit-learn's / imbalanced-learn's
user-facing checks) whose message is a sentence, never an error escaping
from inside torch, numpy or pandas.

Budget: the ``FUZZ*`` settings below fix how many generated cases run in CI
(see docs/reliability.md); ``GANAUG_FUZZ_SCALE=10`` multiplies them for a
deeper local run. ``derandomize=True`` makes CI draw the same cases each time
(a red CI run is reproducible); a deeper run draws new ones.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

_SCALE = max(1, int(os.environ.get("GANAUG_FUZZ_SCALE", "1")))
_DERANDOMIZE = _SCALE == 1
_HEALTH = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large,
           HealthCheck.filter_too_much]


def fuzz_settings(n: int) -> settings:
    """``n`` cases per test in CI, no deadline (a tiny GAN fit takes ~0.5 s)."""
    return settings(max_examples=n * _SCALE, deadline=None, suppress_health_check=_HEALTH,
                    derandomize=_DERANDOMIZE, database=None, print_blob=True)


#: tiny TabularAugmenter: one epoch, 8-unit networks
TINY_TAB = dict(epochs=1, batch_size=40, embedding_dim=4, generator_dim=(8,), discriminator_dim=(8,), pac=2,
                random_state=0, trainer={"enable_progress_bar": False})
TINY_IMG = dict(epochs=1, batch_size=16, width=8, latent_dim=8, random_state=0, trainer={"enable_progress_bar": False})
TINY_TS = dict(mode="rcgan", epochs=1, batch_size=16, hidden_dim=8, num_layers=1, random_state=0,
               trainer={"enable_progress_bar": False})

_GANAUG = str(Path(__file__).resolve().parents[2] / "ganaug")
#: user-facing validation in these packages counts as a clean error too
_VALIDATORS = ("/sklearn/utils/", "/sklearn/base.py", "/imblearn/utils/", "/imblearn/base.py")


#: messages of builtins / numpy that say nothing about which argument or column is wrong
_RAW_MESSAGES = ("could not convert string to float", "invalid literal for int()", "unsupported operand type",
                 "not supported between instances of", "has no len()", "cannot convert float NaN to integer",
                 "object is not iterable", "object is not subscriptable", "only integer scalar arrays",
                 "setting an array element with a sequence", "operands could not be broadcast")


def raise_site(exc: BaseException) -> str:
    """File of the innermost frame of ``exc``'s traceback (where it was raised)."""
    tb = exc.__traceback__
    last = None
    while tb is not None:
        last = tb
        tb = tb.tb_next
    return "" if last is None else last.tb_frame.f_code.co_filename


def assert_clean_error(exc: BaseException) -> None:
    """A ValueError/TypeError raised on purpose by validation code, with a real message."""
    assert isinstance(exc, (ValueError, TypeError)), f"{type(exc).__name__} escaped: {exc!r}"
    site = raise_site(exc)
    assert site.startswith(_GANAUG) or any(v in site for v in _VALIDATORS), (
        f"{type(exc).__name__} raised inside {site}, not by ganaug's validation: {exc}"
    )
    msg = str(exc)
    assert len(msg) >= 15 and " " in msg, f"error message too terse to name the problem: {msg!r}"
    raw = [r for r in _RAW_MESSAGES if r in msg]
    assert not raw, f"a raw Python/numpy message escaped without naming the argument: {msg!r}"


def works_or_clean_error(fn):
    """Run ``fn``; return ``(True, result)`` or ``(False, exc)`` after checking the error is clean."""
    from hypothesis import event

    try:
        out = fn()
    except (ValueError, TypeError) as exc:
        assert_clean_error(exc)
        event(f"refused: {type(exc).__name__}: {str(exc)[:60]}")
        return False, exc
    event("worked")
    return True, out


def pixel_array(shape, dtype, special, seed):
    """Uniform 0-255 values of ``shape`` cast to ``dtype`` (object where the cast fails), one entry set to ``special``."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 255, size=shape)
    if special is not None and X.size:
        X.flat[rng.integers(X.size)] = special
    with np.errstate(invalid="ignore", over="ignore"):
        try:
            return X.astype(dtype)
        except (ValueError, OverflowError):
            return X.astype(object)


# ----------------------------------------------------------------- strategies
odd_names = st.one_of(
    st.text(min_size=0, max_size=8),                      # unicode, empty, whitespace, emoji
    st.sampled_from(["", " ", "a b", "ünïcødé", "名前", "\t", "col\n2", "1", "None", "nan", "🙂"]),
    st.integers(-3, 10),                                  # int column labels
)


def _column(kind: str, n: int, rng: np.random.Generator, scale: float):
    if kind == "float":
        return rng.normal(0, 1, n) * scale
    if kind == "float_nan":
        v = rng.normal(0, 1, n) * scale
        v[rng.random(n) < 0.3] = np.nan
        return v
    if kind == "float_inf":
        v = rng.normal(0, 1, n)
        if n:
            v[rng.integers(n)] = rng.choice([np.inf, -np.inf])
        return v
    if kind == "int":
        return rng.integers(-1000, 1000, n)
    if kind == "huge_int":
        return rng.integers(-(2**62), 2**62, n, dtype=np.int64)
    if kind == "bool":
        return rng.random(n) < 0.5
    if kind == "category":
        return pd.Categorical(rng.choice(["a", "b", "ç"], n))
    if kind == "text":
        return rng.choice(["x", "yy", "zzz", "名"], n).astype(object)
    if kind == "text_nan":
        v = rng.choice(["x", "yy"], n).astype(object)
        v[rng.random(n) < 0.3] = None
        return v
    if kind == "mixed_object":
        return pd.Series([["a", 1, 2.5, None, True][i % 5] for i in range(n)], dtype=object).to_numpy()
    if kind == "constant":
        return np.full(n, 7.0)
    if kind == "all_nan":
        return np.full(n, np.nan)
    if kind == "datetime":
        return pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 1000, n), unit="D")
    if kind == "empty_strings":
        return np.array([""] * n, dtype=object)
    raise AssertionError(kind)


COLUMN_KINDS = ["float", "float_nan", "float_inf", "int", "huge_int", "bool", "category", "text", "text_nan",
                "mixed_object", "constant", "all_nan", "datetime", "empty_strings"]
SCALES = [1e-300, 1e-12, 1.0, 1e12, 1e300]


#: column kinds that a table may hold and that must be learnt (not refused)
SUPPORTED_KINDS = ("float", "float_nan", "int", "huge_int", "bool", "category", "text", "text_nan", "constant",
                   "datetime", "empty_strings")
#: kinds that must be refused with a clear error
HOSTILE_KINDS = ("float_inf", "mixed_object", "all_nan")


@st.composite
def frames(draw, n_min: int = 0, n_max: int = 40, kinds=tuple(COLUMN_KINDS), hostile_share: float = 0.15):
    """A DataFrame of mixed columns with odd column names; hostile columns and layouts now and then."""
    n = draw(st.integers(n_min, n_max))
    n_cols = draw(st.integers(0, 5)) if draw(st.integers(0, 9)) == 0 else draw(st.integers(1, 5))
    names = draw(st.lists(odd_names, min_size=n_cols, max_size=n_cols, unique_by=lambda v: (type(v).__name__, v)))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    good = [k for k in kinds if k not in HOSTILE_KINDS]
    bad = [k for k in kinds if k in HOSTILE_KINDS]
    data = {}
    for name in names:
        hostile = bool(bad) and (not good or draw(st.integers(0, 99)) < 100 * hostile_share)
        kind = draw(st.sampled_from(bad if hostile else good))
        data[name] = _column(kind, n, rng, draw(st.sampled_from(SCALES)))
    frame = pd.DataFrame(data) if data else pd.DataFrame(index=range(n))
    if len(names) >= 2 and draw(st.integers(0, 19)) == 0:  # now and then duplicate column names
        frame.columns = [names[0]] * 2 + list(frame.columns[2:])
    return frame


@st.composite
def labels(draw, n: int):
    """Labels of length ``n``: int, str, bool, float or categorical; sometimes a one-row class or NaN."""
    kind = draw(st.sampled_from(["int", "str", "bool", "categorical", "float", "object_mixed", "series_str"]))
    k = draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    codes = rng.integers(0, k, n) if n else np.zeros(0, dtype=int)
    if n >= 3 and draw(st.integers(0, 4)) == 0:
        codes[0] = k  # a class with a single row
    if kind == "int":
        y = codes.astype(np.int64) * 7 - 3
    elif kind == "str":
        y = np.array(["neg", "pos", "ünï", "名", "x y"], dtype=object)[codes]
    elif kind == "bool":
        y = codes % 2 == 1
    elif kind == "categorical":
        y = pd.Series(pd.Categorical(np.array(["a", "b", "c", "d"])[codes]), name="label")
    elif kind == "float":
        y = codes.astype(float) + 0.5
        if n and draw(st.integers(0, 4)) == 0:
            y[draw(st.integers(0, n - 1))] = np.nan
    elif kind == "object_mixed":
        y = np.array([1, "1", 2.0, None], dtype=object)[codes]
    else:
        y = pd.Series(np.array(["neg", "pos", "mid", "rare"])[codes], name="y")
    return y


def byte_equal_prefix(X_res, X) -> None:
    """The first ``len(X)`` items of ``X_res`` are ``X``: same values (bytes for arrays), dtypes and order."""
    n = len(X)
    if isinstance(X, pd.DataFrame):
        assert isinstance(X_res, pd.DataFrame)
        head = X_res.iloc[:n]
        assert list(head.columns) == list(X.columns)
        for col_pos in range(X.shape[1]):
            a, b = head.iloc[:, col_pos], X.iloc[:, col_pos]
            assert a.dtype == b.dtype, (X.columns[col_pos], a.dtype, b.dtype)
            av, bv = a.to_numpy(), b.to_numpy()
            if av.dtype.kind in "biufcmM":
                assert av.tobytes() == bv.tobytes(), f"column {X.columns[col_pos]!r} changed"
            else:
                pd.testing.assert_series_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_exact=True,
                                               check_names=False)
    else:
        X = np.asarray(X)
        head = np.asarray(X_res)[:n]
        assert head.dtype == X.dtype and head.shape == X.shape
        if X.dtype.kind == "O":
            assert all(a is b or a == b or (a != a and b != b) for a, b in zip(head.ravel(), X.ravel()))
        else:
            assert head.tobytes() == X.tobytes()


@st.composite
def good_labels(draw, n: int):
    """Two or three classes, each with at least 2 of the ``n >= 6`` rows; int, str, bool or categorical."""
    k = draw(st.integers(2, 3))
    codes = np.resize(np.arange(k), n)
    np.random.default_rng(draw(st.integers(0, 2**16))).shuffle(codes)
    kind = draw(st.sampled_from(["int", "str", "bool", "categorical"]))
    if kind == "bool":
        return codes % 2 == 1
    if kind == "int":
        return codes * 3 - 1
    if kind == "str":
        return np.array(["neg", "pos", "名"], dtype=object)[codes]
    return pd.Series(pd.Categorical(np.array(["a", "b", "c"])[codes]), name="label")
