"""Lazy gradient penalty (``gp_every``): validation, the eager default, 1-in-k steps at k times the weight."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

import ganaug.core.module as module_mod
from ganaug.augment.tabular import TabularAugmenter
from ganaug.core import tensor_loader
from ganaug.core.losses import gradient_penalty
from ganaug.core.toy import MLPGAN, ring_of_gaussians
from ganaug.core.trainer import build_trainer, quiet_lightning
from ganaug.datasets import load_credit
from ganaug.io import load_model_dir, save_model_dir
from ganaug.tabular import TabularGAN
from ganaug.utils import seed_everything

#: a small tabular fit: 400 rows in batches of 50 (8 steps per epoch), tiny networks
TINY = dict(epochs=2, batch_size=50, embedding_dim=8, generator_dim=(16,), discriminator_dim=(16,), pac=5,
            random_state=0, trainer={"enable_progress_bar": False})


def _fit(gan: MLPGAN, n_batches: int, batch_size: int = 64, seed: int = 0) -> MLPGAN:
    data = torch.from_numpy(ring_of_gaussians(n_batches * batch_size, random_state=1))
    loader = tensor_loader(data, batch_size=batch_size, seed=seed)
    trainer = build_trainer(None, max_epochs=1, enable_progress_bar=False)
    with quiet_lightning():
        trainer.fit(gan, loader)
    return gan


def _counting_penalty(monkeypatch) -> list:
    calls: list = []

    def counted(*args, **kwargs):
        calls.append(1)
        return gradient_penalty(*args, **kwargs)

    monkeypatch.setattr(module_mod, "gradient_penalty", counted)
    return calls


@pytest.fixture(scope="module")
def credit400():
    X, y = load_credit()
    return X.iloc[:400].reset_index(drop=True), y.iloc[:400].reset_index(drop=True)


@pytest.fixture(scope="module")
def lazy_fit(credit400):
    X, y = credit400
    return TabularAugmenter(gp_every=4, **TINY).fit(X, y)


# ------------------------------------------------------------------ validation
@pytest.mark.parametrize("bad", [0, -1, 1.5, 2.0, True, "2", None])
def test_gan_module_refuses_a_bad_gp_every(bad):
    with pytest.raises(ValueError, match=r"gp_every must be an int >= 1, got " + repr(bad).replace(".", r"\.")):
        MLPGAN(hidden=8, loss="wgan-gp", gp_every=bad)


def test_gp_every_accepts_numpy_ints_and_is_stored_in_tabular_hparams():
    assert MLPGAN(hidden=8, gp_every=np.int64(3)).gp_every == 3
    gan = TabularGAN([(0, 1, "tanh"), (1, 2, "softmax")], n_classes=2, category_positions=[1, 2], embedding_dim=4,
                     generator_dim=(8,), discriminator_dim=(8,), pac=2, gp_every=3)
    assert gan.gp_every == 3 and gan.hparams["gp_every"] == 3
    assert TabularGAN.from_weights(dict(gan.hparams), gan.weights()).gp_every == 3
    old = {k: v for k, v in gan.hparams.items() if k != "gp_every"}  # saved before gp_every existed
    assert TabularGAN.from_weights(old, gan.weights()).gp_every == 1


@pytest.mark.parametrize("bad", [0, -2, 1.5, True, "4"])
def test_augmenter_validates_gp_every_at_fit(credit400, bad):
    X, y = credit400
    aug = TabularAugmenter(gp_every=bad, **TINY)
    assert aug.get_params()["gp_every"] == bad  # stored as given, checked in fit
    with pytest.raises(ValueError, match="gp_every must be a positive int"):
        aug.fit(X, y)


@pytest.mark.parametrize("other, match", [({"backend": "ctgan"}, "needs backend='ganaug'"),
                                          ({"dp": {"epsilon": 3.0}}, "cannot be combined with dp")])
def test_augmenter_refuses_lazy_penalty_for_ctgan_and_dp(credit400, other, match):
    X, y = credit400
    with pytest.raises(ValueError, match=r"gp_every=2 " + match):
        TabularAugmenter(gp_every=2, **{**TINY, **other}).fit(X, y)


def test_dp_module_refuses_a_lazy_penalty():
    from ganaug.privacy.dp import DPTabularGAN

    gan = DPTabularGAN([(0, 1, "tanh"), (1, 2, "softmax")], n_classes=2, category_positions=[1, 2], embedding_dim=4,
                       generator_dim=(8,), discriminator_dim=(8,), pac=1, gp_every=2)
    with pytest.raises(ValueError, match="DP training does not support a lazy gradient penalty: gp_every must be 1, "
                                         "got 2"):
        gan.configure_dp(1.0, 1.0, 0.1, 100, np.array([0.5, 0.5]))


# ------------------------------------------------------------- core behaviour
def test_gp_every_1_is_the_eager_penalty_bit_for_bit():
    runs = []
    for options in ({}, {"gp_every": 1}):
        seed_everything(3)
        runs.append(_fit(MLPGAN(hidden=32, loss="wgan-gp", **options), n_batches=24, seed=3).history)
    assert runs[0] == runs[1]
    assert all("gradient_penalty" in rec for rec in runs[0])


def test_gp_every_4_computes_the_penalty_on_one_step_in_four(monkeypatch):
    calls = _counting_penalty(monkeypatch)
    seed_everything(0)
    gan = _fit(MLPGAN(hidden=32, loss="wgan-gp", gp_every=4), n_batches=12)
    assert len(calls) == 3
    with_gp = [int(rec["step"]) for rec in gan.history if "gradient_penalty" in rec]
    assert with_gp == [1, 5, 9]  # the first step, then every 4th
    assert all(np.isfinite(rec["d_loss"]) for rec in gan.history)


def test_unrolled_steps_follow_their_batch(monkeypatch):
    """A batch's look-ahead discriminator steps compute the penalty exactly when the batch's own step does."""
    calls = _counting_penalty(monkeypatch)
    seed_everything(0)
    gan = _fit(MLPGAN(hidden=16, loss="wgan-gp", gp_every=4, unrolled_steps=2), n_batches=8)
    assert [int(rec["step"]) for rec in gan.history if "gradient_penalty" in rec] == [1, 5]
    assert len(calls) == 2 * (1 + 2)


def test_penalty_step_adds_gp_every_times_the_weighted_penalty():
    torch.manual_seed(0)
    gan = MLPGAN(hidden=16, loss="wgan-gp", gp_every=4, loss_options={"gp_weight": 7.0})
    real = torch.from_numpy(ring_of_gaussians(32, random_state=0))

    def d_loss_at(batch: int):
        gan._batches_seen = batch
        torch.manual_seed(1)
        return gan.discriminator_loss(real, None)

    lazy, logs = d_loss_at(5)  # step 5 = the 2nd penalty step
    skipped, skipped_logs = d_loss_at(6)
    assert "gradient_penalty" in logs and "gradient_penalty" not in skipped_logs
    # the penalty by hand, on the same fakes and interpolation weights
    torch.manual_seed(1)
    with torch.no_grad():
        fake = gan.generate(gan.sample_noise(len(real)))
    gp = gradient_penalty(lambda x: gan._logits(x, None)[0], real, fake).detach()
    assert logs["gradient_penalty"] == pytest.approx(float(gp), rel=1e-6)
    assert float((lazy - skipped).detach()) == pytest.approx(4 * 7.0 * float(gp), rel=1e-5)
    gan.gp_every = 1  # the eager penalty on the same step: a quarter of the lazy one
    eager, _ = d_loss_at(6)
    assert float((eager - skipped).detach()) == pytest.approx(7.0 * float(gp), rel=1e-5)


def test_losses_without_a_penalty_ignore_gp_every(monkeypatch):
    calls = _counting_penalty(monkeypatch)
    seed_everything(0)
    gan = _fit(MLPGAN(hidden=16, loss="hinge", gp_every=3), n_batches=4)
    assert not calls and not any("gradient_penalty" in rec for rec in gan.history)


# ------------------------------------------------------------------- tabular
def test_tabular_lazy_fit_samples_and_logs_one_penalty_in_four(lazy_fit):
    assert lazy_fit.module_.gp_every == 4
    steps = [rec for rec in lazy_fit.history_ if "d_loss" in rec]
    assert len(steps) == 16
    assert [int(rec["step"]) for rec in steps if "gradient_penalty" in rec] == [1, 5, 9, 13]
    X_new, y_new = lazy_fit.sample(50, random_state=0)
    assert len(X_new) == 50 == len(y_new)


def test_tabular_save_load_keeps_gp_every(lazy_fit, tmp_path):
    lazy_fit.save(tmp_path / "m")
    loaded = TabularAugmenter.load(tmp_path / "m")
    assert loaded.gp_every == 4 and loaded.module_.gp_every == 4
    assert loaded.get_params() == {**lazy_fit.get_params(), "trainer": None}
    a, ya = lazy_fit.sample(100, random_state=1)
    b, yb = loaded.sample(100, random_state=1)
    pd.testing.assert_frame_equal(a, b)
    assert ya.equals(yb)


def test_model_saved_before_gp_every_loads_with_the_default(lazy_fit, tmp_path):
    lazy_fit.save(tmp_path / "new")
    config, tensors = load_model_dir(tmp_path / "new")
    del config["params"]["gp_every"], config["state"]["module"]["gp_every"]
    save_model_dir(tmp_path / "old", config, tensors)
    assert "gp_every" not in json.loads((tmp_path / "old" / "config.json").read_text())["params"]
    loaded = TabularAugmenter.load(tmp_path / "old")
    assert loaded.gp_every == 1 and loaded.module_.gp_every == 1
    a, _ = lazy_fit.sample(100, random_state=2)
    b, _ = loaded.sample(100, random_state=2)
    pd.testing.assert_frame_equal(a, b)
