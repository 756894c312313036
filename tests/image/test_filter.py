"""``ImageAugmenter(filter_synthetic=True)``: classifier-confidence and copy filter of generated images."""

from __future__ import annotations

import numpy as np
import pytest

from ganaug.augment.image import ImageAugmenter
from ganaug.privacy import filter_copies
from ganaug.privacy.neighbors import nearest_distances

# the filter's mechanics on a 2-epoch generator; the generator of before the style split (style_dim=0, no
# mode-seeking term) is pinned: after 2 epochs the default one still draws noise that nothing passes
FILTER = dict(epochs=2, batch_size=32, width=16, latent_dim=8, random_state=0, filter_synthetic=True,
              filter_threshold=0.5, filter_classifier_steps=100, style_dim=0, diversity_weight=0.0)


@pytest.fixture(scope="module")
def digits01(mnist):
    X, y = mnist
    idx = np.concatenate([np.flatnonzero(y == 0)[:150], np.flatnonzero(y == 1)[:150]])
    return X[idx], y[idx]


@pytest.fixture(scope="module")
def filtered(digits01):
    X, y = digits01
    return ImageAugmenter(**FILTER).fit(X, y)


def _check_passes(aug, X_new, y_new, X, y):
    """Recompute both checks for every returned image."""
    codes = np.searchsorted(aug.classes_, np.asarray(y_new))
    proba = aug.filter_classifier_.predict_proba(X_new)[np.arange(len(codes)), codes]
    assert bool((proba >= aug.filter_threshold - 1e-6).all()), proba.min()
    assert bool(filter_copies(X_new, X, np.asarray(y_new), y, quantile=aug.filter_copy_quantile).all())
    d = nearest_distances(X_new.reshape(len(X_new), -1) / 255.0, X.reshape(len(X), -1) / 255.0)[0][:, 0]
    assert bool((d >= aug.copy_thresholds_[codes] - 1e-9).all()) and bool((d > 0).all())


def test_every_returned_image_passes_both_checks_and_rates_are_per_class(filtered, digits01):
    X, y = digits01
    X_new, y_new = filtered.sample({0: 30, 1: 30}, random_state=1)
    assert X_new.shape == (60, 28, 28) and X_new.dtype == np.uint8
    assert y_new.tolist() == [0] * 30 + [1] * 30
    rates = filtered.acceptance_rate_
    assert set(rates) == {0, 1}
    assert all(0.0 < r <= 1.0 for r in rates.values())
    assert min(rates.values()) < 1.0  # this young generator's images are not all accepted
    _check_passes(filtered, X_new, y_new, X, y)
    # same seed, same images
    np.testing.assert_array_equal(filtered.sample({0: 30, 1: 30}, random_state=1)[0], X_new)


def test_filter_off_returns_unfiltered_images(filtered, digits01):
    X, y = digits01
    rates = dict(filtered.acceptance_rate_) if hasattr(filtered, "acceptance_rate_") else None
    filtered.set_params(filter_synthetic=False)
    try:
        X_raw, y_raw = filtered.sample({0: 100, 1: 100}, random_state=1)
        assert (dict(filtered.acceptance_rate_) if rates is not None else None) == rates  # not a filtered draw
        codes = np.searchsorted(filtered.classes_, y_raw)
        passing = filtered.filter_mask(X_raw, codes)
        assert not passing.all()  # unfiltered: some images fail the checks
        # the raw draw is the generator's output itself
        np.testing.assert_array_equal(X_raw, filtered._draw(codes, _seed_of(1)))
    finally:
        filtered.set_params(filter_synthetic=True)
    X_f, _ = filtered.sample({0: 100, 1: 100}, random_state=1)
    assert filtered.filter_mask(X_f, codes).all()


def _seed_of(random_state):
    from ganaug.utils import seed_from_random_state

    return seed_from_random_state(random_state)


def test_copy_check_rejects_training_images(filtered, digits01):
    X, y = digits01
    codes = np.searchsorted(filtered.classes_, y)
    proba = filtered.filter_classifier_.predict_proba(X)[np.arange(len(y)), codes]
    assert (proba >= filtered.filter_threshold).mean() > 0.8  # the classifier would accept most of them
    assert not filtered.filter_mask(X, codes).any()  # but they are copies of training images
    slightly_moved = np.roll(X, 1, axis=2)  # shifted digits are new images, not copies
    assert filtered.filter_mask(slightly_moved, codes).any()


