import json

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ganaug.augment.base import BaseAugmenter
from ganaug.augment.image import ImageAugmenter
from ganaug.exceptions import ModelFormatError

from .conftest import TINY


def test_grey_uint8_layout_dtype_and_fit_resample(mnist_small):
    X, y = mnist_small
    aug = ImageAugmenter(**TINY)
    X_res, y_res = aug.fit_resample(X, y)
    counts = dict(zip(*np.unique(y_res, return_counts=True)))
    assert counts == {0: 40, 1: 40, 7: 40}
    assert X_res.shape == (120, 28, 28) and X_res.dtype == np.uint8 and y_res.dtype == y.dtype
    np.testing.assert_array_equal(X_res[: len(X)], X)  # originals first, unchanged
    assert aug.history_ and "d_loss" in aug.history_[0]


@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
def test_rgb32_layouts_and_dtypes_round_trip(rgb32, layout):
    X, y = rgb32
    if layout == "NCHW":
        X = X.transpose(0, 3, 1, 2).astype(np.float32) / 255.0
    aug = ImageAugmenter(**TINY).fit(X, pd.Series(y, name="digit"))
    X_new, y_new = aug.sample({8: 5}, random_state=0)
    assert X_new.shape == (5,) + X.shape[1:] and X_new.dtype == X.dtype
    assert isinstance(y_new, pd.Series) and y_new.name == "digit" and set(y_new) == {8}
    if layout == "NCHW":
        assert 0.0 <= X_new.min() and X_new.max() <= 1.0
    assert aug.module_.channels == 3 and aug.module_.image_size == 32


def test_sample_counts_labels_and_seeds(tiny_augmenter):
    aug = tiny_augmenter
    X_a, y_a = aug.sample(10, random_state=3)
    X_b, _ = aug.sample(10, random_state=3)
    X_c, _ = aug.sample(10, random_state=4)
    np.testing.assert_array_equal(X_a, X_b)
    assert not np.array_equal(X_a, X_c)
    assert sorted(np.unique(y_a).tolist()) == [0, 1, 7]  # mix as in training: 40/40/12
    with pytest.raises(ValueError, match="unknown class 5"):
        aug.sample({5: 3})


def test_save_load_gives_identical_samples(tiny_augmenter, tmp_path):
    tiny_augmenter.save(tmp_path / "m")
    files = sorted(p.name for p in (tmp_path / "m").iterdir())
    assert files == ["config.json", "manifest.json", "weights.safetensors"]
    loaded = BaseAugmenter.load(tmp_path / "m")
    assert isinstance(loaded, ImageAugmenter)
    a, ya = tiny_augmenter.sample({0: 4, 7: 4}, random_state=11)
    b, yb = loaded.sample({0: 4, 7: 4}, random_state=11)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ya, yb)
    assert loaded.get_params() == {**tiny_augmenter.get_params(), "betas": [0.5, 0.999]}


def test_load_refuses_an_altered_file(tiny_augmenter, tmp_path):
    tiny_augmenter.save(tmp_path / "m")
    cfg = tmp_path / "m" / "config.json"
    data = json.loads(cfg.read_text())
    data["state"]["n_classes"] = 5
    cfg.write_text(json.dumps(data))
    with pytest.raises(ModelFormatError, match="altered"):
        ImageAugmenter.load(tmp_path / "m")


def test_trainer_passthrough(mnist_small):
    X, y = mnist_small
    import lightning.pytorch as pl

    class Count(pl.Callback):
        batches = 0

        def on_train_batch_end(self, *args):
            Count.batches += 1

    # the user's max_epochs wins over the augmenter's epochs; 92 images in batches of 16 = 5 batches per epoch
    ImageAugmenter(**{**TINY, "epochs": 5}, trainer={"max_epochs": 2, "callbacks": [Count()]}).fit(X, y)
    assert Count.batches == 10


def test_unlabelled_fit_samples_images_only(mnist_small):
    X, _ = mnist_small
    aug = ImageAugmenter(**TINY).fit(X[:20])
    out = aug.sample(3, random_state=0)
    assert isinstance(out, np.ndarray) and out.shape == (3, 28, 28)


