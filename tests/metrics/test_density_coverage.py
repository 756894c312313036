"""Density, coverage, precision and recall from k-NN balls (Naeem et al. 2020; Kynkäänniemi et al. 2019)."""

from __future__ import annotations

import numpy as np
import pytest

from ganaug.metrics import fidelity
from ganaug.metrics.fidelity import class_density_coverage, density_coverage, precision_recall


@pytest.fixture(scope="module")
def digits():
    """MNIST-4k as 20-d PCA features (fitted on the first half), shuffled once."""
    from ganaug.datasets import load_mnist

    X, y = load_mnist()
    order = np.random.default_rng(0).permutation(len(y))
    X = X[order].reshape(len(y), -1).astype(np.float64) / 255.0
    y = y[order]
    mean = X[:2000].mean(axis=0)
    _, _, vt = np.linalg.svd(X[:2000] - mean, full_matrices=False)
    return (X - mean) @ vt[:20].T, y


def _brute_force(real, fake, k):
    """The definitions written out with full distance matrices (the reference code's open balls)."""
    d_rr = np.linalg.norm(real[:, None] - real[None], axis=-1)
    d_ff = np.linalg.norm(fake[:, None] - fake[None], axis=-1)
    d_rf = np.linalg.norm(real[:, None] - fake[None], axis=-1)
    r_real = np.sort(d_rr, axis=1)[:, k]  # index 0 is the point itself
    r_fake = np.sort(d_ff, axis=1)[:, k]
    inside = d_rf < r_real[:, None]
    return {
        "density": inside.sum() / (k * len(fake)),
        "coverage": (d_rf.min(axis=1) < r_real).mean(),
        "precision": inside.any(axis=0).mean(),
        "recall": (d_rf < r_fake[None, :]).any(axis=1).mean(),
    }


def test_matches_the_definitions_and_blocks_do_not_change_the_result(monkeypatch):
    rng = np.random.default_rng(1)
    real = rng.normal(size=(150, 4)) + 100.0  # far from the origin: the centring keeps distances exact
    fake = rng.normal(size=(90, 4)) * 1.3 + 100.4
    ref = _brute_force(real, fake, 3)
    got = {**density_coverage(real, fake, k=3), **precision_recall(real, fake, k=3)}
    assert got == pytest.approx(ref, abs=1e-12)
    monkeypatch.setattr(fidelity, "_BLOCK_BYTES", 8 * 7 * 150)  # 7-row blocks
    small = {**density_coverage(real, fake, k=3), **precision_recall(real, fake, k=3)}
    assert small == got


def test_real_vs_held_out_real_digits(digits):
    feats, _ = digits
    out = density_coverage(feats[:2000], feats[2000:], k=5)
    assert out["coverage"] > 0.8
    assert out["density"] == pytest.approx(1.0, abs=0.2)
    pr = precision_recall(feats[:2000], feats[2000:], k=5)
    assert pr["precision"] > 0.8 and pr["recall"] > 0.8


def test_collapsed_fakes_get_low_coverage(digits):
    feats, y = digits
    real, held = feats[:2000], feats[2000:]
    one_image = np.repeat(held[:1], 2000, axis=0)
    assert density_coverage(real, one_image, k=5)["coverage"] < 0.02
    one_digit = held[y[2000:] == 1]  # real, well-formed images, but only of one digit
    fresh = density_coverage(real, held, k=5)["coverage"]
    assert density_coverage(real, one_digit, k=5)["coverage"] < 0.25 < fresh
    assert precision_recall(real, one_digit, k=5)["recall"] < 0.3


def test_per_class_on_digits(digits):
    feats, y = digits
    real, y_real, held, y_held = feats[:2000], y[:2000], feats[2000:], y[2000:]
    fake, y_fake = held.copy(), y_held.copy()
    ones = np.flatnonzero(y_fake == 1)
    fake[ones] = fake[ones[0]]  # digit 1 collapsed onto one image, the others fresh real digits
    out = class_density_coverage(real, y_real, fake, y_fake, k=5)
    assert set(out) == set(range(10))
    assert out[1]["coverage"] < 0.1
    assert all(out[c]["coverage"] > 0.7 for c in range(10) if c != 1)
    assert out[3] == density_coverage(real[y_real == 3], held[y_held == 3], k=5)
    few = class_density_coverage(real, y_real, fake[:3], y_fake[:3], k=5, classes=[y_fake[0], 99])
    assert np.isnan(few[99]["coverage"]) and np.isnan(few[99]["density"])  # no fakes of class 99


def test_bad_input_is_named():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(10, 3))
    with pytest.raises(ValueError, match="feature widths differ"):
        density_coverage(a, rng.normal(size=(10, 4)))
    with pytest.raises(ValueError, match="feature widths differ"):
        class_density_coverage(a, np.zeros(10), rng.normal(size=(10, 4)), np.zeros(10))
    with pytest.raises(ValueError, match=r"k=10 .*more than k real samples, got 10"):
        density_coverage(a, a, k=10)
    with pytest.raises(ValueError, match=r"more than k fake samples, got 3"):
        precision_recall(a, a[:3], k=3)
    with pytest.raises(ValueError, match="k must be a positive int"):
        density_coverage(a, a, k=0)
    with pytest.raises(ValueError, match="k must be a positive int"):
        density_coverage(a, a, k=2.5)
    with pytest.raises(ValueError, match="2-D"):
        density_coverage(a.ravel(), a)
    with pytest.raises(ValueError, match="NaN"):
        density_coverage(a, np.full((2, 3), np.nan))
    with pytest.raises(ValueError, match="fake_features needs at least 1"):
        density_coverage(a, np.zeros((0, 3)))
    with pytest.raises(ValueError, match="differ in length"):
        class_density_coverage(a, np.zeros(9), a, np.zeros(10))
