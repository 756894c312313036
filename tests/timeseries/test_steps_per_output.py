"""Batch generation (DoppelGANger's ``steps_per_output``) in RecurrentGAN and TimeSeriesAugmenter."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ganaug.augment.base import BaseAugmenter
from ganaug.augment.timeseries import TimeSeriesAugmenter
from ganaug.core import invert
from ganaug.datasets import load_gunpoint, load_internal_bleeding
from ganaug.timeseries import RecurrentGAN
from ganaug.timeseries.encoding import SeriesEncoder, make_windows

FAST = dict(mode="rcgan", epochs=1, hidden_dim=8, num_layers=1, batch_size=16)


@pytest.fixture(scope="module")
def bleeding():
    """Real long series: 14 windows of 250 steps of the (normal) InternalBleeding16 training data."""
    train, _, _ = load_internal_bleeding()
    return make_windows(train, window=250, stride=70)


@pytest.fixture(scope="module")
def encoded(bleeding):
    """The windows encoded as RecurrentGAN sees them: ``(N, 250, 1)`` in [0, 1]."""
    values, _ = SeriesEncoder().fit(bleeding).transform(bleeding)
    return torch.as_tensor(values, dtype=torch.float32)


@pytest.fixture(scope="module")
def gunpoint_ragged():
    """Real GunPoint series (150 steps) cut to varied lengths, NaN after each length."""
    X, y, _, _ = load_gunpoint()
    keep = np.r_[np.flatnonzero(y == "1")[:12], np.flatnonzero(y == "2")[:5]]
    X, y = X[keep].copy(), y[keep]
    lengths = np.random.default_rng(0).integers(60, 151, len(X))
    lengths[0] = 150
    X[np.arange(150)[None, None, :] >= lengths[:, None, None]] = np.nan
    return X, y


def _rnn_steps(gan: RecurrentGAN) -> dict[str, list[int]]:
    """Record how many steps every recurrent network of ``gan`` runs (forward hooks on the RNNs)."""
    seen: dict[str, list[int]] = {}
    for name in ("generator", "discriminator", "embedder", "recovery", "supervisor"):
        net = getattr(gan, name, None)
        if net is not None:
            net.rnn.register_forward_hook(lambda m, inp, out, name=name: seen.setdefault(name, []).append(inp[0].shape[1]))
    return seen


def _losses(gan: RecurrentGAN, x: torch.Tensor, cond: torch.Tensor) -> list[float]:
    real, c = gan.split_batch((x, cond))
    torch.manual_seed(0)
    d_loss, _ = gan.discriminator_loss(real, c)
    torch.manual_seed(1)
    g_loss = gan.generator_loss(real, c)
    gan._cache.clear()
    return [float(d_loss.detach()), float(g_loss.detach())]


@pytest.mark.parametrize("mode", ["rcgan", "timegan"])
@pytest.mark.parametrize("steps", [10, 7])  # 250 = 25 * 10; 250 = 35 * 7 + 5
def test_networks_run_ceil_length_over_steps(encoded, mode, steps):
    x = encoded[:8]
    chunks = math.ceil(250 / steps)
    gan = RecurrentGAN(1, 250, mode=mode, hidden_dim=8, num_layers=1, steps_per_output=steps)
    assert gan.latent_shape == (chunks, gan.noise_dim) and gan.config()["steps_per_output"] == steps
    seen = _rnn_steps(gan)
    out = gan.generate_samples(5, generator=torch.Generator().manual_seed(0))
    assert out.shape == (5, 250, 1) and torch.isfinite(out).all()
    real, cond = gan.split_batch(x)
    logits, _ = gan.discriminate(real, cond)
    assert logits.shape == (8, chunks)
    _losses(gan, x, None)
    if mode == "timegan":
        assert gan.reconstruction_loss(x, torch.ones(8, 250, dtype=torch.bool)).isfinite()
    assert seen and all(n == chunks for lengths in seen.values() for n in lengths), seen


def test_steps_per_output_one_is_the_default(encoded):
    torch.manual_seed(0)
    default = RecurrentGAN(1, 250, hidden_dim=8, variable_length=True)
    torch.manual_seed(0)
    one = RecurrentGAN(1, 250, hidden_dim=8, variable_length=True, steps_per_output=1)
    a, b = default.state_dict(), one.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert default.latent_shape == one.latent_shape == (250, default.noise_dim)
    cond = RecurrentGAN.make_condition(torch.zeros(4), torch.tensor([250, 100, 37, 2]))
    draw = [m.generate_samples(4, cond, generator=torch.Generator().manual_seed(1)) for m in (default, one)]
    assert torch.equal(*draw)
    assert torch.equal(default.step_logits(encoded[:4], cond), one.step_logits(encoded[:4], cond))


def test_augmenter_steps_per_output_one_is_the_default(gunpoint_ragged):
    X, y = gunpoint_ragged
    X = X[:, :, :40]  # every series is observed past 40 steps: fixed length, fast
    first = TimeSeriesAugmenter(**FAST, random_state=0).fit(X, y)
    second = TimeSeriesAugmenter(**FAST, steps_per_output=1, random_state=0).fit(X, y)
    np.testing.assert_array_equal(first.sample(6, random_state=2)[0], second.sample(6, random_state=2)[0])


@pytest.mark.parametrize("mode", ["rcgan", "timegan"])
def test_folding_is_causal_chunk_by_chunk(encoded, mode):
    """Changing the series from step t on leaves the logits of every chunk that ends before t unchanged."""
    steps, length = 5, 23  # chunks [0-4] [5-9] [10-14] [15-19] [20-22]
    x = encoded[:6, 100:100 + length]
    gan = RecurrentGAN(1, length, mode=mode, hidden_dim=8, num_layers=1, steps_per_output=steps).eval()
    with torch.no_grad():
        logits = gan.discriminate(gan.split_batch(x)[0])[0]
        for t in (3, 12, 20):
            changed = x.clone()
            changed[:, t:] = torch.rand_like(changed[:, t:])
            new = gan.discriminate(gan.split_batch(changed)[0])[0]
            first = t // steps  # the chunk holding step t: the first one that may change
            assert torch.equal(new[:, :first], logits[:, :first])
            assert not torch.allclose(new[:, first], logits[:, first])
        # generator: noise of chunk k only writes steps k*S .. k*S+S-1 and what follows
        z = gan.sample_noise(3, generator=torch.Generator().manual_seed(0))
        out = gan.generate_windows(z)
        z2 = z.clone()
        z2[:, 2] += 1.0
        out2 = gan.generate_windows(z2)
        assert torch.equal(out2[:, :10], out[:, :10])
        assert (out2[:, 10:15] - out[:, 10:15]).abs().amin(dim=1).gt(0).all()


@pytest.mark.parametrize("mode", ["rcgan", "timegan"])
def test_padding_never_leaks_into_a_partly_observed_chunk(encoded, mode):
    x = encoded[:8, :24].clone()
    lengths = torch.tensor([24, 22, 13, 10, 7, 3, 1, 16])  # 13 = two chunks of 5 and three steps of a third
    cond = RecurrentGAN.make_condition(torch.tensor([0, 1] * 4), lengths)
    torch.manual_seed(0)
    gan = RecurrentGAN(1, 24, n_classes=2, mode=mode, hidden_dim=8, num_layers=1, variable_length=True,
                       steps_per_output=5)
    pad = torch.arange(24)[None, :] >= lengths[:, None]
    reference = _losses(gan, torch.where(pad[..., None], 0.0, x), cond)
    for value in (5.0, -3.0, 1e3):
        garbage = torch.where(pad[..., None], value, x)
        assert _losses(gan, garbage, cond) == pytest.approx(reference, rel=1e-6, abs=1e-7)
        logits = gan.step_logits(garbage, cond)
        assert torch.all(logits[pad] == 0)
        if mode == "rcgan":  # even unmasked input (e.g. instance noise) cannot reach a chunk's logit
            clean = torch.where(pad[..., None], 0.0, x)
            assert torch.equal(gan.discriminate(garbage, cond)[0], gan.discriminate(clean, cond)[0])
    # ... while changing an observed step of a partly observed chunk does change them
    changed = torch.where(pad[..., None], 0.0, x)
    changed[2, 12] += 0.5
    assert _losses(gan, changed, cond) != pytest.approx(reference, rel=1e-6, abs=1e-7)


def test_position_feature_counts_chunks():
    gan = RecurrentGAN(1, 10, hidden_dim=8, num_layers=1, noise_dim=4, variable_length=True, steps_per_output=4)
    seen = {}
    gan.generator.rnn.register_forward_hook(lambda m, inp, out: seen.update(x=inp[0]))
    cond = RecurrentGAN.make_condition(torch.zeros(4), torch.tensor([10, 5, 8, 3]))  # 3, 2, 2, 1 chunks
    out = gan.generate_samples(4, cond, generator=torch.Generator().manual_seed(0))
    position = seen["x"][:, :, -1]
    expected = torch.tensor([[0.0, 0.5, 1.0], [0.0, 1.0, 1.0], [0.0, 1.0, 1.0], [0.0, 1.0, 1.0]])
    assert position.shape == (4, 3) and torch.allclose(position, expected)
    assert torch.all(out[1, 5:] == 0) and torch.all(out[3, 3:] == 0) and torch.all(out[1, :5] > 0)


@pytest.mark.parametrize("mode", ["rcgan", "timegan"])
def test_moment_loss_sees_the_unfolded_series(encoded, mode, monkeypatch):
    gan = RecurrentGAN(1, 250, mode=mode, hidden_dim=8, num_layers=1, steps_per_output=10)
    shapes = []
    original = RecurrentGAN._moment_loss

    def spy(self, x, x_hat, mask, labels=None):
        shapes.append((tuple(x.shape), tuple(x_hat.shape), tuple(mask.shape)))
        return original(self, x, x_hat, mask, labels)

    monkeypatch.setattr(RecurrentGAN, "_moment_loss", spy)
    _losses(gan, encoded[:6], None)
    assert shapes == [((6, 250, 1), (6, 250, 1), (6, 250))]


@pytest.mark.parametrize("mode", ["rcgan", "timegan"])
def test_anomaly_hooks_with_chunks(encoded, mode):
    gan = RecurrentGAN(1, 30, mode=mode, hidden_dim=8, num_layers=1, steps_per_output=4).eval()
    assert gan.latent_shape == (8, gan.noise_dim)
    z = torch.randn(3, *gan.latent_shape, generator=torch.Generator().manual_seed(0))
    x = gan.generate_windows(z)
    assert x.shape == (3, 30, 1) and x.requires_grad
    real = encoded[:3, :30]
    logits = gan.step_logits(real)
    chunk_logits = gan.discriminate(gan._embed(real, torch.ones(3, 30, dtype=torch.bool)) if mode == "timegan"
                                    else real)[0]
    assert logits.shape == (3, 30) and chunk_logits.shape == (3, 8)
    assert torch.equal(logits, chunk_logits.repeat_interleave(4, dim=1)[:, :30])
    assert torch.allclose(gan.window_scores(real), logits.mean(1))
    z_found, residual = invert(gan.generate_windows, x.detach(), gan.latent_shape, steps=3, lr=0.05)
    assert z_found.shape == z.shape and residual.shape == (3,)
    with pytest.raises(ValueError, match="latent"):
        gan.generate_windows(torch.randn(3, 30, gan.noise_dim))


def test_augmenter_long_series_and_variable_length(gunpoint_ragged):
    aug = TimeSeriesAugmenter(**FAST, steps_per_output=25, random_state=0).from_series(
        load_internal_bleeding()[0][:900], window=250, stride=50)
    assert aug.module_.latent_shape[0] == 10 and aug.get_params()["steps_per_output"] == 25
    assert aug.sample(4, random_state=0).shape == (4, 1, 250)

    X, y = gunpoint_ragged
    aug = TimeSeriesAugmenter(**FAST, steps_per_output=7, random_state=0)  # 150 = 21 * 7 + 3
    X_res, y_res = aug.fit_resample(X, y)
    assert aug.module_.n_chunks == 22 and X_res.shape == (24, 1, 150)
    new = X_res[len(X):, 0]
    observed = ~np.isnan(new)
    lengths = observed.sum(1)
    assert np.array_equal(observed, np.arange(150)[None, :] < lengths[:, None])  # NaN right after each length
    assert lengths.min() >= 1 and np.isfinite(new[observed]).all()


def test_save_load_round_trip(tmp_path, bleeding):
    aug = TimeSeriesAugmenter(**{**FAST, "mode": "timegan"}, pretrain_epochs=1, steps_per_output=8,
                              random_state=0).fit(bleeding)
    aug.save(tmp_path / "m")
    loaded = BaseAugmenter.load(tmp_path / "m")
    assert loaded.steps_per_output == 8 and loaded.module_.config() == aug.module_.config()
    np.testing.assert_array_equal(loaded.sample(5, random_state=3), aug.sample(5, random_state=3))


@pytest.mark.parametrize("bad", [0, -2, 1.5, True, "4", None])
def test_bad_steps_per_output(bad, gunpoint_ragged):
    with pytest.raises(ValueError, match="steps_per_output must be a positive int"):
        RecurrentGAN(1, 10, steps_per_output=bad)
    X, y = gunpoint_ragged
    with pytest.raises(ValueError, match="steps_per_output must be a positive int"):
        TimeSeriesAugmenter(**FAST, steps_per_output=bad).fit(X, y)


def test_series_shorter_than_steps_per_output(gunpoint_ragged):
    with pytest.raises(ValueError, match=r"seq_len=5 .*steps_per_output=6"):
        RecurrentGAN(1, 5, steps_per_output=6)
    X, y = gunpoint_ragged
    with pytest.raises(ValueError, match=r"steps_per_output=200 .*padded length 150, longest observed length 150"):
        TimeSeriesAugmenter(**FAST, steps_per_output=200).fit(X, y)
    short = X.copy()
    short[:, :, 9:] = np.nan  # padded to 150, observed for 9 steps at most
    with pytest.raises(ValueError, match=r"steps_per_output=12 .*padded length 150, longest observed length 9"):
        TimeSeriesAugmenter(**FAST, steps_per_output=12).fit(short, y)
    with pytest.raises(ValueError, match="set by the augmenter"):
        TimeSeriesAugmenter(**FAST, gan_params={"steps_per_output": 3}).fit(X, y)
