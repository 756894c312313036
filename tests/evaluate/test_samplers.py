"""The baseline samplers keep the imbalanced-learn contract: originals first, dtypes kept, classes balanced."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ganaug.datasets import load_attrition, load_credit, load_default, load_mnist
from ganaug.evaluate import CTGANSampler, RandomOversampler, SMOTESampler, smote_variant


def test_smote_variant_follows_dtypes():
    X, _ = load_attrition()
    assert smote_variant(X) == "SMOTE-NC"
    assert smote_variant(X.select_dtypes("number")) == "SMOTE"
    assert smote_variant(X.select_dtypes("category")) == "SMOTEN"
    with pytest.raises(TypeError, match="datetime"):
        smote_variant(pd.DataFrame({"d": pd.date_range("2020", periods=3)}))


@pytest.mark.parametrize("select", [None, "number", "category"])
def test_smote_sampler_imputes_keeps_originals_and_dtypes(select):
    X, y = load_credit()
    if select is not None:
        X = X.select_dtypes(select)
    X, y = X.iloc[:1500], y.iloc[:1500]
    Xr, yr = SMOTESampler(random_state=0).fit_resample(X, y)
    counts = yr.value_counts()
    assert counts["bad"] == counts["good"] == (y == "good").sum()
    assert list(Xr.columns) == list(X.columns)
    assert (Xr.dtypes == X.dtypes).all()
    assert int(Xr.isna().sum().sum()) == 0
    # originals first: equal to the input wherever the input was observed
    head = Xr.iloc[: len(X)]
    observed = X.notna().to_numpy()
    assert (head.to_numpy()[observed] == X.to_numpy()[observed]).all()
    assert yr.iloc[: len(y)].tolist() == y.tolist()


def test_random_oversampler_works_on_image_stacks_and_frames():
    X, y = load_mnist()
    X, y = X[:300], np.where(y[:300] == 3, "three", "other")
    Xr, yr = RandomOversampler(random_state=0).fit_resample(X, y)
    assert Xr.dtype == np.uint8 and Xr.shape[1:] == (28, 28)
    assert (yr == "three").sum() == (yr == "other").sum()
    assert np.array_equal(Xr[:300], X)
    # every added image is a copy of a real image of its class
    flat = X.reshape(300, -1)
    for img, lab in zip(Xr[300:310], yr[300:310]):
        assert lab == "three" and (flat[y == "three"] == img.reshape(-1)).all(axis=1).any()
    Xc, yc = load_credit()
    Xf, yf = RandomOversampler(random_state=0).fit_resample(Xc, yc)
    assert (Xf.dtypes == Xc.dtypes).all() and yf.dtype == yc.dtype
    with pytest.raises(ValueError, match="X has 300 rows but y has 5"):
        RandomOversampler().fit_resample(X, y[:5])


@pytest.mark.slow
def test_ctgan_sampler_conditional_oversampling_on_a_real_table():
    X, y = load_credit()
    X, y = X[["Home", "Income", "Records", "Seniority"]].iloc[:600], y.iloc[:600]
    assert X["Income"].isna().any()
    s = CTGANSampler(epochs=2, random_state=0)
    Xr, yr = s.fit_resample(X, y)  # NaN in the input is imputed, not refused
    counts = yr.value_counts()
    assert counts["bad"] == counts["good"] == (y == "good").sum()
    assert (Xr.dtypes == X.dtypes).all()
    new = Xr.iloc[len(X):]
    assert int(new.isna().sum().sum()) == 0
    assert set(new["Home"].dropna().unique()) <= set(X["Home"].cat.categories)
    pd.testing.assert_frame_equal(Xr.iloc[: len(X)], X.reset_index(drop=True))
    assert s.history_ and {"g_loss", "d_loss"} <= set(s.history_[0])


@pytest.mark.slow
def test_ctgan_sampler_round_trips_numpy_arrays():
    X, y = load_default()
    Xn = X[["balance", "income"]].to_numpy()[:600]
    yn = np.asarray(y)[:600]
    Xr, yr = CTGANSampler(epochs=1, random_state=0).fit_resample(Xn, yn)
    assert isinstance(Xr, np.ndarray) and Xr.dtype == Xn.dtype and Xr.shape[1] == 2
    assert (yr == "Yes").sum() == (yr == "No").sum()
