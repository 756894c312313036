"""TabularTransformer: encoding, vectorised decoding, dtype restoration, missing values, persistence."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ganaug.datasets import load_attrition, load_credit
from ganaug.tabular import TabularTransformer
from ganaug.tabular._modes import fit_modes


@pytest.fixture(scope="module")
def credit():
    X, _ = load_credit()
    return X, TabularTransformer(random_state=0).fit(X)


def _mixed_frame(n: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ints = rng.integers(0, 1000, n)
    nullable = pd.array(rng.integers(0, 50, n), dtype="Int64")
    nullable[rng.random(n) < 0.1] = pd.NA
    flags = pd.array(rng.random(n) < 0.3, dtype="boolean")
    flags[rng.random(n) < 0.05] = pd.NA
    text = np.array(rng.choice(["red", "green", "blue"], n), dtype=object)
    text[rng.random(n) < 0.1] = np.nan
    when = pd.Series(pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 10_000, n), unit="h"))
    when[rng.random(n) < 0.1] = pd.NaT
    return pd.DataFrame(
        {
            "int32": ints.astype(np.int32),
            "Int64": nullable,
            "bool": rng.random(n) < 0.5,
            "boolean": flags,
            "cat": pd.Categorical(rng.choice(["lo", "mid", "hi"], n), categories=["lo", "mid", "hi", "never"],
                                  ordered=True),
            "text": text,
            "string": pd.array(rng.choice(["x", "y"], n), dtype="string"),
            "float32": rng.normal(5, 2, n).astype(np.float32),
            "when": when,
            "when_tz": when.dt.tz_localize("UTC").dt.tz_convert("Europe/Paris"),
            "span": pd.to_timedelta(rng.integers(0, 500, n), unit="min"),
            7: rng.choice([1.5, 2.5, 3.5], n),  # a non-string column name, few distinct floats
        }
    )


def test_round_trip_keeps_dtypes_names_order_and_discrete_values():
    df = _mixed_frame()
    tt = TabularTransformer(random_state=0).fit(df)
    back = tt.inverse_transform(tt.transform(df))
    assert list(back.columns) == list(df.columns)
    assert back.dtypes.tolist() == df.dtypes.tolist()
    assert isinstance(back.index, pd.RangeIndex)
    for col in ["Int64", "bool", "boolean", "cat", "text", "string", 7]:
        pd.testing.assert_series_equal(back[col], df[col], check_names=True)
    assert list(back["cat"].cat.categories) == ["lo", "mid", "hi", "never"] and back["cat"].cat.ordered
    # missing values are kept exactly where they were (indicator slot)
    for col in ["when", "when_tz", "Int64", "text"]:
        assert np.array_equal(back[col].isna().to_numpy(), df[col].isna().to_numpy())
    assert str(back["when_tz"].dt.tz) == "Europe/Paris"


def test_continuous_values_come_back_close_and_integers_stay_integers(credit):
    X, tt = credit
    back = tt.inverse_transform(tt.transform(X))
    assert back.dtypes.equals(X.dtypes)
    for col in ["Income", "Price", "Amount", "Seniority"]:
        a = X[col].to_numpy(float)
        b = back[col].to_numpy(float)
        ok = ~np.isnan(a)
        rel = np.abs(a[ok] - b[ok]) / X[col].std()
        # mode-specific normalisation clips beyond 4 std of a value's mode: only rare extremes move
        assert np.median(rel) < 1e-3 and np.mean(rel < 0.01) > 0.99, col
        assert np.array_equal(np.isnan(a), np.isnan(b))
    assert (back["Amount"] % 1 == 0).all()
    assert int(back.isna().sum().sum()) == int(X.isna().sum().sum())


def test_real_table_widths_and_spans_tile_the_encoding():
    X, _ = load_attrition()
    tt = TabularTransformer(random_state=0).fit(X)
    E = tt.transform(X)
    assert E.shape == (len(X), tt.output_dim) and E.dtype == np.float32
    covered = np.zeros(tt.output_dim, dtype=int)
    for span in tt.spans:
        covered[span.start : span.start + span.width] += 1
        if span.kind == "softmax":
            assert np.allclose(E[:, span.start : span.start + span.width].sum(1), 1.0)
        else:
            assert np.abs(E[:, span.start]).max() <= 0.99 + 1e-6
    assert (covered == 1).all()
    desc = tt.describe()
    assert set(desc.kind) == {"continuous", "discrete"}
    # numeric columns with few values are discrete and come back exactly
    assert desc.set_index("column").loc["JobLevel", "kind"] == "discrete"
    back = tt.inverse_transform(E)
    pd.testing.assert_series_equal(back["JobLevel"], X["JobLevel"])


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_arrays_in_arrays_out(dtype):
    rng = np.random.default_rng(1)
    A = (rng.normal(0, 10, (200, 3))).astype(dtype)
    if np.dtype(dtype).kind == "f":
        A[rng.random(200) < 0.1, 1] = np.nan
    tt = TabularTransformer(random_state=0).fit(A)
    back = tt.inverse_transform(tt.transform(A))
    assert isinstance(back, np.ndarray) and back.dtype == A.dtype and back.shape == A.shape
    assert np.array_equal(np.isnan(back.astype(float)), np.isnan(A.astype(float)))


def test_object_array_of_mixed_columns():
    A = np.array([["a", 1.5], ["b", 2.5], ["a", 3.25], ["c", 0.5]] * 10, dtype=object)
    tt = TabularTransformer(random_state=0).fit(A)
    back = tt.inverse_transform(tt.transform(A))
    assert back.dtype == object and back.shape == A.shape
    assert list(back[:, 0]) == list(A[:, 0])


def test_high_cardinality_is_bounded_by_top_k_plus_other():
    rng = np.random.default_rng(0)
    n = 20_000
    levels = np.array([f"id{i:04d}" for i in range(2000)], dtype=object)
    weights = 1.0 / np.arange(1, 2001)
    col = rng.choice(levels, n, p=weights / weights.sum())
    df = pd.DataFrame({"merchant": col, "x": rng.normal(size=n)})
    tt = TabularTransformer(max_categories=30, random_state=0).fit(df)
    span = tt.discrete_spans[0]
    assert span.width == 30  # 29 most frequent + other
    back = tt.inverse_transform(tt.transform(df), random_state=0)
    assert set(back["merchant"]) <= set(levels)
    top = pd.Series(col).value_counts().index[:29]
    # frequent levels come back exactly; "other" decodes to rare levels with their frequencies
    assert (back["merchant"][pd.Series(col).isin(top)] == pd.Series(col)[pd.Series(col).isin(top)]).all()
    rare = ~pd.Series(col).isin(top)
    assert (~back["merchant"][rare].isin(top)).all()
    assert abs(back["merchant"][rare].nunique() - pd.Series(col)[rare].nunique()) < 0.3 * pd.Series(col)[rare].nunique()


def test_extreme_magnitudes_stay_finite():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"huge": rng.normal(1e300, 1e299, 200), "tiny": rng.normal(1e-300, 1e-301, 200),
                       "const": np.full(200, 3.0)})
    tt = TabularTransformer(random_state=0).fit(df)
    back = tt.inverse_transform(tt.transform(df))
    assert np.isfinite(back.to_numpy()).all()
    assert (back["const"] == 3.0).all()
    assert np.allclose(back["huge"].median(), df["huge"].median(), rtol=0.05)


def test_decoding_soft_outputs_uses_argmax_and_clips_to_range(credit):
    X, tt = credit
    E = tt.transform(X.iloc[:50])
    noisy = E + np.random.default_rng(0).normal(0, 0.05, E.shape).astype(np.float32)
    back = tt.inverse_transform(noisy)
    assert (back["Price"] >= X["Price"].min()).all() and (back["Price"] <= X["Price"].max()).all()
    assert (back["Home"].isin(X["Home"].cat.categories) | back["Home"].isna()).all()


def test_state_is_json_and_round_trips():
    df = _mixed_frame(120)
    tt = TabularTransformer(random_state=3).fit(df)
    state = json.loads(json.dumps(tt.get_state(), allow_nan=False))
    tt2 = TabularTransformer.from_state(state)
    E = tt.transform(df)
    a, b = tt.inverse_transform(E, random_state=0), tt2.inverse_transform(E, random_state=0)
    pd.testing.assert_frame_equal(a, b)


def test_features_of_real_and_encoded_rows_agree(credit):
    X, tt = credit
    F1 = tt.feature_matrix(X)
    F2 = tt.encoded_features(tt.transform(X))
    assert F1.shape == F2.shape == (len(X), X.shape[1])
    disc = tt.categorical_mask
    assert np.array_equal(np.nan_to_num(F1[:, disc], nan=-1), np.nan_to_num(F2[:, disc], nan=-1))


@pytest.mark.parametrize(
    "frame, error, match",
    [
        (pd.DataFrame({"a": [1.0, np.inf, 2.0], "b": [1, 2, 3]}), ValueError, "'a' contains 1 infinite"),
        (pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [np.nan] * 3}), ValueError, "'b' is entirely missing"),
        (pd.DataFrame({"z": np.array([1 + 2j, 3j, 1])}), TypeError, "'z' has unsupported dtype complex"),
        (pd.DataFrame({"m": ["a", 1, 2.5]}), TypeError, "'m' is an object column holding mixed"),
        (pd.DataFrame([[1, 2]], columns=["a", "a"]), ValueError, "duplicate column names"),
        (pd.DataFrame(index=range(3)), ValueError, "0 feature"),
    ],
)
def test_bad_columns_are_named(frame, error, match):
    with pytest.raises(error, match=match):
        TabularTransformer().fit(frame)


def test_bad_shapes():
    with pytest.raises(ValueError, match="2-D"):
        TabularTransformer().fit(np.arange(5.0))
    with pytest.raises(ValueError, match="2-D"):
        TabularTransformer().fit(pd.Series([1, 2]))
    with pytest.raises(ValueError, match="empty"):
        TabularTransformer().fit(pd.DataFrame({"a": []}))
    tt = TabularTransformer().fit(pd.DataFrame({"a": [1.0, 2.0]}))
    with pytest.raises(ValueError, match="columns"):
        tt.transform(pd.DataFrame({"b": [1.0]}))


def test_fit_modes_finds_separated_modes():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(-5, 0.5, 2000), rng.normal(0, 0.5, 1000), rng.normal(8, 1, 1000)])
    means, stds, weights = fit_modes(x, max_modes=10, rng=rng)
    for target in (-5, 0, 8):
        assert np.min(np.abs(means - target)) < 0.5
    assert np.isclose(weights.sum(), 1.0) and (stds > 0).all()
