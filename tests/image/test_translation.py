"""TranslationAugmenter on real MNIST digits: learning, layouts, resampling, persistence, bad input."""

from __future__ import annotations

import json

import lightning.pytorch as pl
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone

import ganaug
from ganaug.augment.translation import TranslationAugmenter
from ganaug.datasets import load_mnist
from ganaug.exceptions import ModelFormatError, NotFittedError

TINY = {"epochs": 1, "base_channels": 4, "batch_size": 32, "random_state": 0}


@pytest.fixture(scope="module")
def mnist():
    return load_mnist()


@pytest.fixture(scope="module")
def pix2pix(mnist):
    X, _ = mnist
    return TranslationAugmenter("pix2pix", **TINY).fit(X[:64], 255 - X[:64])


@pytest.fixture(scope="module")
def cyclegan(mnist):
    X, _ = mnist
    return TranslationAugmenter("cyclegan", module_options={"n_blocks": 1}, **TINY).fit(X[:64], 255 - X[64:160])


def _l1(a, b):
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).mean() / 255.0)


def test_pix2pix_learns_negation_beyond_the_identity_baseline(mnist):
    X, _ = mnist
    train, test = X[:384], X[3000:3128]  # held-out digits never seen in fit
    aug = TranslationAugmenter("pix2pix", epochs=3, base_channels=8, batch_size=16, random_state=0)
    aug.fit(train, 255 - train)
    out = aug.transform(test)
    identity_l1 = _l1(test, 255 - test)  # "translation" that returns the input
    model_l1 = _l1(out, 255 - test)
    assert model_l1 < 0.5 * identity_l1, (model_l1, identity_l1)
    last = aug.history_[-1]
    assert [k for k in ("l1", "g_adv", "d_loss", "g_loss") if k not in last] == []
    assert last["g_loss"] == pytest.approx(last["g_adv"] + 100.0 * last["l1"], rel=1e-5)
    assert aug.history_[-1]["l1"] < aug.history_[0]["l1"]


