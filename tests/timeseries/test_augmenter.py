"""TimeSeriesAugmenter: the augmenter contract on series."""

from __future__ import annotations

import numpy as np
import pytest
from imblearn.pipeline import Pipeline
from sklearn.base import clone

from ganaug.augment.base import BaseAugmenter
from ganaug.augment.timeseries import TimeSeriesAugmenter
from ganaug.core.trainer import build_trainer
from ganaug.datasets import load_gunpoint, load_stocks
from ganaug.exceptions import ModelFormatError
from ganaug.timeseries.lengths import length_bandwidth

FAST = dict(mode="rcgan", epochs=2, hidden_dim=8, num_layers=1, batch_size=16)


@pytest.fixture(scope="module")
def gunpoint_small():
    X, y, _, _ = load_gunpoint()
    keep = np.r_[np.flatnonzero(y == "1")[:16], np.flatnonzero(y == "2")[:5]]
    return X[keep], y[keep]


@pytest.fixture(scope="module")
def vowels(shared_data):
    with np.load(shared_data / "timeseries" / "JapaneseVowels.npz", allow_pickle=False) as d:
        X, y = d["X_train"], d["y_train"]
    keep = np.r_[np.flatnonzero(y == "1")[:12], np.flatnonzero(y == "2")[:4]]
    return X[keep][:, :4], y[keep]


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["rcgan", "timegan"])
def test_fit_resample_keeps_3d_layout_originals_first(gunpoint_small, mode):
    X, y = gunpoint_small
    aug = TimeSeriesAugmenter(**{**FAST, "mode": mode, "pretrain_epochs": 1}, random_state=0)
    Xr, yr = aug.fit_resample(X, y)
    assert Xr.shape == (32, 1, 150) and Xr.dtype == X.dtype
    assert np.array_equal(Xr[:21], X) and np.array_equal(yr[:21], y)
    assert (yr == "1").sum() == (yr == "2").sum() == 16
    assert np.isfinite(Xr).all()
    # synthetic values stay in the training range (sigmoid output, min-max scaling)
    assert Xr[21:].min() >= X.min() - 1e-4 and Xr[21:].max() <= X.max() + 1e-4


def test_two_d_input_comes_back_two_d(gunpoint_small):
    X, y = gunpoint_small
    Xr, yr = TimeSeriesAugmenter(**FAST, random_state=0).fit_resample(X[:, 0, :], y)
    assert Xr.shape == (32, 150)


@pytest.mark.slow
def test_variable_length_synthetic_series_are_padded_at_the_end(vowels):
    X, y = vowels
    aug = TimeSeriesAugmenter(**FAST, random_state=0).fit(X, y)
    Xs, ys = aug.sample({"2": 30}, random_state=0)
    assert Xs.shape == (30, 4, X.shape[2])
    lengths = (~np.isnan(Xs[:, 0, :])).sum(1)
    # NaN only at the end, in every channel together
    assert np.array_equal(np.isnan(Xs).any(1), np.arange(X.shape[2])[None, :] >= lengths[:, None])
    assert np.array_equal(np.isnan(Xs).any(1), np.isnan(Xs).all(1))
    # lengths come from a smoothed distribution of the class's own training lengths (range widened by 2 bandwidths)
    train_lengths = (~np.isnan(X[y == "2", 0, :])).sum(1)
    widen = int(np.ceil(2 * length_bandwidth(train_lengths)))
    assert lengths.min() >= max(2, train_lengths.min() - widen)
    assert lengths.max() <= min(X.shape[2], train_lengths.max() + widen)


def test_same_seed_same_samples_and_save_load(tmp_path, gunpoint_small):
    X, y = gunpoint_small
    aug = TimeSeriesAugmenter(**FAST, ema_decay=0.9, random_state=0).fit(X, y)
    a, _ = aug.sample({"2": 7}, random_state=3)
    b, _ = aug.sample({"2": 7}, random_state=3)
    c, _ = aug.sample({"2": 7}, random_state=4)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    aug.save(tmp_path / "m")
    assert not list((tmp_path / "m").glob("*.pkl"))
    loaded = BaseAugmenter.load(tmp_path / "m")
    assert isinstance(loaded, TimeSeriesAugmenter) and loaded.get_params() == {**aug.get_params(), "trainer": None}
    d, yd = loaded.sample({"2": 7}, random_state=3)
    assert np.array_equal(a, d) and yd.tolist() == ["2"] * 7
    # an altered weights file is refused
    weights = tmp_path / "m" / "weights.safetensors"
    weights.write_bytes(weights.read_bytes()[:-8] + b"\0" * 8)
    with pytest.raises(ModelFormatError, match="altered"):
        TimeSeriesAugmenter.load(tmp_path / "m")


