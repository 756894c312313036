"""Validation, NaN end-padding, scaling and windows (ganaug.timeseries.encoding)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ganaug.timeseries.encoding import SeriesEncoder, check_series_array, make_windows


def _padded(rng, n=6, c=2, length=9, lengths=None):
    X = rng.normal(size=(n, c, length))
    lengths = rng.integers(2, length + 1, n) if lengths is None else np.asarray(lengths)
    X[np.broadcast_to(np.arange(length)[None, None, :] >= lengths[:, None, None], X.shape)] = np.nan
    return X, lengths


def test_lengths_and_round_trip_with_padding():
    rng = np.random.default_rng(0)
    X, lengths = _padded(rng)
    enc = SeriesEncoder().fit(X)
    values, found = enc.transform(X)
    assert values.shape == (6, 9, 2) and values.dtype == np.float32
    assert found.tolist() == lengths.tolist()
    assert enc.variable_length_
    observed = np.arange(9)[None, :] < lengths[:, None]
    assert values[observed].min() >= 0 and values[observed].max() <= 1
    assert np.all(values[~observed] == 0)
    back = enc.inverse_transform(values, found)
    assert back.shape == X.shape and back.dtype == X.dtype
    np.testing.assert_allclose(back, X, rtol=1e-5, atol=1e-5)
    assert np.array_equal(np.isnan(back), np.isnan(X))


def test_two_d_input_is_one_channel_and_comes_back_two_d():
    X = np.arange(20, dtype=np.float32).reshape(4, 5)
    enc = SeriesEncoder().fit(X)
    values, lengths = enc.transform(X)
    assert values.shape == (4, 5, 1)
    back = enc.inverse_transform(values, lengths)
    assert back.shape == (4, 5) and back.dtype == np.float32
    np.testing.assert_allclose(back, X, atol=1e-5)


def test_encoder_json_round_trip():
    rng = np.random.default_rng(1)
    X, _ = _padded(rng)
    enc = SeriesEncoder().fit(X)
    enc2 = SeriesEncoder.from_json(enc.to_json())
    v, l = enc.transform(X)
    np.testing.assert_array_equal(enc2.inverse_transform(v, l), enc.inverse_transform(v, l))


@pytest.mark.parametrize(
    "X, match",
    [
        (np.zeros(5), "must be 3-D"),
        (np.zeros((2, 2, 2, 2)), "must be 3-D"),
        (np.zeros((0, 1, 5)), "empty"),
        (np.zeros((3, 1, 1)), "length 1"),
        (np.array([[[1.0, np.nan, 2.0]]]), "NaN inside"),
        (np.array([[[1.0, 2.0, np.nan], [1.0, np.nan, np.nan]]]), "some channels but not in others"),
        (np.array([[[1.0, np.nan, np.nan]]]), "1 observed step"),
        (np.array([[[1.0, np.inf, 2.0]]]), "infinite"),
    ],
)
def test_bad_series_raise_clear_errors(X, match):
    with pytest.raises(ValueError, match=match):
        check_series_array(X)


def test_non_numeric_series_raise_type_error():
    with pytest.raises(TypeError, match="numbers"):
        check_series_array(np.array([[["a", "b", "c"]]]))


def test_wrong_channels_or_length_after_fit():
    enc = SeriesEncoder().fit(np.zeros((3, 2, 6)))
    with pytest.raises(ValueError, match="1 channel"):
        enc.transform(np.zeros((3, 6)))  # 2-D where the fitted data had 2 channels
    with pytest.raises(ValueError, match="length 7"):
        enc.transform(np.zeros((3, 2, 7)))


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 5), c=st.integers(1, 3), length=st.integers(2, 12), data=st.data(),
)
def test_property_trailing_padding_gives_lengths(n, c, length, data):
    lengths = np.array(data.draw(st.lists(st.integers(2, length), min_size=n, max_size=n)))
    rng = np.random.default_rng(0)
    X, _ = _padded(rng, n, c, length, lengths)
    _, found, _ = check_series_array(X)
    assert found.tolist() == lengths.tolist()


@settings(max_examples=40, deadline=None)
@given(length=st.integers(3, 12), data=st.data())
def test_property_nan_before_an_observed_value_always_raises(length, data):
    gap = data.draw(st.integers(0, length - 2))
    X = np.ones((2, 1, length))
    X[1, 0, gap] = np.nan  # an observed value follows at the end
    with pytest.raises(ValueError, match="NaN inside"):
        check_series_array(X)


def test_make_windows_dataframe_and_errors():
    df = pd.DataFrame({"a": np.arange(10.0), "b": np.arange(10.0) * 2})
    W = make_windows(df, window=4, stride=2)
    assert W.shape == (4, 2, 4)
    np.testing.assert_array_equal(W[1, 1], [4.0, 6.0, 8.0, 10.0])
    with pytest.raises(ValueError, match="fewer than window"):
        make_windows(df, window=11)
    with pytest.raises(TypeError, match="not numeric"):
        make_windows(df.assign(c=list("abcdefghij")), window=4)
    with pytest.raises(ValueError, match="1-D .* or 2-D"):
        make_windows(np.zeros((10, 2, 2)), window=4)
    with pytest.raises(ValueError, match="window must be"):
        make_windows(df, window=1)
