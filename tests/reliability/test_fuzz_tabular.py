"""TabularAugmenter under generated hostile input: it works (and the output is right) or says what is wrong."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ganaug.augment.tabular import TabularAugmenter
from tests.reliability._fuzz import (
    SUPPORTED_KINDS,
    TINY_TAB,
    byte_equal_prefix,
    frames,
    fuzz_settings,
    good_labels,
    labels,
    works_or_clean_error,
)


def _check_resampled(X, y, X_res, y_res, aug) -> None:
    """No data lost, right container, balanced as asked, synthetic values inside the training support."""
    n = len(X)
    byte_equal_prefix(X_res, X)
    assert len(X_res) == len(y_res)
    y_head = y_res.iloc[:n] if isinstance(y_res, pd.Series) else np.asarray(y_res)[:n]
    y_in = y.reset_index(drop=True) if isinstance(y, pd.Series) else np.asarray(y)
    if isinstance(y_in, pd.Series):
        pd.testing.assert_series_equal(y_head.reset_index(drop=True), y_in, check_names=False)
    else:
        assert pd.Series(y_head).equals(pd.Series(y_in))
    new = X_res.iloc[n:] if isinstance(X_res, pd.DataFrame) else np.asarray(X_res)[n:]
    counts = pd.Series(np.asarray(y_res, dtype=object)).value_counts()
    assert counts.nunique() == 1, f"classes not balanced after fit_resample: {counts.to_dict()}"
    if isinstance(X, pd.DataFrame):
        for col in X.columns:
            real, fake = X[col], new[col]
            if pd.api.types.is_numeric_dtype(real) and not pd.api.types.is_bool_dtype(real) and len(fake):
                finite = np.isfinite(real.to_numpy(dtype=float)[real.notna().to_numpy()])
                if finite.all():  # a column with only finite values never gets inf in its synthetic rows
                    fv = fake.to_numpy(dtype=float)
                    assert np.isfinite(fv[~np.isnan(fv)]).all(), f"synthetic inf in column {col!r}"
                if real.notna().all():
                    assert fake.notna().all(), f"synthetic NaN in column {col!r} that had none"


@fuzz_settings(30)
@given(frames(n_min=0, n_max=40), st.data())
def test_fit_resample_on_any_frame(X, data):
    y = data.draw(labels(len(X)))
    aug = TabularAugmenter(**TINY_TAB)
    ok, out = works_or_clean_error(lambda: aug.fit_resample(X, y))
    if ok:
        _check_resampled(X, y, *out, aug)


@fuzz_settings(25)
@given(frames(n_min=6, n_max=40, kinds=SUPPORTED_KINDS), st.data())
def test_supported_tables_always_work(X, data):
    """Every supported column type, any scale (1e-300..1e300), odd names: fit_resample must succeed."""
    if X.shape[1] == 0:
        return
    y = data.draw(good_labels(len(X)))
    X_res, y_res = TabularAugmenter(**TINY_TAB).fit_resample(X, y)
    _check_resampled(X, y, X_res, y_res, None)


@fuzz_settings(15)
@given(frames(n_min=2, n_max=40, kinds=("float", "float_nan", "int", "bool", "category", "text", "constant")),
       st.data())
def test_unlabelled_fit_and_sample(X, data):
    aug = TabularAugmenter(**TINY_TAB)
    ok, _ = works_or_clean_error(lambda: aug.fit(X))
    if not ok:
        return
    n = data.draw(st.one_of(st.integers(-3, 30), st.floats(allow_nan=True), st.text(max_size=3), st.none(),
                            st.booleans(), st.dictionaries(st.text(max_size=2), st.integers(0, 3), max_size=2)))
    ok, out = works_or_clean_error(lambda: aug.sample(n, random_state=0))
    if ok:
        assert isinstance(out, pd.DataFrame) and len(out) == n and list(out.columns) == list(X.columns)
        assert (out.dtypes.to_numpy() == X.dtypes.to_numpy()).all()


@fuzz_settings(15)
@given(st.sampled_from(["float64", "float32", "int64", "int8", "uint8", "bool", "object", "<U3", "complex128",
                        "datetime64[ns]"]),
       st.tuples(st.integers(0, 30), st.integers(0, 4)), st.sampled_from([None, np.nan, np.inf, 1e300, -1e-300]),
       st.data())
def test_arrays_of_any_dtype(dtype, shape, special, data):
    rng = np.random.default_rng(0)
    X = (rng.normal(size=shape) * 10)
    if special is not None and X.size:
        X.flat[0] = special
    try:
        X = X.astype(dtype)
    except (ValueError, OverflowError, TypeError):
        X = X.astype(object)
    y = data.draw(labels(shape[0]))
    aug = TabularAugmenter(**TINY_TAB)
    ok, out = works_or_clean_error(lambda: aug.fit_resample(X, y))
    if ok:
        X_res, y_res = out
        byte_equal_prefix(X_res, X)
        assert X_res.dtype == X.dtype and X_res.shape[1] == X.shape[1]


@pytest.fixture(scope="module")
def fitted(shared_data):
    df = pd.read_csv(shared_data / "tabular" / "HMDA.csv").iloc[:300]
    y = df.pop("deny")
    return TabularAugmenter(**TINY_TAB).fit(df, y), df


@fuzz_settings(20)
@given(st.one_of(
    st.integers(-5, 50), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=4), st.none(),
    st.booleans(), st.lists(st.integers(0, 5), max_size=3),
    st.dictionaries(st.one_of(st.sampled_from(["no", "yes"]), st.text(max_size=3), st.integers(), st.none()),
                    st.one_of(st.integers(-3, 20), st.floats(), st.text(max_size=2)), max_size=3),
), st.one_of(st.none(), st.integers(-2, 2**40), st.text(max_size=2), st.floats()))
def test_sample_requests(fitted, n_samples, random_state):
    aug, X = fitted
    ok, out = works_or_clean_error(lambda: aug.sample(n_samples, random_state=random_state))
    if ok:
        X_new, y_new = out
        expected = sum(n_samples.values()) if isinstance(n_samples, dict) else n_samples
        assert len(X_new) == len(y_new) == expected
        assert list(X_new.columns) == list(X.columns)
        assert set(pd.unique(y_new)) <= {"no", "yes"}


@fuzz_settings(10)
@given(st.sampled_from(["out.csv", "out.parquet", "out.pq", "out.csv.gz", "out.txt", "out", "dir/"]),
       st.integers(-1, 120), st.one_of(st.integers(-1, 50), st.floats(), st.none()),
       st.one_of(st.none(), st.sampled_from(["deny", "pirat", "label", 3])))
def test_sample_to_file_requests(fitted, tmp_path_factory, name, n, chunk, target):
    aug, X = fitted
    folder = tmp_path_factory.mktemp("s")
    path = folder / name
    if name.endswith("/"):
        path.mkdir()
    kwargs = {} if chunk is None else {"chunk_size": chunk}
    ok, out = works_or_clean_error(lambda: aug.sample_to_file(path, n, random_state=0, target=target, **kwargs))
    if ok:
        assert out == n
        back = pd.read_parquet(path) if path.suffix in (".parquet", ".pq") else pd.read_csv(path)
        assert len(back) == n and list(back.columns)[: X.shape[1]] == list(X.columns)
    else:
        assert not path.is_file(), "a failed sample_to_file left a file behind"
    assert not [p for p in folder.rglob("*.partial")], "temporary file left behind"