def test_same_random_state_same_model(gunpoint_small):
    X, y = gunpoint_small
    a = TimeSeriesAugmenter(**FAST, random_state=5).fit(X, y).sample(4, random_state=0)[0]
    b = TimeSeriesAugmenter(**FAST, random_state=5).fit(X, y).sample(4, random_state=0)[0]
    assert np.array_equal(a, b)


@pytest.mark.parametrize(
    "X_bad, match",
    [
        (np.zeros(21), "must be 3-D"),
        (np.zeros((21, 1, 1)), "length 1"),
        ("nan-inside", "NaN inside"),
    ],
)
def test_bad_input_raises_clear_errors(gunpoint_small, X_bad, match):
    X, y = gunpoint_small
    if isinstance(X_bad, str):
        X_bad = X.copy()
        X_bad[3, 0, 40] = np.nan
    with pytest.raises(ValueError, match=match):
        TimeSeriesAugmenter(**FAST).fit_resample(X_bad, y)


def test_unknown_class_and_bad_params(gunpoint_small):
    X, y = gunpoint_small
    aug = TimeSeriesAugmenter(**FAST, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="unknown class '3'"):
        aug.sample({"3": 2})
    with pytest.raises(ValueError, match="epochs"):
        TimeSeriesAugmenter(epochs=0).fit(X, y)
    with pytest.raises(ValueError, match="mode"):
        TimeSeriesAugmenter(mode="vae").fit(X, y)
    with pytest.raises(ValueError, match="set by the augmenter"):
        TimeSeriesAugmenter(**FAST, gan_params={"loss": "hinge"}).fit(X, y)
    with pytest.raises(ValueError, match="at least 2 rows"):
        TimeSeriesAugmenter(**FAST).fit(X[:17], y[:17])


@pytest.mark.slow
def test_from_series_windows_one_long_series():
    stocks = load_stocks(window=None).iloc[:300]
    aug = TimeSeriesAugmenter(**FAST, random_state=0).from_series(stocks, window=24, stride=2)
    assert aug.series_columns_ == list(stocks.columns)
    assert aug.class_counts_.tolist() == [(300 - 24) // 2 + 1]
    out = aug.sample(10, random_state=0)
    assert out.shape == (10, 6, 24)
    lo, hi = stocks.to_numpy().min(0), stocks.to_numpy().max(0)
    assert np.all(out.min(axis=(0, 2)) >= lo - 1e-3) and np.all(out.max(axis=(0, 2)) <= hi * (1 + 1e-6))


def test_trainer_passthrough(gunpoint_small):
    X, y = gunpoint_small
    aug = TimeSeriesAugmenter(**FAST, trainer={"max_epochs": 1, "enable_progress_bar": False}).fit(X, y)
    assert max(r["epoch"] for r in aug.history_) == 0
    ready = build_trainer({"enable_progress_bar": False}, max_epochs=3)
    aug = TimeSeriesAugmenter(**FAST, trainer=ready).fit(X, y)
    assert max(r["epoch"] for r in aug.history_) == 2
    with pytest.raises(TypeError, match="trainer"):
        TimeSeriesAugmenter(**FAST, trainer="gpu").fit(X, y)


@pytest.mark.slow
def test_clone_and_imblearn_pipeline(gunpoint_small):
    from ganaug.timeseries.classifier import SeriesClassifier

    X, y = gunpoint_small
    aug = TimeSeriesAugmenter(**FAST, random_state=0)
    assert clone(aug).get_params() == aug.get_params()
    pipe = Pipeline([("aug", aug), ("clf", SeriesClassifier(epochs=2, random_state=0))]).fit(X, y)
    assert pipe.predict(X).shape == (21,)
