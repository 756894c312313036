"""Hypothesis fuzzing of ``TranslationAugmenter`` (pix2pix and CycleGAN): any arrays, labels and
arguments either work (the output is checked) or raise a clean error naming what is wrong."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ganaug.augment.translation import TranslationAugmenter
from tests.reliability._fuzz import byte_equal_prefix, fuzz_settings, labels, pixel_array, works_or_clean_error

#: tiny networks, one epoch: a fit takes well under a second
TINY_TR = dict(epochs=1, batch_size=8, base_channels=4, random_state=0, trainer={"enable_progress_bar": False})
DTYPES = ["uint8", "float32", "float64", "int64", "bool", "object", "float16"]
SPECIAL = [None, np.nan, np.inf, -np.inf, 1e30, -5.0, 300.0]

shapes = st.one_of(
    st.tuples(st.integers(0, 12), st.sampled_from([4, 8, 6, 12]), st.sampled_from([4, 8, 6])),            # (N, H, W)
    st.tuples(st.integers(0, 12), st.sampled_from([1, 3, 2]), st.sampled_from([4, 8]), st.sampled_from([4, 8])),
    st.tuples(st.integers(0, 12), st.sampled_from([4, 8]), st.sampled_from([4, 8]), st.sampled_from([1, 3])),
    st.tuples(st.integers(0, 12), st.integers(1, 6)),
    st.tuples(st.integers(0, 12)),
)


#: mostly well-formed image batches, so that fits get past validation often
pair_shapes = st.one_of(
    st.tuples(st.integers(0, 12), st.sampled_from([8, 12]), st.sampled_from([8, 12])),
    st.tuples(st.integers(0, 12), st.sampled_from([1, 3]), st.just(8), st.just(8)),
    st.tuples(st.integers(0, 12), st.just(8), st.just(8), st.sampled_from([1, 3, 2])),
    shapes,
)


def _check_translation(out, X):
    # same dtype; an object array of numbers is read as float64 and comes back so
    want = np.dtype(np.float64) if X.dtype == object else X.dtype
    assert out.shape[0] == X.shape[0] and out.dtype == want, (out.shape, out.dtype, X.shape, X.dtype)
    assert np.isfinite(out.astype(np.float64)).all(), "translated images hold NaN/inf"


@fuzz_settings(20)
@given(pair_shapes, st.sampled_from(DTYPES), st.sampled_from(SPECIAL), st.integers(0, 99), st.data())
def test_pix2pix_fit_and_transform_any_pair(shape, dtype, special, seed, data):
    X_a = pixel_array(shape, dtype, special, seed)
    X_b = data.draw(st.sampled_from([255 - X_a if X_a.dtype == np.uint8 else X_a, pixel_array(shape, "uint8", None, seed + 1),
                                     pixel_array((max(shape[0] - 1, 0), *shape[1:]), "uint8", None, seed)]))
    ok, aug = works_or_clean_error(lambda: TranslationAugmenter("pix2pix", **TINY_TR).fit(X_a, X_b))
    if ok:
        _check_translation(aug.transform(X_a), X_a)


@pytest.fixture(scope="module")
def fitted_pix2pix():
    rng = np.random.default_rng(0)
    X_a = rng.integers(0, 256, size=(16, 8, 8), dtype=np.uint8)
    return TranslationAugmenter("pix2pix", **TINY_TR).fit(X_a, 255 - X_a)


@fuzz_settings(25)
@given(shapes, st.sampled_from(DTYPES), st.sampled_from(SPECIAL), st.integers(0, 99))
def test_transform_any_array(fitted_pix2pix, shape, dtype, special, seed):
    X = pixel_array(shape, dtype, special, seed)
    ok, out = works_or_clean_error(lambda: fitted_pix2pix.transform(X))
    if ok:
        _check_translation(out, X)
        assert out.shape[1:] == X.shape[1:]


@fuzz_settings(15)
@given(st.integers(0, 16), st.sampled_from(["uint8", "float32", "object"]), st.integers(0, 99), st.data())
def test_cyclegan_fit_resample_any_labels(n, dtype, seed, data):
    X = pixel_array((n, 8, 8), dtype, None, seed)
    y = data.draw(labels(n))
    source, target = data.draw(st.sampled_from([(None, None), ("neg", "pos"), ("a", "zz"), (-3, 4), (0, 1)]))
    aug = TranslationAugmenter("cyclegan", source=source, target=target, **TINY_TR)
    ok, out = works_or_clean_error(lambda: aug.fit_resample(X, y))
    if ok:
        X_res, y_res = out
        byte_equal_prefix(X_res, X)
        assert len(X_res) == len(y_res) >= n and X_res.dtype == X.dtype
        assert np.isfinite(np.asarray(X_res[n:], dtype=np.float64)).all()


@fuzz_settings(8)
@given(st.integers(2, 12), st.sampled_from([(8, 8), (1, 8, 8), (8, 8, 3), (3, 12, 12)]),
       st.sampled_from(["uint8", "float32", "float64"]), st.integers(0, 99))
def test_pix2pix_valid_pairs_always_work(n, shape, dtype, seed):
    X_a = pixel_array((n, *shape), dtype, None, seed)
    X_b = pixel_array((n, *shape), dtype, None, seed + 1)
    aug = TranslationAugmenter("pix2pix", **TINY_TR).fit(X_a, X_b)
    out = aug.transform(X_a)
    _check_translation(out, X_a)
    assert out.shape == X_a.shape
