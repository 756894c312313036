"""pipelines/timeseries_long.py: NAB windows, the time split, and a ``--quick`` run end to end."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

TAXI = "realKnownCause/nyc_taxi.csv"
AMBIENT = "realKnownCause/ambient_temperature_system_failure.csv"


@pytest.fixture()
def long(import_pipeline):
    return import_pipeline("timeseries_long")


@pytest.fixture(scope="module")
def nab(shared_data):
    folder = shared_data / "nab" / "data"
    if not (folder / TAXI).is_file():
        pytest.skip(f"NAB data not found at {folder}")
    return folder


def test_stream_reads_the_csv_as_is(long, nab):
    stream = long.load_stream(nab / TAXI)
    raw = pd.read_csv(nab / TAXI)
    assert stream.name == "nyc_taxi" and len(stream.values) == len(raw) == 10320
    np.testing.assert_array_equal(stream.values, raw["value"].to_numpy(np.float64))
    assert stream.interval_minutes == 30 and stream.daily_lag == 48 and stream.irregular_steps == 0
    hourly = long.load_stream(nab / AMBIENT)
    assert hourly.daily_lag == 24 and hourly.irregular_steps > 0  # NAB's office temperature has gaps of days


def test_windows_are_the_csv_slices_and_the_split_has_no_overlap(long, nab):
    stream = long.load_stream(nab / TAXI)
    raw = pd.read_csv(nab / TAXI)["value"].to_numpy(np.float64)
    window, k = 500, 7
    parts = long.split_windows(stream, window, k, heldout=0.2)
    split = parts["split"]
    assert split == round(len(raw) * 0.8)
    for key in ("train", "heldout"):
        X, starts = parts[key], parts[f"{key}_starts"]
        assert X.shape == (k, 1, window)
        for x, s in zip(X, starts):
            np.testing.assert_array_equal(x[0], raw[s : s + window])
    tr, ho = parts["train_starts"], parts["heldout_starts"]
    assert tr[0] == 0 and tr[-1] + window <= split  # the last training window ends before the split ...
    assert ho[0] == split and ho[-1] + window == len(raw)  # ... the held-out ones start at it, the last ends the file
    train_steps = set((tr[:, None] + np.arange(window)).ravel().tolist())
    held_steps = set((ho[:, None] + np.arange(window)).ravel().tolist())
    assert not train_steps & held_steps
    assert np.all(np.diff(tr) > 0) and np.all(np.diff(ho) > 0)


def test_too_short_a_stream_is_refused(long, nab):
    stream = long.load_stream(nab / TAXI)
    with pytest.raises(ValueError, match="too short"):
        long.split_windows(stream, 2100, 5, heldout=0.2)  # held-out part: 2064 steps


def test_window_scaling_and_scale_gap(long):
    X = np.stack([np.linspace(0, 10, 20), np.full(20, 3.0), np.linspace(-5, 5, 20)])[:, None, :]
    W = long.window_scaled(X)
    assert W.min() == 0 and W.max() == 1 and np.all(W[1] == 0)
    assert long.scale_gap(X, X) == 0
    assert long.scale_gap(X, X * 1000) > 2  # three decades apart


def test_quick_run_end_to_end(long, nab, tmp_path):
    out = tmp_path / "long"
    args = ["--quick", "--out", str(out), "--data", str(nab), "--window", "300", "--windows-per-stream", "4"]
    assert long.main(args) == 0
    text = (out / "long.md").read_text()
    assert "- command:" in text and "- commit:" in text and "Quick mode" in text
    facts = json.loads((out / "long.json").read_text())
    assert set(facts["streams"]) == {"nyc_taxi", "machine_temperature_system_failure",
                                     "cpu_utilization_asg_misconfiguration", "ambient_temperature_system_failure"}
    assert facts["daily_lags"] == [24, 48] and facts["range_normalization"] is True  # 288 > 0.6 * 300 steps
    arms = facts["arms"]
    assert len(arms) == 5 and all(a["n_windows"] == 16 for a in arms.values())
    assert arms["real held-out windows (floor)"]["novelty"]["ratio"] == pytest.approx(1.0)
    assert "fit_s" in arms["ganaug rcgan, steps_per_output=10"]
    for name in ("examples.png", "autocorrelation.png"):
        assert (out / name).stat().st_size > 1000
