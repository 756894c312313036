"""RecurrentGAN: masks, both modes, hooks used by anomaly scoring."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganaug.core import invert
from ganaug.core.trainer import build_trainer, quiet_lightning
from ganaug.core.data import tensor_loader
from ganaug.timeseries import RecurrentGAN


def _batch(padding_value: float, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(8, 10, 3, generator=g)
    lengths = torch.tensor([10, 9, 7, 5, 3, 10, 2, 6])
    pad = torch.arange(10)[None, :] >= lengths[:, None]
    x = torch.where(pad[..., None], torch.full_like(x, padding_value), x)
    cond = RecurrentGAN.make_condition(torch.tensor([0, 1] * 4), lengths)
    return x, cond


def _losses(gan: RecurrentGAN, batch) -> list[float]:
    real, cond = gan.split_batch(batch)
    torch.manual_seed(0)
    d_loss, _ = gan.discriminator_loss(real, cond)
    torch.manual_seed(1)
    g_loss = gan.generator_loss(real, cond)
    out = [float(d_loss.detach()), float(g_loss.detach())]
    if gan.mode == "timegan":
        x, cond = batch
        _, lengths, mask = gan._unpack(cond, len(x), x.device)
        xm = gan._apply_mask(x, mask)
        out.append(float(gan.reconstruction_loss(xm, mask).detach()))
        out.append(float(gan._supervised_loss(gan._embed(xm, mask), cond[:, 0], lengths, mask).detach()))
    return out


@pytest.mark.parametrize("mode", ["rcgan", "timegan"])
@pytest.mark.parametrize("loss", ["nonsaturating", "wgan-gp"])
def test_padding_values_never_change_the_losses(mode, loss):
    torch.manual_seed(0)
    gan = RecurrentGAN(3, 10, n_classes=2, mode=mode, hidden_dim=8, variable_length=True, loss=loss)
    reference = _losses(gan, _batch(0.0))
    for value in (5.0, -3.0, 1e3):
        assert _losses(gan, _batch(value)) == pytest.approx(reference, rel=1e-6, abs=1e-7)
    # ... while changing an observed value does change them
    x, cond = _batch(0.0)
    x[0, 0, 0] += 0.5
    assert _losses(gan, (x, cond)) != pytest.approx(reference, rel=1e-6, abs=1e-7)


@pytest.mark.parametrize("mode", ["rcgan", "timegan"])
def test_generated_series_are_zero_after_their_length(mode):
    gan = RecurrentGAN(2, 12, n_classes=3, mode=mode, hidden_dim=8, variable_length=True)
    cond = RecurrentGAN.make_condition(torch.tensor([0, 1, 2]), torch.tensor([12, 4, 7]))
    out = gan.generate_samples(3, cond, generator=torch.Generator().manual_seed(0))
    assert out.shape == (3, 12, 2)
    assert torch.all(out[1, 4:] == 0) and torch.all(out[2, 7:] == 0)
    assert torch.all(out[0] > 0) and torch.all(out[0] < 1)


def test_constructor_validation():
    with pytest.raises(ValueError, match="mode"):
        RecurrentGAN(1, 5, mode="diffusion")
    with pytest.raises(ValueError, match="cell"):
        RecurrentGAN(1, 5, cell="rnn")
    with pytest.raises(ValueError, match="seq_len"):
        RecurrentGAN(1, 1)
    with pytest.raises(TypeError, match="unknown arguments"):
        RecurrentGAN(1, 5, learning_rate=0.1)
    gan = RecurrentGAN(1, 5, n_classes=2)
    with pytest.raises(ValueError, match="conditional"):
        gan.generate_samples(2)


@pytest.mark.parametrize("mode", ["rcgan", "timegan"])
def test_anomaly_hooks_scores_and_inversion(mode):
    gan = RecurrentGAN(2, 8, mode=mode, hidden_dim=8, cell="lstm").eval()
    z = torch.randn(4, *gan.latent_shape)
    x = gan.generate_windows(z)
    assert x.shape == (4, 8, 2) and x.requires_grad
    assert gan.window_scores(x.detach()).shape == (4,)
    assert gan.step_logits(x.detach()).shape == (4, 8)
    z_found, residual = invert(gan.generate_windows, x.detach(), gan.latent_shape, steps=60, lr=0.05)
    assert z_found.shape == z.shape and residual.shape == (4,)
    start = (gan.generate_windows(torch.randn(4, *gan.latent_shape, generator=torch.Generator().manual_seed(0)))
             - x).flatten(1).norm(dim=1)
    # untrained TimeGAN outputs are nearly constant: only ask that inversion does not get worse there
    assert float(residual.mean()) <= float(start.detach().mean()) * (0.5 if mode == "rcgan" else 1.0)
    if mode == "timegan":
        assert gan.reconstruct(x.detach()).shape == x.shape
    else:
        with pytest.raises(ValueError, match="timegan"):
            gan.reconstruct(x.detach())


def test_timegan_schedule_runs_its_three_phases():
    torch.manual_seed(0)
    x = torch.rand(32, 6, 2)
    cond = RecurrentGAN.make_condition(torch.zeros(32), torch.full((32,), 6))
    gan = RecurrentGAN(2, 6, mode="timegan", hidden_dim=8, embedding_epochs=1, supervised_epochs=1, ema_decay=0.9)
    trainer = build_trainer({"enable_progress_bar": False}, max_epochs=3)
    with quiet_lightning():
        trainer.fit(gan, tensor_loader(x, cond, batch_size=16, seed=0))
    keys = [set(r) for r in gan.history]
    assert "reconstruction_loss" in keys[0] and "d_loss" not in keys[0]
    assert "supervised_loss" in keys[2]
    assert {"d_loss", "g_loss", "reconstruction_loss"} <= keys[-1]
    assert np.isfinite([r["g_loss"] for r in gan.history if "g_loss" in r]).all()


def _denormal_survives() -> bool:
    """True when float32 denormals are kept (flushing off)."""
    return bool((torch.tensor([1e-39], dtype=torch.float32) * 1.0).item() != 0.0)


def test_denormals_are_flushed_while_training_and_restored_after():
    import lightning.pytorch as pl

    from ganaug.core import tensor_loader
    from ganaug.datasets import load_stocks

    if not torch.set_flush_denormal(False):
        pytest.skip("this CPU cannot flush denormals")
    seen = []

    class Probe(pl.Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            seen.append(_denormal_survives())

    values = load_stocks(window=None).to_numpy()[:240]
    x = torch.tensor((values - values.min(0)) / (values.max(0) - values.min(0)), dtype=torch.float32)
    x = x.reshape(10, 24, -1)
    cond = RecurrentGAN.make_condition(torch.zeros(10), torch.full((10,), 24))
    gan = RecurrentGAN(n_channels=x.shape[2], seq_len=24, hidden_dim=8, num_layers=1)
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_progress_bar=False, enable_checkpointing=False,
                         enable_model_summary=False, callbacks=[Probe()])
    assert _denormal_survives()
    trainer.fit(gan, tensor_loader(x, cond, batch_size=5, seed=0))
    assert seen and not any(seen)  # flushed during training
    assert _denormal_survives()  # and restored after

    class Boom(pl.Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            raise RuntimeError("boom")

    trainer = pl.Trainer(max_epochs=1, logger=False, enable_progress_bar=False, enable_checkpointing=False,
                         enable_model_summary=False, callbacks=[Boom()])
    with pytest.raises(RuntimeError, match="boom"):
        trainer.fit(RecurrentGAN(n_channels=x.shape[2], seq_len=24, hidden_dim=8, num_layers=1),
                    tensor_loader(x, cond, batch_size=5, seed=0))
    assert _denormal_survives()  # restored after an error too
