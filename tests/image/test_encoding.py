import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ganaug.image.encoding import ImageEncoder, check_images


@pytest.mark.parametrize("layout,shape", [("NHW", (5, 8, 8)), ("NCHW", (5, 3, 8, 8)), ("NHWC", (5, 8, 8, 3)),
                                          ("NCHW", (5, 1, 12, 12)), ("NHWC", (5, 12, 12, 1))])
def test_uint8_round_trip_is_exact_in_every_layout(layout, shape):
    X = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    enc = ImageEncoder().fit(X)
    assert enc.layout_ == layout
    t = enc.transform(X)
    assert t.dtype == torch.float32 and t.shape[0] == 5 and t.shape[-1] == shape[2]
    assert float(t.min()) >= -1.0 and float(t.max()) <= 1.0
    back = enc.inverse_transform(t)
    assert back.dtype == np.uint8 and back.shape == X.shape
    np.testing.assert_array_equal(back, X)


@pytest.mark.parametrize("lo,hi,expect", [(0.0, 1.0, (0.0, 1.0)), (-1.0, 1.0, (-1.0, 1.0)), (0.0, 200.0, (0.0, 255.0)),
                                          (-3.0, 7.0, (-3.0, 7.0))])
def test_float_range_is_detected_and_restored(lo, hi, expect):
    rng = np.random.default_rng(1)
    X = rng.uniform(lo, hi, (4, 1, 8, 8)).astype(np.float32)
    X[0, 0, 0, 0], X[0, 0, 0, 1] = lo, hi
    enc = ImageEncoder().fit(X)
    assert enc.range_ == expect
    back = enc.inverse_transform(enc.transform(X))
    assert back.dtype == np.float32
    np.testing.assert_allclose(back, X, atol=1e-4 * (expect[1] - expect[0]))
    # out-of-range network outputs are clipped into the range
    clipped = enc.inverse_transform(torch.full((1, 1, 8, 8), 5.0))
    assert float(clipped.max()) == pytest.approx(expect[1])


def test_mnist_round_trip(mnist):
    X, _ = mnist
    enc = ImageEncoder().fit(X[:50])
    np.testing.assert_array_equal(enc.inverse_transform(enc.transform(X[:50])), X[:50])
    enc2 = ImageEncoder.from_json(enc.to_json())
    np.testing.assert_array_equal(enc2.inverse_transform(enc.transform(X[:3])), X[:3])


@pytest.mark.parametrize("shape,message", [
    ((4, 8), "shaped \\(N, H, W\\)"),
    ((2, 8, 8, 8, 1), "5-D"),
    ((3, 28, 30), "square"),
    ((3, 1, 28, 30), "square"),
    ((3, 30, 30), "multiple of 4"),
    ((3, 5, 8, 8), "no channel axis"),
    ((0, 8, 8), "empty"),
])
def test_bad_shapes_are_named(shape, message):
    with pytest.raises(ValueError, match=message):
        check_images(np.zeros(shape))


def test_nan_and_types_are_refused():
    X = np.zeros((3, 8, 8))
    X[2, 1, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite values in 1 image.*index 2"):
        check_images(X)
    with pytest.raises(TypeError, match="boolean"):
        check_images(np.zeros((2, 8, 8), bool))
    with pytest.raises(TypeError, match="numeric"):
        check_images(np.full((2, 8, 8), "a"))


def test_transform_checks_fitted_shape():
    enc = ImageEncoder().fit(np.zeros((2, 8, 8), np.uint8))
    with pytest.raises(ValueError, match="fitted on 1-channel 8x8"):
        enc.transform(np.zeros((2, 12, 12), np.uint8))


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 3), h=st.integers(1, 20), w=st.integers(1, 20), c=st.sampled_from([None, 1, 2, 3]),
       last=st.booleans())
def test_check_images_accepts_exactly_square_multiples_of_4(n, h, w, c, last):
    shape = (n, h, w) if c is None else ((n, h, w, c) if last else (n, c, h, w))
    X = np.zeros(shape, np.uint8)
    valid = h == w and h % 4 == 0 and c in (None, 1, 3)
    if valid:
        arr, layout = check_images(X)
        assert arr.shape == shape
    else:
        with pytest.raises(ValueError):
            check_images(X)


def test_transform_never_modifies_the_callers_array():
    X = np.random.default_rng(0).uniform(0, 1, (3, 1, 8, 8)).astype(np.float32)
    keep = X.copy()
    ImageEncoder().fit(X).transform(X)
    np.testing.assert_array_equal(X, keep)
