"""GANModule: the adversarial step, its options and its guards, on the ring of Gaussians."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganaug.core import mode_coverage, tensor_loader
from ganaug.core.diagnostics import diagnose_training
from ganaug.core.toy import MLPGAN, ring_centers, ring_of_gaussians
from ganaug.core.trainer import build_trainer, quiet_lightning
from ganaug.exceptions import NonFiniteLossError
from ganaug.utils import seed_everything


def _fit(gan: MLPGAN, n_batches: int, batch_size: int = 64, seed: int = 0, data_seed: int = 1) -> MLPGAN:
    data = torch.from_numpy(ring_of_gaussians(n_batches * batch_size, random_state=data_seed))
    loader = tensor_loader(data, batch_size=batch_size, seed=seed)
    trainer = build_trainer(None, max_epochs=1, enable_progress_bar=False)
    with quiet_lightning():
        trainer.fit(gan, loader)
    return gan


def _losses(gan: MLPGAN) -> list[tuple[float, float]]:
    return [(h["d_loss"], h.get("g_loss", np.nan)) for h in gan.history]


def test_same_seed_gives_identical_losses_twice():
    runs = []
    for _ in range(2):
        seed_everything(3)
        runs.append(_losses(_fit(MLPGAN(hidden=32), n_batches=20, seed=3)))
    assert runs[0] == runs[1]
    seed_everything(4)
    other = _losses(_fit(MLPGAN(hidden=32), n_batches=20, seed=4))
    assert other != runs[0]


def test_nan_guard_names_epoch_and_step():
    seed_everything(0)
    gan = MLPGAN(hidden=32, lr_g=1e20, lr_d=1e20, loss="wasserstein")
    with pytest.raises(NonFiniteLossError, match=r"at epoch 0, step \d+"):
        _fit(gan, n_batches=200)


def test_history_records_losses_and_gradient_norms_every_step():
    seed_everything(0)
    gan = _fit(MLPGAN(hidden=32), n_batches=12)
    assert len(gan.history) == 12
    for rec in gan.history:
        assert {"d_loss", "g_loss", "grad_norm_d", "grad_norm_g"} <= rec.keys()
        assert rec["grad_norm_d"] > 0 and rec["grad_norm_g"] > 0
    assert gan.epoch_history()[0]["epoch"] == 0.0


def test_n_critic_updates_generator_every_nth_step():
    seed_everything(0)
    gan = MLPGAN(hidden=32, loss="wgan-gp", n_critic=3)
    before = [p.detach().clone() for p in gan.generator.parameters()]
    _fit(gan, n_batches=2)
    # two discriminator steps, no generator step yet
    assert all(torch.equal(a, b) for a, b in zip(before, gan.generator.parameters()))
    _fit(gan, n_batches=7)
    assert gan.n_generator_steps == 9 // 3
    assert sum("g_loss" in h for h in gan.history) == 3
    assert all("gradient_penalty" in h for h in gan.history)


def test_weight_clipping_bounds_every_critic_weight():
    seed_everything(0)
    gan = _fit(MLPGAN(hidden=32, loss="wasserstein", loss_options={"clip_value": 0.01}, lr_d=0.05), n_batches=5)
    for p in gan.discriminator.parameters():
        assert float(p.detach().abs().max()) <= 0.01 + 1e-7


def test_unrolled_steps_restore_the_discriminator():
    """The unrolled look-ahead changes D only for G's update; D keeps its own single step."""
    torch.manual_seed(0)
    plain = MLPGAN(hidden=32)
    unrolled = MLPGAN(hidden=32, unrolled_steps=3)
    unrolled.load_state_dict(plain.state_dict())
    for gan in (plain, unrolled):
        seed_everything(5)
        _fit(gan, n_batches=1, seed=5)
    # the discriminators saw the same batch and the same fakes for their own step
    for a, b in zip(plain.discriminator.parameters(), unrolled.discriminator.parameters()):
        torch.testing.assert_close(a, b)
    # the generators differ: one was trained against an unrolled discriminator
    assert any(not torch.allclose(a, b) for a, b in zip(plain.generator.parameters(), unrolled.generator.parameters()))


def test_ema_generator_is_used_for_sampling_and_lags_behind():
    seed_everything(0)
    gan = _fit(MLPGAN(hidden=32, ema_decay=0.9), n_batches=10)
    assert gan.generator_ema is not None
    z_gen = torch.Generator().manual_seed(0)
    ema_samples = gan.generate_samples(50, generator=z_gen)
    raw_samples = gan.generate_samples(50, generator=torch.Generator().manual_seed(0), use_ema=False)
    assert not torch.allclose(ema_samples, raw_samples)
    assert gan.generator.training  # sampling puts networks back in their mode


def test_invalid_options_raise_with_the_argument_name():
    with pytest.raises(ValueError, match="n_critic"):
        MLPGAN(n_critic=0)
    with pytest.raises(ValueError, match="ema_decay"):
        MLPGAN(ema_decay=1.5)
    with pytest.raises(ValueError, match="lr_d"):
        MLPGAN(lr_d=0)
    with pytest.raises(ValueError, match="choose one of"):
        MLPGAN(loss="nope")


def test_generate_samples_with_seed_is_repeatable_and_truncation_narrows_the_spread():
    torch.manual_seed(0)
    gan = MLPGAN(hidden=32, latent_dim=8)
    a = gan.generate_samples(500, generator=torch.Generator().manual_seed(1))
    b = gan.generate_samples(500, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b)
    narrow = gan.generate_samples(500, generator=torch.Generator().manual_seed(1), truncation=0.2)
    assert float(narrow.std(0).mean()) < float(a.std(0).mean())


def test_diagnostics_flag_vanishing_gradient_of_the_saturating_loss():
    """Minimax with an over-trained discriminator starves G; non-saturating does not."""
    results = {}
    for loss in ("minimax", "nonsaturating"):
        seed_everything(0)
        gan = MLPGAN(hidden=64, loss=loss, n_critic=5, lr_d=2e-3, lr_g=1e-5)
        _fit(gan, n_batches=400)
        results[loss] = diagnose_training(gan.history)
    assert results["minimax"]["grad_norm_g_end"] < 0.1 * results["nonsaturating"]["grad_norm_g_end"]


@pytest.mark.slow
def test_wgan_gp_on_the_ring_covers_at_least_six_of_eight_modes():
    seed_everything(0)
    data = torch.from_numpy(ring_of_gaussians(16384, random_state=1000))
    gan = MLPGAN(loss="wgan-gp", n_critic=5, betas=(0.5, 0.9), lr_g=1e-3, lr_d=1e-3, loss_options={"gp_weight": 1.0})
    loader = tensor_loader(data, batch_size=256, seed=0)
    trainer = build_trainer(None, max_epochs=int(np.ceil(3000 / len(loader))), enable_progress_bar=False)
    with quiet_lightning():
        trainer.fit(gan, loader)
    samples = gan.generate_samples(2500, generator=torch.Generator().manual_seed(0)).numpy()
    coverage = mode_coverage(samples, ring_centers(), std=0.02)
    assert coverage["modes_covered"] >= 6, coverage


def test_a_finite_but_runaway_loss_trips_the_guard():
    from ganaug.core.toy import MLPGAN

    gan = MLPGAN()
    gan._check_finite(torch.tensor(1e7), "generator loss")  # large, but not diverged
    with pytest.raises(NonFiniteLossError, match=r"generator loss is 7e\+29 \(beyond \+-1e\+08\) at epoch"):
        gan._check_finite(torch.tensor(7e29), "generator loss")