def test_class_balance_draws_rare_classes_more_often(mnist_small):
    X, y = mnist_small
    codes = np.searchsorted([0, 1, 7], y)
    counts = {}
    for balance in (1.0, 0.0):
        aug = ImageAugmenter(**TINY, class_balance=balance)
        loader = aug._loader(torch.zeros(len(y), 1), codes, seed=0)
        seen = np.concatenate([b[1].numpy() for _ in range(20) for b in loader])
        counts[balance] = np.bincount(seen, minlength=3) / len(seen)
    assert counts[1.0][2] == pytest.approx(12 / 92, abs=0.03)
    assert counts[0.0][2] == pytest.approx(1 / 3, abs=0.05)


@pytest.mark.parametrize("X,y,error,message", [
    (np.zeros((6, 8)), [0, 1] * 3, ValueError, "shaped"),
    (np.zeros((6, 8, 12)), [0, 1] * 3, ValueError, "square"),
    (np.zeros((6, 10, 10)), [0, 1] * 3, ValueError, "multiple of 4"),
    (np.full((6, 8, 8), np.nan), [0, 1] * 3, ValueError, "NaN"),
    (np.zeros((6, 8, 8)), [0, 1] * 2, ValueError, "6 rows but y has 4 labels"),
    (np.zeros((6, 8, 8)), [0] * 5 + [1], ValueError, "class 1 has 1 row"),
    (np.zeros((6, 2, 8, 8)), [0, 1] * 3, ValueError, "channel"),
    (np.zeros((6, 8, 8), bool), [0, 1] * 3, TypeError, "boolean"),
])
def test_bad_input_is_named(X, y, error, message):
    with pytest.raises(error, match=message):
        ImageAugmenter(**TINY).fit(X, y)


@pytest.mark.parametrize("param,value", [("epochs", 0), ("width", -1), ("class_balance", 2.0), ("truncation", 0.0)])
def test_bad_parameters(param, value, mnist_small):
    X, y = mnist_small
    with pytest.raises(ValueError, match=param):
        ImageAugmenter(**{**TINY, param: value}).fit(X, y)


@settings(max_examples=25, deadline=None)
@given(labels=st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=8), n=st.integers(1, 8))
def test_label_length_mismatch_is_always_caught(labels, n):
    if len(labels) == n:
        return
    with pytest.raises(ValueError, match=f"X has {n} rows but y has {len(labels)} labels"):
        ImageAugmenter(**TINY).fit(np.zeros((n, 4, 4), np.uint8), labels)


@pytest.mark.slow
def test_conditioning_works_on_two_visibly_different_digits(mnist):
    """A tiny GAN trained briefly on 0s and 1s: a nearest-centroid rule finds the asked-for digit."""
    X, y = mnist
    X = X[:, 2:26, 2:26].reshape(-1, 12, 2, 12, 2).mean((2, 4)).astype(np.uint8)  # 12x12 digits: quick
    idx = np.concatenate([np.flatnonzero(y == 0)[:150], np.flatnonzero(y == 1)[:150]])
    aug = ImageAugmenter(epochs=15, batch_size=32, width=16, latent_dim=8, lr_g=1e-3, lr_d=1e-3,
                         random_state=0).fit(X[idx], y[idx])
    X_new, y_new = aug.sample({0: 100, 1: 100}, random_state=1)
    # centroids of held-out real digits
    held = np.concatenate([np.flatnonzero(y == 0)[150:300], np.flatnonzero(y == 1)[150:300]])
    centroids = np.stack([X[held][y[held] == c].reshape(-1, 144).mean(0) for c in (0, 1)]).astype(np.float32)
    dist = ((X_new.reshape(-1, 144).astype(np.float32)[:, None, :] - centroids[None]) ** 2).sum(-1)
    assigned = np.array([0, 1])[dist.argmin(1)]
    accuracy = float((assigned == y_new).mean())
    assert accuracy > 0.8, accuracy  # chance is 0.5
