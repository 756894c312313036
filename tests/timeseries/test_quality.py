"""Does a briefly trained RecurrentGAN learn what distinguishes two classes?"""

from __future__ import annotations

import numpy as np

from ganaug.augment.timeseries import TimeSeriesAugmenter


def _sine_and_square(n_per_class=48, length=24, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(length) / length * 4 * np.pi
    X = np.sin(t + rng.uniform(0, 2 * np.pi, (2 * n_per_class, 1)))
    X[n_per_class:] = np.sign(X[n_per_class:])
    X = X + rng.normal(0, 0.05, X.shape)
    y = np.array(["sine"] * n_per_class + ["square"] * n_per_class)
    return X, y


def _squareness(X):
    """Share of steps near the extremes: about 0.4 for a sine, 1.0 for a square wave."""
    return (np.abs(X) > 0.8).mean(axis=1)


def test_generated_series_follow_their_class():
    X, y = _sine_and_square()
    real = _squareness(X)
    assert real[y == "sine"].max() < 0.7 < real[y == "square"].min()  # the rule separates real data
    aug = TimeSeriesAugmenter(mode="rcgan", epochs=150, hidden_dim=16, num_layers=2, batch_size=32, lr_g=2e-3, lr_d=2e-3,
                              random_state=0).fit(X, y)
    Xs, ys = aug.sample({"sine": 100, "square": 100}, random_state=0)
    s = _squareness(Xs)
    consistent = np.mean(np.where(ys == "square", s > 0.7, s <= 0.7))
    assert consistent >= 0.85, f"only {consistent:.0%} of generated series look like their class"
    assert s[ys == "square"].mean() - s[ys == "sine"].mean() > 0.25
    # not a collapse onto one series: variety across samples of a class
    assert Xs[ys == "sine"].std(axis=0).mean() > 0.3
