"""Lengths of synthetic variable-length series: smoothed, not copied from the training series (issue 22, item 4)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ganaug.augment.base import BaseAugmenter
from ganaug.augment.timeseries import TimeSeriesAugmenter
from ganaug.timeseries.lengths import length_bandwidth, smoothed_length_table

FAST = dict(mode="rcgan", epochs=1, hidden_dim=8, num_layers=1, batch_size=64)


def _lengths(X):
    return (~np.isnan(X).any(1)).sum(1)


# ----------------------------------------------------------------- the table
def test_table_rows_are_distributions_within_the_widened_range():
    lengths = np.array([10, 12, 12, 15, 20, 7, 7, 7])
    codes = np.array([0, 0, 0, 0, 0, 1, 1, 1])
    table = smoothed_length_table(lengths, codes, 3, 24)
    assert table.shape == (3, 25) and np.allclose(table.sum(1), 1.0)
    h = length_bandwidth(lengths[:5])
    support = np.flatnonzero(table[0])
    assert support.min() == 10 - int(np.ceil(2 * h)) and support.max() == 20 + int(np.ceil(2 * h))
    # more mass between the training lengths than a copy puts there
    assert table[0, [11, 13, 14, 16, 17, 18, 19]].sum() > 0.2
    assert table[1, 7] == 1.0  # every series of the class has one length: nothing to hide, nothing to smooth
    assert table[2, 24] == 1.0  # a class without series: full length
    copy = smoothed_length_table(lengths, codes, 3, 24, smoothing=0)
    assert np.allclose(copy[0, [10, 12, 15, 20]], [0.2, 0.4, 0.2, 0.2])


def test_table_respects_the_hard_bounds():
    table = smoothed_length_table([2, 3, 29, 30], [0, 0, 0, 0], 1, 30, smoothing=5.0)
    assert table[0, :2].sum() == 0 and np.isclose(table[0].sum(), 1.0)


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf"), "silverman", True, [1.0]])
def test_bad_length_smoothing_is_refused(bad):
    with pytest.raises(ValueError, match="length_smoothing"):
        smoothed_length_table([5, 6], [0, 0], 1, 8, smoothing=bad)
    X = np.random.default_rng(0).normal(size=(12, 1, 8))
    X[::2, :, 6:] = np.nan
    with pytest.raises(ValueError, match="length_smoothing"):
        TimeSeriesAugmenter(**FAST, length_smoothing=bad).fit(X, np.repeat([0, 1], 6))


# ------------------------------------------------ real data: JapaneseVowels
@pytest.fixture(scope="module")
def vowels_rare(shared_data):
    """JapaneseVowels as in the rare-class benchmark: 6 of class 1's 30 training series kept, all 12 channels."""
    with np.load(shared_data / "timeseries" / "JapaneseVowels.npz", allow_pickle=False) as d:
        X, y, X_test, y_test = d["X_train"], d["y_train"], d["X_test"], d["y_test"]
    kept = np.random.default_rng(0).choice(np.flatnonzero(y == "1"), size=6, replace=False)
    idx = np.sort(np.r_[np.flatnonzero(y != "1"), kept])
    return X[idx], y[idx], _lengths(X_test[y_test == "1"])


@pytest.fixture(scope="module")
def vowels_fits(vowels_rare):
    X, y, _ = vowels_rare
    return {s: TimeSeriesAugmenter(**FAST, length_smoothing=s, random_state=0).fit(X, y) for s in (0, "auto")}


@pytest.mark.slow
def test_synthetic_lengths_are_not_copies_of_the_training_lengths(vowels_rare, vowels_fits):
    X, y, fresh = vowels_rare
    members = _lengths(X[y == "1"])  # the 6 lengths an attacker would look for
    n = 600
    share = {}
    for s, aug in vowels_fits.items():
        Xs, ys = aug.sample({"1": n, "2": n}, random_state=0)
        lengths = _lengths(Xs)
        # padding: NaN only at the end, in every channel together
        assert np.array_equal(np.isnan(Xs).any(1), np.arange(X.shape[2])[None, :] >= lengths[:, None])
        assert np.array_equal(np.isnan(Xs).any(1), np.isnan(Xs).all(1))
        share[s] = float(np.isin(lengths[ys == "1"], members).mean())
        if s == "auto":
            syn_rare = lengths[ys == "1"]
            for label in ("1", "2"):
                train, syn = _lengths(X[y == label]), lengths[ys == label]
                # the distribution stays close to the class's training lengths
                assert abs(syn.mean() - train.mean()) < 1.5, (label, syn.mean(), train.mean())
                assert 0.8 < syn.std() / train.std() < 1.6, (label, syn.std(), train.std())
                assert syn.min() >= 2 and syn.max() <= X.shape[2]
    # copying: every synthetic series of the rare class has the length of one of its 6 members
    assert share[0] == 1.0
    # smoothed: members' lengths are hit well below that, and about as often as by fresh series of the class
    fresh_share = float(np.isin(fresh, members).mean())
    assert share["auto"] < 0.7, share
    assert share["auto"] < fresh_share + 0.25, (share, fresh_share)
    # lengths no member has are drawn too, and are common
    assert np.unique(syn_rare[~np.isin(syn_rare, members)]).size >= 4


@pytest.mark.slow
def test_length_table_survives_save_load(tmp_path, vowels_fits):
    aug = vowels_fits["auto"]
    aug.save(tmp_path / "m")
    loaded = BaseAugmenter.load(tmp_path / "m")
    assert loaded.length_smoothing == "auto"
    assert np.array_equal(loaded.length_probs_, aug.length_probs_)
    a, _ = aug.sample({"1": 50}, random_state=3)
    b, _ = loaded.sample({"1": 50}, random_state=3)
    assert np.array_equal(np.isnan(a), np.isnan(b))
    # a model saved before length smoothing (no table in its state) rebuilds the table from its counts
    config_path = tmp_path / "m" / "config.json"
    config = json.loads(config_path.read_text())
    assert "length_probs" in config["state"]
    state = dict(config["state"])
    state.pop("length_probs")
    old = TimeSeriesAugmenter(**FAST, random_state=0)
    old._set_state(state, {f"module.{k}": v for k, v in aug.module_.state_dict().items()})
    assert np.allclose(old.length_probs_, aug.length_probs_)
