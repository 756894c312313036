"""TimeGAN's discriminative and predictive scores on real stock windows."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

from ganaug.datasets import load_stocks
from ganaug.timeseries import make_windows
from ganaug.timeseries.metrics import (
    RepeatedScore,
    discriminative_score,
    nearest_distance,
    plot_real_vs_synthetic,
    predictive_score,
)

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def windows():
    raw = load_stocks(window=None).to_numpy(np.float64)
    scaled = (raw - raw.min(0)) / (raw.max(0) - raw.min(0))
    W = make_windows(scaled, window=24, stride=3)  # 1221 windows
    return W[np.random.default_rng(0).permutation(len(W))]


FAST_DISC = dict(n_repeats=1, iterations=250, batch_size=64, lr=1e-2)


def test_real_vs_real_is_near_zero_and_fake_is_caught(windows):
    half = len(windows) // 2
    same = discriminative_score(windows[:half], windows[half:], **FAST_DISC)
    assert isinstance(same, RepeatedScore) and len(same.values) == 1
    assert same.mean < 0.08
    # literally the same series on both sides: nothing to learn
    assert discriminative_score(windows[:half], windows[:half], **FAST_DISC).mean < 0.08
    rng = np.random.default_rng(0)
    fake = rng.uniform(0, 1, windows[half:].shape)  # right range, no structure
    assert discriminative_score(windows[:half], fake, **FAST_DISC).mean > 0.3


def test_predictive_score_prefers_real_training_data(windows):
    kw = dict(n_repeats=1, iterations=300, batch_size=64, lr=1e-2)
    on_real = predictive_score(windows, windows, **kw).mean
    assert on_real < 0.08
    noise = np.random.default_rng(0).uniform(0, 1, windows.shape)
    assert predictive_score(windows, noise, **kw).mean > on_real + 0.05


def test_scores_are_repeatable_and_leave_global_rng_alone(windows):
    import torch

    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = discriminative_score(windows[:200], windows[200:400], n_repeats=1, iterations=30, random_state=3)
    after = torch.rand(1)
    b = discriminative_score(windows[:200], windows[200:400], n_repeats=1, iterations=30, random_state=3)
    assert a == b and torch.equal(before, after)


def test_variable_length_and_bad_input():
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(60, 2, 10))
    X[::2, :, 7:] = np.nan
    assert 0 <= discriminative_score(X, X[::-1], n_repeats=1, iterations=20).mean <= 0.5
    assert np.isfinite(predictive_score(X, X, n_repeats=1, iterations=20).mean)
    with pytest.raises(ValueError, match="differ"):
        discriminative_score(X, X[:, :1])
    with pytest.raises(ValueError, match="3-D"):
        predictive_score(X[0, 0], X)
    with pytest.raises(ValueError, match="test_size"):
        discriminative_score(X, X, test_size=1.5)


def test_nearest_distance_flags_copies(windows):
    copies = windows[:50]
    assert np.allclose(nearest_distance(copies, windows), 0, atol=1e-6)
    shifted = windows[:50] + 0.1
    assert np.all(nearest_distance(shifted, windows) > 0)


def test_plot_real_vs_synthetic(windows):
    fig = plot_real_vs_synthetic(windows[:150], windows[150:300], method="both", n=150)
    assert len(fig.axes) == 2
    with pytest.raises(ValueError, match="method"):
        plot_real_vs_synthetic(windows, windows, method="umap")
