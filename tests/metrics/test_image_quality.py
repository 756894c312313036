"""SSIM, PSNR and MAE per image, checked on real MNIST digits against independent references."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ganaug.datasets import load_mnist
from ganaug.metrics.image_quality import mean_absolute_error, psnr, ssim


@pytest.fixture(scope="module")
def digits():
    X, _ = load_mnist()
    return X[:40]


def _noisy(X, std, seed=0):
    rng = np.random.default_rng(seed)
    return np.clip(X / 255.0 + rng.normal(0, std, X.shape), 0, 1)


def _ssim_loop(a, b, data_range, win=11, sigma=1.5):
    """Textbook SSIM of one image pair: a Python loop over window positions."""
    r = np.arange(win) - (win - 1) / 2
    g = np.exp(-(r**2) / (2 * sigma**2))
    w = np.outer(g, g) / np.outer(g, g).sum()
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    vals = []
    for i in range(a.shape[0] - win + 1):
        for j in range(a.shape[1] - win + 1):
            pa, pb = a[i : i + win, j : j + win], b[i : i + win, j : j + win]
            ma, mb = (w * pa).sum(), (w * pb).sum()
            va, vb = (w * pa * pa).sum() - ma**2, (w * pb * pb).sum() - mb**2
            cov = (w * pa * pb).sum() - ma * mb
            vals.append((2 * ma * mb + c1) * (2 * cov + c2) / ((ma**2 + mb**2 + c1) * (va + vb + c2)))
    return float(np.mean(vals))


def test_ssim_matches_textbook_loop_on_digits(digits):
    a = digits[:3] / 255.0
    b = _noisy(digits[:3], 0.2)
    got = ssim(a, b, data_range=1.0)
    expected = [_ssim_loop(a[i], b[i], 1.0) for i in range(3)]
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_ssim_matches_torchmetrics_map_inside_the_borders(digits):
    tm = pytest.importorskip("torchmetrics.functional.image")
    a = digits / 255.0
    b = _noisy(digits, 0.1)
    _, full = tm.structural_similarity_index_measure(
        torch.tensor(b[:, None]), torch.tensor(a[:, None]), data_range=1.0, reduction="none", return_full_image=True
    )
    ref = full[..., 5:-5, 5:-5].reshape(len(a), -1).mean(1).numpy()
    np.testing.assert_allclose(ssim(a, b, data_range=1.0), ref, atol=1e-9)


def test_ssim_falls_as_noise_grows(digits):
    a = digits / 255.0
    means = [ssim(a, _noisy(digits, s), data_range=1.0).mean() for s in (0.0, 0.05, 0.15, 0.4)]
    assert means[0] == pytest.approx(1.0)
    assert all(x > y for x, y in zip(means, means[1:]))
    assert ssim(digits, 255 - digits).mean() < 0.0  # a negative image is anti-correlated


def test_layouts_and_uint8_default_range(digits):
    rgb = np.stack([digits, 255 - digits, digits // 2], axis=1)  # (N, 3, 28, 28)
    other = np.roll(rgb, 1, axis=-1)
    nchw = ssim(rgb, other)
    nhwc = ssim(rgb.transpose(0, 2, 3, 1), other.transpose(0, 2, 3, 1), channel_axis=-1)
    np.testing.assert_allclose(nchw, nhwc)
    assert nchw.shape == (len(digits),)
    np.testing.assert_allclose(ssim(digits, np.roll(digits, 1, -1)), ssim(digits / 255.0, np.roll(digits, 1, -1) / 255.0, 1.0))
    assert isinstance(ssim(digits[0], digits[0]), float)


def test_psnr_and_mae_known_values(digits):
    a = np.zeros((2, 16, 16))
    b = np.full((2, 16, 16), 0.1)
    np.testing.assert_allclose(psnr(a, b, data_range=1.0), [20.0, 20.0])
    np.testing.assert_allclose(mean_absolute_error(a, b, data_range=1.0), [0.1, 0.1])
    assert np.isinf(psnr(digits, digits)).all()
    np.testing.assert_allclose(mean_absolute_error(digits, 255 - digits), np.abs(2 * (digits / 255.0) - 1).mean(axis=(1, 2)))


@pytest.mark.parametrize(
    "x, y, kwargs, error, match",
    [
        (np.zeros((2, 16, 16)), np.zeros((2, 16, 15)), {"data_range": 1}, ValueError, "same shape"),
        (np.zeros((2, 16, 16)), np.zeros((2, 16, 16)), {}, ValueError, "data_range is required"),
        (np.zeros(16), np.zeros(16), {"data_range": 1}, ValueError, "images must be"),
        (np.zeros((1, 2, 2)), np.zeros((1, 2, 2)), {"data_range": 1}, ValueError, "too small"),
        (np.array([["a"]]), np.array([["a"]]), {"data_range": 1}, TypeError, "numbers"),
        (np.full((1, 8, 8), np.nan), np.zeros((1, 8, 8)), {"data_range": 1}, ValueError, "NaN"),
        (np.zeros((1, 8, 8)), np.zeros((1, 8, 8)), {"data_range": 0}, ValueError, "data_range must be > 0"),
    ],
)
def test_bad_input_is_named(x, y, kwargs, error, match):
    with pytest.raises(error, match=match):
        ssim(x, y, **kwargs)


@settings(max_examples=25, deadline=None)
@given(arrays(np.float64, (2, 12, 12), elements=st.floats(0, 1)), arrays(np.float64, (2, 12, 12), elements=st.floats(0, 1)))
def test_ssim_is_symmetric_bounded_and_one_on_itself(x, y):
    s = ssim(x, y, data_range=1.0)
    np.testing.assert_allclose(s, ssim(y, x, data_range=1.0), atol=1e-12)
    assert (s <= 1 + 1e-9).all() and (s >= -1 - 1e-9).all()
    np.testing.assert_allclose(ssim(x, x, data_range=1.0), 1.0, atol=1e-9)
