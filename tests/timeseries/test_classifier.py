"""The reusable series classifier and the simple oversampling baselines."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.metrics import balanced_accuracy_score

from ganaug.datasets import load_gunpoint
from ganaug.timeseries.baselines import JitterScalingOverSampler, SeriesRandomOverSampler
from ganaug.timeseries.classifier import SeriesClassifier, fit_predict_proba


@pytest.mark.slow
def test_learns_gunpoint_on_the_official_split():
    X_train, y_train, X_test, y_test = load_gunpoint()
    clf = SeriesClassifier(epochs=60, random_state=0).fit(X_train, y_train)
    assert balanced_accuracy_score(y_test, clf.predict(X_test)) > 0.85
    proba = clf.predict_proba(X_test)
    assert proba.shape == (150, 2) and np.allclose(proba.sum(1), 1)


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["cnn", "gru"])
def test_variable_length_train_and_test_of_other_lengths(shared_data, arch):
    with np.load(shared_data / "timeseries" / "JapaneseVowels.npz", allow_pickle=False) as d:
        X_tr, y_tr, X_te, y_te = d["X_train"], d["y_train"], d["X_test"], d["y_test"]
    assert X_tr.shape[2] != X_te.shape[2] and np.isnan(X_tr).any()
    proba = fit_predict_proba(X_tr, y_tr, X_te, arch=arch, epochs=15, random_state=0)
    assert proba.shape == (370, 9)
    assert balanced_accuracy_score(y_te, np.unique(y_tr)[proba.argmax(1)]) > 0.8
    # padding never matters: other padding values, same predictions
    # appending more padding changes nothing
    clf = SeriesClassifier(arch=arch, epochs=3, random_state=0).fit(X_tr, y_tr)
    X_longer = np.concatenate([X_te, np.full((len(X_te), 12, 5), np.nan, dtype=X_te.dtype)], axis=2)
    np.testing.assert_allclose(clf.predict_proba(X_te), clf.predict_proba(X_longer), atol=1e-5)


def test_repeatable_weights_and_errors():
    X, y, _, _ = load_gunpoint()
    a = SeriesClassifier(epochs=2, random_state=1).fit(X, y).predict_proba(X[:5])
    b = clone(SeriesClassifier(epochs=2, random_state=1)).fit(X, y).predict_proba(X[:5])
    assert np.array_equal(a, b)
    w = np.where(y == "1", 3.0, 1.0)
    c = SeriesClassifier(epochs=2, random_state=1).fit(X, y, sample_weight=w).predict_proba(X[:5])
    assert not np.array_equal(a, c)
    with pytest.raises(ValueError, match="one class"):
        SeriesClassifier(epochs=1).fit(X, np.full(len(X), "1"))
    with pytest.raises(ValueError, match="arch"):
        SeriesClassifier(arch="transformer").fit(X, y)
    clf = SeriesClassifier(epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="channel"):
        clf.predict(np.repeat(X, 2, axis=1))


def test_oversamplers_keep_layout_and_balance():
    X, y, _, _ = load_gunpoint()
    keep = np.r_[np.flatnonzero(y == "1")[:5], np.flatnonzero(y == "2")]
    X, y = X[keep], y[keep]
    for sampler in (SeriesRandomOverSampler(random_state=0), JitterScalingOverSampler(random_state=0)):
        Xr, yr = sampler.fit_resample(X, y)
        assert Xr.shape == (52, 1, 150) and Xr.dtype == X.dtype
        assert np.array_equal(Xr[:31], X) and (yr == "1").sum() == 26
        Xr2, _ = sampler.fit_resample(X[:, 0], y)
        assert Xr2.shape == (52, 150)
    Xj, _ = JitterScalingOverSampler(random_state=0).fit_resample(X, y)
    assert not any(np.array_equal(Xj[i], X[j]) for i in range(31, 52) for j in range(5))
    Xv = np.random.default_rng(0).normal(size=(6, 2, 8))
    Xv[0, :, 5:] = np.nan
    Xres, _ = JitterScalingOverSampler(sampling_strategy={0: 20}, random_state=0).fit_resample(Xv, np.array([0] * 3 + [1] * 3))
    padded = np.isnan(Xres).any(1)
    assert np.array_equal(padded, np.isnan(Xres).all(1))
