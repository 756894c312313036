"""Networks and training steps of the translation GANs: shapes, patch grids, cycle loss, pool, NaN guard."""

from __future__ import annotations

import lightning.pytorch as pl
import numpy as np
import pytest
import torch
from torch import nn

from ganaug.core.data import tensor_loader
from ganaug.datasets import load_mnist
from ganaug.exceptions import NonFiniteLossError
from ganaug.image import CycleGAN, Pix2Pix
from ganaug.image.translation import build_translation_generator
from ganaug.image.translation_networks import (
    ImagePool,
    PatchDiscriminator,
    auto_patch_layers,
    patch_grid_size,
    patch_receptive_field,
)


@pytest.fixture(scope="module")
def digits():
    X, _ = load_mnist()
    return torch.from_numpy(X[:64].astype(np.float32) / 127.5 - 1.0)[:, None]  # (64, 1, 28, 28) in [-1, 1]


def _trainer(**kw):
    return pl.Trainer(max_epochs=1, logger=False, enable_progress_bar=False, enable_checkpointing=False,
                      enable_model_summary=False, **kw)


@pytest.mark.parametrize("kind", ["unet", "resnet"])
@pytest.mark.parametrize("c_in, c_out", [(1, 1), (1, 3), (3, 1), (3, 3)])
@pytest.mark.parametrize("size", [28, 32])
def test_generators_keep_geometry(kind, c_in, c_out, size):
    g = build_translation_generator(kind, c_in, c_out, size, base_channels=4, n_blocks=1)
    out = g(torch.randn(2, c_in, size, size))
    assert out.shape == (2, c_out, size, size)
    assert out.abs().max() <= 1.0  # tanh
    # fully convolutional: another (non-square, odd) size comes back unchanged too
    assert g(torch.randn(1, c_in, 30, 26)).shape == (1, c_out, 30, 26)


def test_generator_names_a_wrong_channel_count():
    g = build_translation_generator("unet", 1, 1, 28, base_channels=4)
    with pytest.raises(ValueError, match=r"built for 1 channel\(s\), got shape \(2, 3, 28, 28\)"):
        g(torch.randn(2, 3, 28, 28))


@pytest.mark.parametrize("size", [28, 32])
@pytest.mark.parametrize("channels", [2, 6])
@pytest.mark.parametrize("n_layers", [1, 2])
def test_patchgan_returns_the_documented_grid(size, channels, n_layers):
    d = PatchDiscriminator(channels, base_channels=4, n_layers=n_layers)
    out = d(torch.randn(3, channels, size, size))
    assert out.shape == (3, 1, *patch_grid_size(size, size, n_layers))
    assert out.shape[-1] == size // 2**n_layers - 2


def test_auto_patch_scales_the_70_pixel_design():
    assert [auto_patch_layers(s, s) for s in (28, 32, 64, 128, 256)] == [1, 1, 1, 2, 3]
    assert patch_receptive_field(3) == 70
    with pytest.raises(ValueError, match="at least 8x8"):
        auto_patch_layers(6, 6)


@pytest.mark.parametrize("n_layers", [1, 2])
def test_patchgan_receptive_field_is_measured_from_gradients(n_layers):
    torch.manual_seed(0)
    d = PatchDiscriminator(1, base_channels=4, n_layers=n_layers, norm="none")
    x = torch.randn(1, 1, 96, 96, requires_grad=True)
    out = d(x)
    gh, gw = out.shape[-2:]
    out[0, 0, gh // 2, gw // 2].backward()
    rows, cols = np.nonzero(x.grad[0, 0].abs().numpy() > 0)
    assert rows.max() - rows.min() + 1 == patch_receptive_field(n_layers)
    assert cols.max() - cols.min() + 1 == patch_receptive_field(n_layers)


def test_pix2pix_discriminator_sees_the_pair(digits):
    model = Pix2Pix(1, 3, image_size=28, base_channels=4)
    assert model.discriminator.in_channels == 4
    fake = model.generate(model.sample_noise(4), digits[:4])
    assert fake.shape == (4, 3, 28, 28)
    assert model.discriminate(fake, digits[:4]).shape == (4, 1, 12, 12)


def test_cycle_loss_is_zero_for_identity_generators(digits):
    model = CycleGAN(image_size=28, base_channels=4, n_blocks=1)
    a, b = digits[:32], -digits[32:]
    with torch.no_grad():
        assert float(model.cycle_loss(a, b)) > 0.05  # untrained generators do not invert each other
        model.generator = nn.ModuleDict({"ab": nn.Identity(), "ba": nn.Identity()})
        assert float(model.cycle_loss(a, b)) == pytest.approx(0.0, abs=1e-7)
        assert float(model.identity_loss(a, b)) == pytest.approx(0.0, abs=1e-7)


def test_image_pool_mixes_history_and_stays_bounded():
    torch.manual_seed(0)
    pool = ImagePool(size=8)
    seen = []
    for step in range(20):
        batch = torch.full((4, 1, 2, 2), float(step)) + torch.arange(4.0).view(4, 1, 1, 1) / 10
        seen.append(batch)
        out = pool.query(batch)
        assert out.shape == batch.shape and len(pool) <= 8
        # every returned image is one that was generated at some step
        all_seen = torch.cat(seen).flatten(1)[:, 0]
        assert torch.isin(out.flatten(1)[:, 0], all_seen).all()
    assert len(pool) == 8
    assert ImagePool(0).query(batch) is batch


def test_image_pool_swaps_about_half_once_full():
    torch.manual_seed(1)
    pool = ImagePool(size=50)
    pool.query(torch.zeros(50, 1, 1, 1))
    out = pool.query(torch.ones(1000, 1, 1, 1))
    old = int((out == 0).sum())
    assert old == 50  # the batch is larger than the pool: each stored fake is handed out once
    out = pool.query(torch.full((40, 1, 1, 1), 2.0))
    assert 8 <= int((out != 2.0).sum()) <= 32


def test_cyclegan_step_records_cycle_terms_and_trains_both_pairs(digits):
    torch.manual_seed(0)
    model = CycleGAN(image_size=28, base_channels=4, n_blocks=1, lambda_identity=0.5, ema_decay=0.9)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    _trainer().fit(model, tensor_loader(digits[:32], -digits[32:], batch_size=16, seed=0))
    rec = model.history[-1]
    for key in ("d_loss", "d_loss_a", "d_loss_b", "g_loss", "g_adv", "cycle", "identity", "grad_norm_g", "grad_norm_d"):
        assert key in rec and np.isfinite(rec[key])
    after = model.state_dict()
    for prefix in ("generator.ab.", "generator.ba.", "discriminator.a.", "discriminator.b."):
        changed = [k for k in after if k.startswith(prefix) and not torch.equal(after[k], before[k])]
        assert changed, f"{prefix} did not train"
    assert any(k.startswith("generator_ema.module.ab.") for k in after)


def test_nan_guard_stops_a_translation_run_with_the_step(digits):
    model = Pix2Pix(image_size=28, base_channels=4)
    bad = digits[:16].clone()
    bad[0, 0, 0, 0] = float("nan")
    with pytest.raises(NonFiniteLossError, match="step 1"):
        _trainer().fit(model, tensor_loader(bad, digits[:16], batch_size=16, seed=0))


def test_pix2pix_rejects_misaligned_batches(digits):
    model = Pix2Pix(image_size=28, base_channels=4)
    with pytest.raises(ValueError, match="pairs must align"):
        model.split_batch((digits[:4], digits[:3]))
    with pytest.raises(ValueError, match="direction='ab'"):
        model.translate(digits[:2], direction="ba")