def test_fit_resample_goes_through_the_filter(digits01):
    X, y = digits01
    keep = np.r_[np.flatnonzero(y == 0), np.flatnonzero(y == 1)[:40]]
    Xi, yi = X[keep], y[keep]
    aug = ImageAugmenter(**FILTER)
    X_res, y_res = aug.fit_resample(Xi, yi)
    assert np.bincount(y_res).tolist() == [150, 150]
    np.testing.assert_array_equal(X_res[: len(Xi)], Xi)
    assert set(aug.acceptance_rate_) == {1}
    _check_passes(aug, X_res[len(Xi):], y_res[len(Xi):], Xi, yi)


def test_too_low_acceptance_gives_a_clear_error(filtered):
    saved = filtered.copy_thresholds_
    filtered.copy_thresholds_ = np.full(len(saved), np.inf)  # nothing can pass
    try:
        with pytest.raises(ValueError, match=r"class 0 got 0 of 5 images .*acceptance rate 0\.00%"):
            filtered.sample({0: 5, 1: 5}, random_state=0)
        assert filtered.acceptance_rate_ == {0: 0.0, 1: 0.0}
    finally:
        filtered.copy_thresholds_ = saved


def test_save_load_keeps_the_filter(filtered, tmp_path):
    filtered.save(tmp_path / "m")
    loaded = ImageAugmenter.load(tmp_path / "m")
    a, _ = filtered.sample({0: 10, 1: 10}, random_state=4)
    b, _ = loaded.sample({0: 10, 1: 10}, random_state=4)
    np.testing.assert_array_equal(a, b)
    assert loaded.acceptance_rate_ == filtered.acceptance_rate_
    np.testing.assert_array_equal(loaded.copy_thresholds_, filtered.copy_thresholds_)


def test_filter_needs_two_classes_and_a_fitted_filter(digits01, tiny_augmenter):
    X, y = digits01
    with pytest.raises(ValueError, match="at least two classes"):
        ImageAugmenter(**FILTER).fit(X)
    with pytest.raises(ValueError, match="filter_synthetic=False"):
        tiny_augmenter.filter_mask(X[:3], np.zeros(3, dtype=int))


@pytest.mark.parametrize("param,value", [("filter_threshold", 1.5), ("filter_copy_quantile", 0.5),
                                         ("filter_max_tries", 0), ("filter_classifier_steps", 0),
                                         ("filter_synthetic", "yes")])
def test_bad_filter_parameters(digits01, param, value):
    X, y = digits01
    with pytest.raises(ValueError, match=param):
        ImageAugmenter(**{**FILTER, param: value}).fit(X, y)


def test_balanced_indices_fill_every_class_to_the_largest():
    from ganaug.augment.image import balanced_indices

    codes = np.array([2, 0, 0, 0, 0, 0, 1, 2, 0, 0])
    idx = balanced_indices(codes, seed=3)
    assert np.bincount(codes[idx]).tolist() == [7, 7, 7]
    assert np.array_equal(idx[: len(codes)], np.arange(len(codes)))  # every real image once, then repeats
    np.testing.assert_array_equal(idx, balanced_indices(codes, seed=3))


def test_filter_classifier_is_trained_class_balanced(mnist, monkeypatch):
    """On 60 zeros and 6 ones the filter's classifier sees both digits equally often."""
    from ganaug.image.classifier import CNNClassifier

    X, y = mnist
    idx = np.concatenate([np.flatnonzero(y == 0)[:60], np.flatnonzero(y == 1)[:6]])
    seen = {}
    fit = CNNClassifier.fit

    def spy(self, X_fit, y_fit=None):
        seen["counts"] = np.bincount(np.asarray(y_fit)).tolist()
        return fit(self, X_fit, y_fit)

    monkeypatch.setattr(CNNClassifier, "fit", spy)
    aug = ImageAugmenter(**{**FILTER, "epochs": 1, "filter_classifier_steps": 20}).fit(X[idx], y[idx])
    assert seen["counts"] == [60, 60]
    assert aug.filter_classifier_ is not None
