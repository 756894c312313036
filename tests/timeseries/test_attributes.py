"""Per-series attributes (DoppelGANger-style) and per-series range normalisation of TimeSeriesAugmenter."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import spearmanr

from ganaug.augment.base import BaseAugmenter
from ganaug.augment.timeseries import TimeSeriesAugmenter
from ganaug.datasets import load_gunpoint, load_hmda, load_stocks
from ganaug.timeseries import RecurrentGAN
from ganaug.timeseries.attributes import AttributeEncoder, series_ranges, use_range_normalization

FAST = dict(mode="rcgan", epochs=2, hidden_dim=8, num_layers=1, batch_size=16)
ATTR = {"epochs": 3}


def gunpoint_attributes(X: np.ndarray) -> pd.DataFrame:
    """Honest per-series facts of GunPoint: level (category), amplitude (float), peak time (bool, text)."""
    mean = X.mean(axis=(1, 2))
    amplitude = (X.max(axis=(1, 2)) - X.min(axis=(1, 2))).astype(np.float64)
    amplitude[::7] = np.nan
    late = X[:, 0].argmax(1) > X.shape[2] // 2
    peak = pd.Series(np.where(late, "late", "early"), dtype=object)
    peak[::5] = None
    return pd.DataFrame({
        "level": pd.Categorical(np.where(mean > np.median(mean), "high", "low"), categories=["low", "high"]),
        "amplitude": amplitude,
        "late_peak": late,
        "peak": peak,
    })


@pytest.fixture(scope="module")
def gunpoint():
    X, y, _, _ = load_gunpoint()
    return X, y, gunpoint_attributes(X)


@pytest.fixture(scope="module")
def fitted(gunpoint):
    X, y, A = gunpoint
    return TimeSeriesAugmenter(**FAST, attribute_params=ATTR, random_state=0).fit(X, y, attributes=A)


@pytest.fixture(scope="module")
def stocks_long():
    """Stocks windows of 128 days: Volume ranges differ by a factor of about 25 between windows."""
    return load_stocks(window=128, stride=32)


# ------------------------------------------------------------ sample / schema
def test_sample_returns_attributes_with_training_columns_dtypes_and_levels(fitted, gunpoint):
    X, y, A = gunpoint
    X_new, y_new, A_new = fitted.sample({"1": 4, "2": 9}, random_state=0)
    assert X_new.shape == (13, 1, 150) and X_new.dtype == X.dtype and np.isfinite(X_new).all()
    assert y_new.tolist() == ["1"] * 4 + ["2"] * 9
    assert list(A_new.columns) == list(A.columns) and A_new.dtypes.equals(A.dtypes)
    assert list(A_new["level"].cat.categories) == ["low", "high"]
    assert set(A_new["peak"].dropna()) <= {"early", "late"}
    assert isinstance(A_new.index, pd.RangeIndex) and len(A_new) == 13
    assert fitted.attribute_columns_ == list(A.columns) and not fitted.range_normalization_
    # the series networks are conditioned on the encoded attributes
    assert fitted.module_.attr_dim == fitted.attribute_encoder_.n_features_ > 0


def test_conditions_restrict_the_drawn_attributes(fitted, gunpoint):
    _, _, A = gunpoint
    lo, hi = np.nanquantile(A["amplitude"], [0.25, 0.75])
    X_new, y_new, A_new = fitted.sample({"2": 12}, conditions={"level": "high", "amplitude": (lo, hi)},
                                        random_state=1)
    assert len(X_new) == len(A_new) == 12 and set(y_new) == {"2"}
    assert (A_new["level"] == "high").all()
    assert A_new["amplitude"].between(lo, hi).all()
    # a DataFrame of conditions: one row per series, n_samples implied
    rows = pd.DataFrame({"peak": ["late", "early", "late"]})
    X_new, _, A_new = fitted.sample(conditions=rows, random_state=2)
    assert len(X_new) == 3 and sorted(A_new["peak"]) == ["early", "late", "late"]


def test_same_seed_same_draw_and_save_load_gives_identical_samples(tmp_path, fitted):
    a = fitted.sample({"2": 6}, random_state=3)
    b = fitted.sample({"2": 6}, random_state=3)
    c = fitted.sample({"2": 6}, random_state=4)
    assert np.array_equal(a[0], b[0]) and a[2].equals(b[2]) and not np.array_equal(a[0], c[0])
    fitted.save(tmp_path / "m")
    assert not list((tmp_path / "m").glob("*.pkl"))
    loaded = BaseAugmenter.load(tmp_path / "m")
    assert isinstance(loaded, TimeSeriesAugmenter)
    d = loaded.sample({"2": 6}, random_state=3)
    assert np.array_equal(a[0], d[0]) and list(a[1]) == list(d[1])
    pd.testing.assert_frame_equal(a[2], d[2])
    e = loaded.sample({"1": 5}, conditions={"level": "low"}, random_state=5)
    f = fitted.sample({"1": 5}, conditions={"level": "low"}, random_state=5)
    assert np.array_equal(e[0], f[0]) and e[2].equals(f[2])


def test_fit_resample_with_attributes_keeps_originals_first(gunpoint):
    X, y, A = gunpoint
    keep = np.r_[np.flatnonzero(y == "1")[:14], np.flatnonzero(y == "2")[:5]]
    A_in = A.iloc[keep].set_axis(np.arange(100, 100 + len(keep)))  # a caller's index is not kept, as in imblearn
    aug = TimeSeriesAugmenter(**FAST, attribute_params=ATTR, random_state=0)
    Xr, yr, Ar = aug.fit_resample(X[keep], y[keep], attributes=A_in)
    assert len(Xr) == len(yr) == len(Ar) == 28
    assert np.array_equal(Xr[:19], X[keep]) and np.array_equal(yr[:19], y[keep])
    pd.testing.assert_frame_equal(Ar.iloc[:19], A_in.reset_index(drop=True))
    assert Ar.dtypes.equals(A.dtypes) and isinstance(Ar.index, pd.RangeIndex)
    # without attributes the usual pair comes back
    assert len(TimeSeriesAugmenter(**FAST, random_state=0).fit_resample(X[keep], y[keep])) == 2


def test_unlabelled_model_returns_series_and_attributes(gunpoint):
    X, _, A = gunpoint
    aug = TimeSeriesAugmenter(**FAST, attribute_params=ATTR, random_state=0).fit(X, attributes=A)
    out = aug.sample(5, random_state=0)
    assert len(out) == 2 and out[0].shape == (5, 1, 150) and list(out[1].columns) == list(A.columns)
    X_new, A_new = aug.sample(4, conditions={"late_peak": True}, random_state=0)
    assert A_new["late_peak"].tolist() == [True] * 4


def test_variable_length_timegan_with_attributes(shared_data):
    """JapaneseVowels: NaN-padded series, TimeGAN mode (conditional generator, supervisor and discriminator)."""
    with np.load(shared_data / "timeseries" / "JapaneseVowels.npz", allow_pickle=False) as d:
        X, y = d["X_train"], d["y_train"]
    keep = np.r_[np.flatnonzero(y == "1")[:10], np.flatnonzero(y == "2")[:6]]
    X, y = X[keep][:, :3], y[keep]
    steps = (~np.isnan(X[:, 0])).sum(1)
    energy = np.nanmean(np.abs(X), axis=(1, 2))
    energy[[2, 9]] = np.nan
    A = pd.DataFrame({"n_steps": steps.astype(np.int64), "energy": energy,
                      "loud": pd.Categorical(np.where(np.nan_to_num(energy) > np.nanmedian(energy), "yes", "no"))})
    aug = TimeSeriesAugmenter(**{**FAST, "mode": "timegan", "pretrain_epochs": 1}, attribute_params=ATTR,
                              random_state=0).fit(X, y, attributes=A)
    assert aug.module_.supervisor.attr_dim == aug.module_.generator.attr_dim == aug.module_.discriminator.attr_dim > 0
    assert aug.module_.embedder.attr_dim == 0  # the autoencoder is not conditional
    X_new, y_new, A_new = aug.sample({"2": 7}, conditions={"loud": "yes"}, random_state=0)
    assert X_new.shape == (7, 3, X.shape[2]) and (A_new["loud"] == "yes").all()
    assert A_new.dtypes.equals(A.dtypes)
    lengths = (~np.isnan(X_new[:, 0])).sum(1)
    assert np.array_equal(np.isnan(X_new).any(1), np.arange(X.shape[2])[None, :] >= lengths[:, None])


def test_from_series_with_one_attribute_row_per_window():
    stocks = load_stocks(window=None).iloc[:300]
    close = stocks["Close"].to_numpy()
    starts = np.arange(0, 300 - 24 + 1, 12)
    trend = pd.DataFrame({"trend": np.where(close[starts + 23] > close[starts], "up", "down")})
    aug = TimeSeriesAugmenter(**FAST, attribute_params=ATTR, random_state=0)
    aug.from_series(stocks, window=24, stride=12, attributes=trend)
    X_new, A_new = aug.sample(4, conditions={"trend": "up"}, random_state=0)
    assert X_new.shape == (4, 6, 24) and A_new["trend"].tolist() == ["up"] * 4
    assert not aug.range_normalization_  # 24-step windows: "auto" stays off
    with pytest.raises(ValueError, match="3 row.*24 windows"):
        TimeSeriesAugmenter(**FAST).from_series(stocks, window=24, stride=12, attributes=trend.iloc[:3])


def test_attributes_with_batch_generation(gunpoint):
    """Attributes and steps_per_output (DoppelGANger's two halves) work together."""
    X, y, A = gunpoint
    aug = TimeSeriesAugmenter(**FAST, steps_per_output=10, range_normalization=True, attribute_params=ATTR,
                              random_state=0).fit(X, y, attributes=A)
    X_new, y_new, A_new = aug.sample({"1": 3}, conditions={"level": "low"}, random_state=0)
    assert X_new.shape == (3, 1, 150) and np.isfinite(X_new).all() and (A_new["level"] == "low").all()
    assert aug.module_.latent_shape[0] == 15 and aug.module_.generator.attr_dim == aug.attribute_encoder_.n_features_


# ---------------------------------------------------------- range normalisation
def test_auto_range_normalization_only_for_long_series_of_different_scales(gunpoint, stocks_long):
    short = load_stocks(window=24)
    assert not use_range_normalization("auto", *series_ranges(short), short.shape[2])  # ratio > 10, but 24 steps
    X, _, _ = gunpoint
    assert not use_range_normalization("auto", *series_ranges(X), X.shape[2])  # 150 steps, ranges within 2x
    assert use_range_normalization("auto", *series_ranges(stocks_long), stocks_long.shape[2])
    assert use_range_normalization(True, *series_ranges(X), X.shape[2])
    aug = TimeSeriesAugmenter(**{**FAST, "epochs": 1}, random_state=0).fit(short[::60])
    assert not aug.range_normalization_ and aug.attribute_model_ is None


def test_range_normalized_series_follow_their_generated_ranges(stocks_long):
    aug = TimeSeriesAugmenter(**FAST, attribute_params=ATTR, random_state=0).fit(stocks_long)
    assert aug.range_normalization_ and aug.attribute_model_ is not None and aug.attribute_columns_ is None
    X_new = aug.sample(6, random_state=0)
    assert isinstance(X_new, np.ndarray) and X_new.shape == (6, 6, 128)  # no attributes were given: series only
    X_new, _, table = aug._generate_full(np.zeros(40, dtype=np.int64), 0)
    lo, hi = aug._drawn_ranges(table)
    gen_lo, gen_hi = series_ranges(X_new)
    tol = 1e-5 * np.maximum(np.abs(hi), 1.0)
    assert (gen_lo >= lo - tol).all() and (gen_hi <= hi + tol).all()
    # the scale of each generated series is the one drawn for it: Volume ranges span an order of magnitude
    volume = gen_hi[:, 5] - gen_lo[:, 5]
    assert volume.max() / volume.min() > 10
    assert spearmanr(volume, hi[:, 5] - lo[:, 5])[0] > 0.8


@pytest.mark.slow
def test_level_attribute_shifts_the_generated_level(stocks_long):
    close = stocks_long[:, 3].mean(1)
    A = pd.DataFrame({"level": np.where(close > np.median(close), "high", "low")})
    aug = TimeSeriesAugmenter(**FAST, attribute_params={"epochs": 150, "batch_size": 50, "lr_g": 1e-3, "lr_d": 1e-3},
                              random_state=0).fit(stocks_long, attributes=A)
    X_high, _ = aug.sample(40, conditions={"level": "high"}, random_state=0)
    X_low, _ = aug.sample(40, conditions={"level": "low"}, random_state=0)
    assert X_high[:, 3].mean() > 1.3 * X_low[:, 3].mean()


def test_constant_series_do_not_divide_by_zero(gunpoint):
    X, y, _ = gunpoint
    X = X.copy()
    X[[0, 30]] = X[[0, 30], :, :1]  # two flat series: range 0
    aug = TimeSeriesAugmenter(**FAST, range_normalization=True, attribute_params=ATTR, random_state=0).fit(X, y)
    X_new, _ = aug.sample({"1": 5, "2": 5}, random_state=0)
    assert aug.range_normalization_ and np.isfinite(X_new).all()
    values, _ = aug.encoder_.transform(aug._normalized(X, *series_ranges(X), False))
    assert np.isfinite(values).all() and (values[[0, 30]] == 0).all()


# -------------------------------------------------------------------- errors
def test_attribute_errors_name_what_is_wrong(fitted, gunpoint):
    X, y, A = gunpoint
    aug = TimeSeriesAugmenter(**FAST, attribute_params=ATTR)
    with pytest.raises(ValueError, match="attributes has 10 row.*X has 50 series"):
        aug.fit(X, y, attributes=A.iloc[:10])
    with pytest.raises(TypeError, match="attributes must be a pandas DataFrame"):
        aug.fit(X, y, attributes=A.to_numpy())
    with pytest.raises(TypeError, match="column names must be str"):
        aug.fit(X, y, attributes=A.set_axis(range(4), axis=1))
    with pytest.raises(ValueError, match="unknown attribute column 'colour'"):
        fitted.sample(3, conditions={"colour": "red"})
    with pytest.raises(ValueError, match="'level'.*never seen"):
        fitted.sample(3, conditions={"level": "medium"})
    with pytest.raises(ValueError, match="unknown attribute column '__range_min_0__'"):
        fitted.sample(3, conditions={"__range_min_0__": 1.0})
    with pytest.raises(TypeError, match="conditions must be a dict"):
        fitted.sample(3, conditions=[("level", "low")])
    plain = TimeSeriesAugmenter(**{**FAST, "epochs": 1}, random_state=0).fit(X[:20], y[:20])
    with pytest.raises(ValueError, match="fitted without attributes"):
        plain.sample(3, conditions={"level": "low"})
    with pytest.raises(ValueError, match="range_normalization must be"):
        TimeSeriesAugmenter(**FAST, range_normalization="yes").fit(X, y)
    with pytest.raises(ValueError, match=r"attribute_params \['colour'\] are not TabularAugmenter arguments"):
        TimeSeriesAugmenter(**FAST, attribute_params={"colour": 1}).fit(X, y, attributes=A)
    with pytest.raises(ValueError, match="random_state"):
        TimeSeriesAugmenter(**FAST, attribute_params={"random_state": 1}).fit(X, y, attributes=A)


# --------------------------------------------------------------- encoding parts
def test_attribute_encoder_on_a_real_table():
    X, _ = load_hmda()
    table = X.iloc[:300].reset_index(drop=True).copy()
    table.loc[::9, "unemp"] = np.nan
    table["insurance"] = table["insurance"].astype(object)
    table.loc[::11, "insurance"] = None
    enc = AttributeEncoder().fit(table)
    Z = enc.transform(table)
    assert Z.shape == (300, enc.n_features_) and Z.dtype == np.float32
    assert Z.min() >= 0 and Z.max() <= 1
    spec = dict(zip(enc.columns_, enc.specs_))
    s = spec["phist"]  # a categorical without missing values: one-hot, exactly one 1 per row
    assert np.array_equal(Z[:, s["start"]:s["start"] + s["width"]].sum(1), np.ones(300))
    s = spec["unemp"]  # a numeric with missing values: min-max value then a missing indicator
    assert s["width"] == 2 and np.array_equal(Z[:, s["start"] + 1], table["unemp"].isna().to_numpy())
    s = spec["insurance"]  # a categorical with missing values: all levels 0 and the indicator 1
    block = Z[:, s["start"]:s["start"] + s["width"]]
    assert np.array_equal(block[::11, :-1].sum(1), np.zeros(len(block[::11]))) and (block[::11, -1] == 1).all()
    again = AttributeEncoder.from_json(enc.to_json())
    assert np.array_equal(again.transform(table), Z)


def test_recurrent_gan_with_attributes_checks_its_condition():
    gan = RecurrentGAN(n_channels=1, seq_len=10, n_classes=2, hidden_dim=8, num_layers=1, attr_dim=3)
    z = gan.sample_noise(4, generator=torch.Generator().manual_seed(0))
    cond = RecurrentGAN.make_condition(torch.tensor([0, 1, 0, 1]), torch.full((4,), 10), torch.rand(4, 3))
    assert cond.shape == (4, 5) and gan.generate(z, cond).shape == (4, 10, 1)
    with pytest.raises(ValueError, match=r"condition must be \(N, 5\)"):
        gan.generate(z, RecurrentGAN.make_condition(torch.tensor([0, 1, 0, 1]), torch.full((4,), 10)))
    with pytest.raises(ValueError, match="conditional"):
        gan.generate(z, None)
    # attributes change what the generator makes for the same noise
    other = cond.clone()
    other[:, 2:] = 1.0 - other[:, 2:]
    assert not torch.allclose(gan.generate(z, cond), gan.generate(z, other))
