"""The BaseAugmenter template, exercised through a numpy test double."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from imblearn.pipeline import Pipeline
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

from ganaug.augment.base import BaseAugmenter
from ganaug.exceptions import ModelFormatError

from ._gaussian import GaussianTestAugmenter


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 1, (90, 3)), rng.normal(3, 1, (10, 3))])
    y = np.array(["a"] * 90 + ["b"] * 10)
    return X, y


def test_fit_resample_balances_and_keeps_originals_first(data):
    X, y = data
    Xr, yr = GaussianTestAugmenter(random_state=0).fit_resample(X, y)
    assert np.array_equal(Xr[:100], X) and np.array_equal(yr[:100], y)
    assert (yr == "a").sum() == (yr == "b").sum() == 90
    assert yr.dtype == y.dtype


@pytest.mark.parametrize(
    "strategy, expected_b",
    [("auto", 90), ("minority", 90), ("not majority", 90), ("all", 90), (0.5, 45), ({"b": 30}, 30),
     (lambda y: {"b": 20}, 20)],
)
def test_sampling_strategy_follows_imblearn(data, strategy, expected_b):
    X, y = data
    _, yr = GaussianTestAugmenter(sampling_strategy=strategy, random_state=0).fit_resample(X, y)
    assert (yr == "b").sum() == expected_b
    assert (yr == "a").sum() == 90


@pytest.mark.parametrize(
    "strategy, match",
    [(0.05, "increase the ratio"), ({"a": 10}, "greater or equal"), ("majority", "not an over-sampling"), ({"c": 5}, "c")],
)
def test_strategy_that_cannot_fit_y_is_refused_before_training(data, strategy, match):
    X, y = data
    aug = GaussianTestAugmenter(sampling_strategy=strategy, random_state=0)
    with pytest.raises(ValueError, match=match):
        aug.fit_resample(X, y)
    assert not hasattr(aug, "means_")  # no generator was fitted


def test_series_labels_keep_name_dtype_and_categories(data):
    X, y = data
    ys = pd.Series(pd.Categorical(y, categories=["a", "b", "c"]), name="target")
    ys = ys[ys != "c"]
    aug = GaussianTestAugmenter(random_state=0)
    Xr, yr = aug.fit_resample(X, ys)
    assert isinstance(yr, pd.Series) and yr.name == "target"
    assert list(yr.cat.categories) == ["a", "b", "c"]
    _, y_new = aug.sample({"b": 3})
    assert y_new.tolist() == ["b"] * 3


def test_sample_int_follows_training_mix_and_seed(data):
    X, y = data
    aug = GaussianTestAugmenter(random_state=0).fit(X, y)
    Xs, ys = aug.sample(50, random_state=1)
    assert len(Xs) == 50 and (ys == "b").sum() == 5
    Xs2, _ = aug.sample(50, random_state=1)
    assert np.array_equal(Xs, Xs2)
    Xs3, _ = aug.sample(50)
    Xs4, _ = aug.sample(50)
    assert not np.array_equal(Xs3, Xs4)


def test_unlabelled_fit_samples_X_only(data):
    X, _ = data
    aug = GaussianTestAugmenter(random_state=0).fit(X)
    out = aug.sample(7)
    assert isinstance(out, np.ndarray) and out.shape == (7, 3)
    with pytest.raises(ValueError, match="without labels"):
        aug.sample({"a": 1})


@pytest.mark.parametrize(
    "y_bad, match",
    [
        (np.array(["a"] * 100), "only one class"),
        (np.array(["a"] * 99 + ["b"]), "class 'b' has 1 row"),
        (np.array(["a"] * 99), "rows but y has 99"),
        (np.array([0.0] * 50 + [np.nan] * 50), "missing labels"),
    ],
)
def test_bad_labels_name_the_problem(data, y_bad, match):
    X, _ = data
    with pytest.raises(ValueError, match=match):
        GaussianTestAugmenter().fit_resample(X, y_bad)


def test_unknown_class_in_sample(data):
    X, y = data
    aug = GaussianTestAugmenter(random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="unknown class 'zzz'"):
        aug.sample({"zzz": 2})
    with pytest.raises(ValueError, match="non-negative"):
        aug.sample({"a": -1})


def test_save_load_roundtrip_same_samples(tmp_path, data):
    X, y = data
    aug = GaussianTestAugmenter(random_state=3).fit(X, y)
    before = aug.sample({"b": 5}, random_state=11)
    aug.save(tmp_path / "m")
    loaded = GaussianTestAugmenter.load(tmp_path / "m")
    after = loaded.sample({"b": 5}, random_state=11)
    assert np.array_equal(before[0], after[0]) and np.array_equal(before[1], after[1])
    assert BaseAugmenter.load(tmp_path / "m").get_params() == aug.get_params()


def test_load_refuses_altered_weights(tmp_path, data):
    X, y = data
    GaussianTestAugmenter(random_state=0).fit(X, y).save(tmp_path / "m")
    w = tmp_path / "m" / "weights.safetensors"
    raw = bytearray(w.read_bytes())
    raw[-1] ^= 0xFF
    w.write_bytes(bytes(raw))
    with pytest.raises(ModelFormatError, match="altered or corrupted"):
        GaussianTestAugmenter.load(tmp_path / "m")


def test_pipeline_and_clone(data):
    X, y = data
    pipe = Pipeline([("aug", GaussianTestAugmenter(random_state=0)), ("clf", LogisticRegression())])
    pipe.fit(X, y)
    assert pipe.predict(X).shape == (100,)
    c = clone(GaussianTestAugmenter(random_state=5))
    assert c.random_state == 5


def test_mixed_label_types_get_fits_error_not_a_numpy_one(data):
    X, _ = data
    y = np.array([2.0, "1"] * 50, dtype=object)  # cannot be sorted: the early strategy check must step aside
    with pytest.raises(TypeError, match="mixes label types"):
        GaussianTestAugmenter(random_state=0).fit_resample(X, y)