@pytest.mark.parametrize("model", ["pix2pix", "cyclegan"])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("size", [28, 32])
def test_layouts_dtypes_channels_and_sizes_come_back(mnist, model, channels, size):
    X, _ = mnist
    imgs = np.pad(X[:48], ((0, 0), (0, size - 28), (0, size - 28)))
    if channels == 3:
        imgs = np.stack([imgs, 255 - imgs, imgs // 2], axis=-1)  # (N, H, W, 3)
    aug = TranslationAugmenter(model, module_options={"n_blocks": 1} if model == "cyclegan" else None, **TINY)
    aug.fit(imgs[:24], 255 - imgs[24:])
    assert aug.module_.image_size == (size, size)
    src = imgs[:5]
    out = aug.transform(src)
    assert out.shape == src.shape and out.dtype == np.uint8
    as_float = src.astype(np.float32) / 255.0
    out_f = aug.transform(as_float)
    assert out_f.dtype == np.float32 and out_f.shape == src.shape and 0.0 <= out_f.min() and out_f.max() <= 1.0
    np.testing.assert_allclose(out_f * 255.0, out.astype(np.float32), atol=1.01)
    nchw = src[:, None] if channels == 1 else src.transpose(0, 3, 1, 2)
    out_c = aug.transform(nchw)
    assert out_c.shape == nchw.shape
    back = out_c[:, 0] if channels == 1 else out_c.transpose(0, 2, 3, 1)
    np.testing.assert_array_equal(back, out)


def test_grey_to_colour_keeps_layout_where_it_can(mnist):
    X, _ = mnist
    rgb = np.stack([X[:32], X[:32] // 2, 255 - X[:32]], axis=1)  # (N, 3, 28, 28)
    aug = TranslationAugmenter("pix2pix", **TINY).fit(X[:32], rgb)
    assert aug.transform(X[:3]).shape == (3, 28, 28, 3)  # (N, H, W) has no channel axis: channels last
    assert aug.transform(X[:3, None]).shape == (3, 3, 28, 28)
    assert aug.transform(X[:3, :, :, None]).shape == (3, 28, 28, 3)


def test_transform_keeps_the_geometry_of_larger_scenes(pix2pix, mnist):
    X, _ = mnist
    scene = np.zeros((2, 64, 64), np.uint8)
    scene[:, 10:38, 20:48] = X[:2]
    out = pix2pix.transform(scene)
    assert out.shape == scene.shape and out.dtype == scene.dtype


def test_inverse_transform_cyclegan_only(pix2pix, cyclegan, mnist):
    X, _ = mnist
    assert cyclegan.inverse_transform(255 - X[:4]).shape == (4, 28, 28)
    with pytest.raises(ValueError, match="inverse_transform needs model='cyclegan'"):
        pix2pix.inverse_transform(X[:4])


def test_same_seed_same_model(mnist):
    X, _ = mnist
    a = TranslationAugmenter("pix2pix", **TINY).fit(X[:32], 255 - X[:32]).transform(X[100:104])
    b = TranslationAugmenter("pix2pix", **TINY).fit(X[:32], 255 - X[:32]).transform(X[100:104])
    np.testing.assert_array_equal(a, b)


def test_save_load_round_trip_without_pickle(cyclegan, mnist, tmp_path):
    X, _ = mnist
    cyclegan.save(tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["config.json", "manifest.json", "weights.safetensors"]
    for loaded in (ganaug.load(tmp_path / "m"), TranslationAugmenter.load(tmp_path / "m")):
        assert isinstance(loaded, TranslationAugmenter)
        assert loaded.get_params()["module_options"] == {"n_blocks": 1}
        np.testing.assert_array_equal(loaded.transform(X[200:205]), cyclegan.transform(X[200:205]))
        np.testing.assert_array_equal(loaded.inverse_transform(X[200:205]), cyclegan.inverse_transform(X[200:205]))
    cfg = json.loads((tmp_path / "m" / "config.json").read_text())
    cfg["state"]["module"]["kwargs"]["base_channels"] = 8
    (tmp_path / "m" / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelFormatError, match="altered"):
        ganaug.load(tmp_path / "m")


def test_trainer_passthrough_and_ema(mnist):
    X, _ = mnist
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_progress_bar=False, enable_checkpointing=False,
                         enable_model_summary=False)
    aug = TranslationAugmenter("pix2pix", ema_decay=0.9, trainer=trainer, **TINY).fit(X[:64], 255 - X[:64])
    assert {r["epoch"] for r in aug.history_} == {0.0, 1.0}  # the Trainer's max_epochs won
    assert aug.module_.generator_ema is not None
    aug2 = TranslationAugmenter("pix2pix", trainer={"max_steps": 1}, **TINY).fit(X[:64], 255 - X[:64])
    assert len(aug2.history_) == 1


def test_fit_resample_translates_the_majority_into_the_minority(mnist):
    X, y = mnist
    keep = np.flatnonzero((y == 0) | (y == 1))[:120]
    Xs = X[keep]
    # the rare class is the "inverted-ones" style: a different look of the same digits
    ys = pd.Series(np.where(y[keep] == 1, "inverted", "plain"), name="style")
    Xs = np.where((ys == "inverted").to_numpy()[:, None, None], 255 - Xs, Xs).astype(np.uint8)
    n_plain, n_inv = int((ys == "plain").sum()), int((ys == "inverted").sum())
    aug = TranslationAugmenter("cyclegan", module_options={"n_blocks": 1}, **TINY)
    Xr, yr = aug.fit_resample(Xs, ys)
    assert aug.domain_classes_ == ("plain" if n_plain >= n_inv else "inverted", "inverted" if n_plain >= n_inv else "plain")
    np.testing.assert_array_equal(Xr[: len(Xs)], Xs)
    assert isinstance(yr, pd.Series) and yr.name == "style"
    assert (yr == "plain").sum() == (yr == "inverted").sum() == max(n_plain, n_inv)
    assert Xr.dtype == Xs.dtype and Xr.shape[1:] == Xs.shape[1:]


def test_resample_with_a_fitted_pix2pix(pix2pix, mnist):
    X, y = mnist
    Xs, ys = X[:60], np.array(["a"] * 50 + ["b"] * 10)
    with pytest.raises(ValueError, match="set source= and target="):
        pix2pix.resample(Xs, ys)
    aug = clone(pix2pix).set_params(source="a", target="b")
    with pytest.raises(NotFittedError):
        aug.resample(Xs, ys)
    pix2pix.set_params(source="a", target="b", sampling_strategy={"b": 30})
    try:
        Xr, yr = pix2pix.resample(Xs, ys)
        assert len(Xr) == 80 and (yr == "b").sum() == 30 and yr.dtype == ys.dtype
        pix2pix.set_params(sampling_strategy={"a": 60})
        with pytest.raises(ValueError, match="pix2pix translates source to target only"):
            pix2pix.resample(Xs, ys)
        pix2pix.set_params(sampling_strategy={"b": 80})
        with pytest.warns(UserWarning, match="only 50 images can be translated"):
            Xr, yr = pix2pix.resample(Xs, ys)
        assert (yr == "b").sum() == 60
    finally:
        pix2pix.set_params(source=None, target=None, sampling_strategy="auto")


@pytest.mark.parametrize(
    "args, kwargs, error, match",
    [
        ((np.zeros((10, 28, 28)), np.zeros((9, 28, 28))), {}, ValueError, r"X_a has 10 images.*X_b has 9"),
        ((np.zeros((10, 28, 28)), np.zeros((10, 32, 32))), {}, ValueError, "same image size"),
        ((np.zeros((10, 28, 28)),), {}, TypeError, r"fit\(X_a, X_b\)"),
        ((np.zeros((10, 28)), np.zeros((10, 28))), {}, ValueError, "2-D shape"),
        ((np.full((4, 28, 28), np.nan), np.zeros((4, 28, 28))), {}, ValueError, "NaN"),
        ((np.zeros((0, 28, 28)), np.zeros((0, 28, 28))), {}, ValueError, "empty"),
        ((np.zeros((4, 28, 28)), np.zeros((4, 28, 28))), {"model": "gan"}, ValueError, "model must be one of"),
        ((np.zeros((4, 28, 28)), np.full((4, 28, 28), "x")), {}, TypeError, "numeric"),
    ],
)
def test_bad_fit_input_is_named(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        TranslationAugmenter(**{**TINY, **kwargs}).fit(*args)


def test_bad_use_after_fit_is_named(pix2pix, cyclegan, mnist):
    X, y = mnist
    with pytest.raises(ValueError, match=r"3-channel images \(shape \(2, 3, 28, 28\)\).*1-channel"):
        pix2pix.transform(np.zeros((2, 3, 28, 28), np.uint8))
    with pytest.raises(NotFittedError):
        TranslationAugmenter().transform(X[:2])
    with pytest.raises(TypeError, match="draws none from noise"):
        pix2pix.sample(5)
    with pytest.raises(ValueError, match="needs model='cyclegan'"):
        TranslationAugmenter("pix2pix").fit_resample(X[:10], y[:10])
    with pytest.raises(ValueError, match="set source= and target="):
        TranslationAugmenter("cyclegan", **TINY).fit_resample(X[:30], y[:30])
    with pytest.raises(ValueError, match="target class 'z' is not in y"):
        TranslationAugmenter("cyclegan", target="z", **TINY).fit_resample(X[:30], np.where(y[:30] > 4, "hi", "lo"))
    with pytest.raises(ValueError, match="needs the same channel count"):
        TranslationAugmenter("cyclegan", lambda_identity=0.5, **TINY).fit(X[:8], np.stack([X[:8]] * 3, axis=-1))


@settings(max_examples=20, deadline=None)
@given(shape=st.lists(st.integers(0, 40), min_size=1, max_size=5))
def test_transform_accepts_only_image_batches(cyclegan, shape):
    X = np.zeros(shape, dtype=np.uint8)
    ok = (
        len(shape) in (3, 4) and shape[0] > 0
        and (len(shape) == 3 or (shape[1] in (1, 3)) != (shape[3] in (1, 3)) or shape[1] == 1)
    )
    try:
        out = cyclegan.transform(X)
    except (ValueError, TypeError) as exc:
        assert str(exc)  # a message, never a bare error
        return
    assert ok and out.shape == X.shape


@pytest.mark.slow
def test_cyclegan_recovers_inverted_digits_without_pairs(mnist):
    X, _ = mnist
    A, B = X[:600], 255 - X[600:1200]  # no image appears in both domains
    test = X[3000:3200]
    aug = TranslationAugmenter("cyclegan", generator="unet", epochs=3, base_channels=8, batch_size=16, random_state=0)
    aug.fit(A, B)
    b_to_a = aug.inverse_transform(255 - test)
    a_to_b = aug.transform(test)
    assert _l1(b_to_a, test) < 0.5 * _l1(255 - test, test)
    assert _l1(a_to_b, 255 - test) < 0.5 * _l1(test, 255 - test)
    cycle = aug.inverse_transform(a_to_b)
    assert _l1(cycle, test) < 0.3  # A -> B -> A comes back near the digit (0.15 measured; 0.94 for no change)
