"""The series benchmark's window baselines (pipelines/_series_baselines.py) on a real series."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

from ganaug.datasets import load_internal_bleeding

WINDOW = 32


@pytest.fixture()
def baselines(import_pipeline):
    return import_pipeline("_series_baselines")


@pytest.fixture(scope="module")
def bleeding_with_spike():
    """InternalBleeding16's normal train part and its test part with a spike away from the labelled anomaly.

    The spike is one window (32 steps) wide: IsolationForest on 64-dimensional
    windows hardly sees a one-step spike (one coordinate of 64 per window; it
    ranks below the median on this series), the nearest-window distance does.
    """
    train, test, lab = load_internal_bleeding()
    x = np.asarray(test, dtype=np.float64).copy()
    at, width = 1500, WINDOW
    assert not lab[at - WINDOW:at + width + WINDOW].any()
    x[at:at + width] += 8.0 * x.std()
    return np.asarray(train, dtype=np.float64), x, at


def test_fold_is_the_mean_over_covering_windows(baselines):
    v = np.array([1.0, 2.0, 3.0, 4.0])
    out = baselines.fold(v, 3)
    assert out.shape == (6,)
    np.testing.assert_allclose(out, [1.0, 1.5, 2.0, 3.0, 3.5, 4.0])


def test_window_matrix_shape_and_channels(baselines):
    x = np.arange(10.0)
    W = baselines.window_matrix(x, 4)
    assert W.shape == (7, 8)  # values and first differences, 4 steps each
    # the difference channel of a ramp is constant (1), hence 0 after z-scoring except the first step
    np.testing.assert_allclose(W[1:, 4:], W[1, 4])


@pytest.mark.parametrize("name", ["iforest_scores", "nearest_window_scores"])
@pytest.mark.parametrize("fit_on_train", [True, False])
def test_spike_gets_a_top_score(baselines, bleeding_with_spike, name, fit_on_train):
    train, x, at = bleeding_with_spike
    fn = getattr(baselines, name)
    s = fn(x, WINDOW, seed=0, fit=train if fit_on_train else None)
    assert s.shape == x.shape and np.isfinite(s).all()
    # the spike's steps hold a top-1 % score of the whole series (the real anomaly at ~4190 may hold the top one)
    assert s[at:at + WINDOW].max() >= np.quantile(s, 0.99), (name, int(np.argmax(s)), at)


def test_nearest_window_self_join_excludes_overlapping_windows(baselines):
    """Against a brute-force loop: k nearest among the windows whose start is >= window/2 steps away."""
    train, _, _ = load_internal_bleeding()
    x, w, k = np.asarray(train[:300], dtype=np.float64), 16, 5
    W = baselines.window_matrix(x, w)
    brute = []
    for i in range(len(W)):
        far = np.abs(np.arange(len(W)) - i) >= w / 2
        d = np.sort(np.linalg.norm(W[far] - W[i], axis=1))
        brute.append(d[:k].mean())
    got = baselines.nearest_window_scores(x, w, seed=0, k=k)
    np.testing.assert_allclose(got, baselines.fold(np.array(brute), w), rtol=1e-6, atol=1e-6)
    # with the overlapping windows allowed, a window's nearest neighbour would be itself (distance 0)
    assert got.min() > 0


def test_benchmark_series_arms_on_a_nab_stream(shared_data, baselines, import_pipeline):
    """The pipeline's baseline arms give one finite score per step of a real NAB stream."""
    anomaly_benchmark = import_pipeline("anomaly_benchmark")

    df = pd.read_csv(shared_data / "nab" / "data" / "realKnownCause" / "rogue_agent_key_hold.csv")
    x = df["value"].to_numpy(dtype=np.float64)
    cut = int(0.3 * len(x))
    arms = anomaly_benchmark.series_baselines(x[cut:], x[:cut], WINDOW, 0,
                                              anomaly_benchmark.rolling_zscore(x, 100)[cut:])
    assert set(arms) == set(anomaly_benchmark.SERIES_BASELINES)
    for name, (score, secs) in arms.items():
        assert score.shape == (len(x) - cut,) and np.isfinite(score).all(), name
        assert secs >= 0.0
