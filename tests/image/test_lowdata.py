"""Low-data GAN training options of ``ConditionalImageGAN``: LeCam regularisation and ADA."""

from __future__ import annotations

import lightning.pytorch as pl
import numpy as np
import pytest
import torch
from torch import nn

from ganaug.augment.image import ImageAugmenter
from ganaug.core.data import tensor_loader
from ganaug.image import ConditionalImageGAN
from ganaug.image.diffaugment import adaptive_augment

SMALL = dict(n_classes=2, image_size=28, width=8, latent_dim=4, diffaugment=None, ema_decay=None)


@pytest.fixture(scope="module")
def digits(mnist):
    """8 real digits (four 0s, four 1s) as a float batch in [-1, 1] and their labels."""
    X, y = mnist
    idx = np.concatenate([np.flatnonzero(y == 0)[:4], np.flatnonzero(y == 1)[:4]])
    real = torch.from_numpy(X[idx]).float().div(127.5).sub(1.0).unsqueeze(1)
    return real, torch.from_numpy((y[idx] == 1).astype(np.int64))


def _model(**kw) -> ConditionalImageGAN:
    torch.manual_seed(0)
    return ConditionalImageGAN(**SMALL, **kw)


def _fit(gan, real, cond, steps=3):
    trainer = pl.Trainer(max_epochs=steps, logger=False, enable_progress_bar=False, enable_checkpointing=False,
                         enable_model_summary=False, accelerator="cpu")
    trainer.fit(gan, tensor_loader(real, cond, batch_size=8, seed=0))
    return gan


def _logits_of_step(gan, real, cond, seed):
    """The real and fake logits a discriminator step with ``torch.manual_seed(seed)`` sees (eval mode: no SN update)."""
    torch.manual_seed(seed)
    with torch.no_grad():
        fake = gan.generate(gan.sample_noise(len(real)), cond)
        real_logits = gan.discriminate(real, cond)[0].reshape(-1)
        fake_logits = gan.discriminate(fake, cond)[0].reshape(-1)
    return real_logits, fake_logits


# ----------------------------------------------------------------------- LeCam
def test_lecam_adds_exactly_its_term_and_updates_the_anchors(digits):
    real, cond = digits
    plain, lecam = _model(), _model(lecam_weight=0.5)
    for (k, a), b in zip(plain.state_dict().items(), (lecam.state_dict()[k] for k in plain.state_dict())):
        assert torch.equal(a, b), k  # the same networks
    plain.eval(), lecam.eval()  # spectral norm does no power iteration: repeatable logits

    torch.manual_seed(1)
    loss_plain, _ = plain.discriminator_loss(real, cond)
    torch.manual_seed(1)
    loss_lecam, logs = lecam.discriminator_loss(real, cond)
    rl, fl = _logits_of_step(lecam, real, cond, seed=1)
    # lecam_weight=0 leaves the loss as it was: the hinge loss of the logits
    assert torch.allclose(loss_plain, plain.adversarial_loss.discriminator_loss(rl, fl), atol=1e-6)
    # the first batch sets the anchors, then the term uses them
    assert torch.allclose(lecam.lecam_ema_real, rl.mean()) and torch.allclose(lecam.lecam_ema_fake, fl.mean())
    term = 0.5 * (((rl - fl.mean()) ** 2).mean() + ((fl - rl.mean()) ** 2).mean())
    assert float(term) > 1e-4
    assert torch.allclose(loss_lecam - loss_plain, term, atol=1e-6)
    assert logs["lecam"] == pytest.approx(float(term), rel=1e-5)

    # next batch: exponential moving averages with decay 0.99
    old_real, old_fake = lecam.lecam_ema_real.clone(), lecam.lecam_ema_fake.clone()
    torch.manual_seed(2)
    loss_plain2, _ = plain.discriminator_loss(real.flip(0), cond.flip(0))
    torch.manual_seed(2)
    loss_lecam2, _ = lecam.discriminator_loss(real.flip(0), cond.flip(0))
    rl2, fl2 = _logits_of_step(lecam, real.flip(0), cond.flip(0), seed=2)
    alpha_r = 0.99 * old_real + 0.01 * rl2.mean()
    alpha_f = 0.99 * old_fake + 0.01 * fl2.mean()
    assert torch.allclose(lecam.lecam_ema_real, alpha_r, atol=1e-6)
    assert torch.allclose(lecam.lecam_ema_fake, alpha_f, atol=1e-6)
    assert int(lecam.lecam_updates) == 2
    term2 = 0.5 * (((rl2 - alpha_f) ** 2).mean() + ((fl2 - alpha_r) ** 2).mean())
    assert torch.allclose(loss_lecam2 - loss_plain2, term2, atol=1e-6)


def test_lecam_anchors_follow_training_and_the_loss_gets_gradients(digits):
    real, cond = digits
    gan = _fit(_model(lecam_weight=0.3), real, cond, steps=3)
    assert int(gan.lecam_updates) == 3
    assert float(gan.lecam_ema_real) != 0.0 and float(gan.lecam_ema_fake) != 0.0
    assert all(rec["lecam"] > 0 for rec in gan.history)
    # the term is differentiable in the discriminator
    rl = gan.discriminate(real, cond)[0]
    term = gan.discriminator_logit_loss(rl, rl.detach() * 0)
    term.backward()
    assert any(p.grad is not None and float(p.grad.abs().sum()) > 0 for p in gan.discriminator.parameters())


def test_options_off_by_default_leave_the_state_dict_unchanged():
    plain = _model()
    assert not any(k.startswith(("lecam_", "ada_")) for k in plain.state_dict())
    assert plain.discriminator_logit_loss(torch.ones(3), torch.zeros(3)) is None
    on = _model(lecam_weight=0.1, ada_target=0.6)
    assert {"lecam_ema_real", "lecam_ema_fake", "lecam_updates", "ada_p"} <= set(on.state_dict())
    assert "_ada_stats" not in on.state_dict()


# ------------------------------------------------------------------------- ADA
class _ConstD(nn.Module):
    """A discriminator whose logits are fixed; records what it was fed."""

    def __init__(self, logits):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(()))
        self.logits = torch.as_tensor(logits, dtype=torch.float32)
        self.seen = []

    def forward(self, x, labels=None, stage=None, alpha=1.0):
        self.seen.append(x.detach().clone())
        return self.logits[: len(x)] + 0 * self.weight, {}


def test_ada_p_rises_when_d_is_overconfident_on_reals_and_falls_otherwise(digits):
    real, cond = digits
    gan = _model(ada_target=0.6, ada_interval=2, ada_speed=32)
    gan.discriminator = _ConstD(torch.full((8,), 5.0))  # r_t = 1 > 0.6
    ps = []
    for _ in range(6):
        gan.discriminator_loss(real, cond)
        ps.append(float(gan.ada_p))
    # adjusted every 2 steps by 16 images / 32 = 0.5, clipped at 1
    assert ps == [0.0, 0.5, 0.5, 1.0, 1.0, 1.0]

    gan.discriminator = _ConstD(torch.full((8,), -5.0))  # r_t = -1 < 0.6
    ps = []
    for _ in range(6):
        gan.discriminator_loss(real, cond)
        ps.append(float(gan.ada_p))
    assert ps == [1.0, 0.5, 0.5, 0.0, 0.0, 0.0]

    # the signal is E[sign(D(real))], not the mean logit: huge but few positive logits are below the target
    gan.ada_p.fill_(0.5)
    gan.discriminator = _ConstD(torch.tensor([100.0] * 5 + [-1.0] * 3))  # r_t = 0.25
    gan.discriminator_loss(real, cond)
    logs = gan.discriminator_loss(real, cond)[1]
    assert float(gan.ada_p) == pytest.approx(0.0) and logs["ada_p"] == pytest.approx(0.0)


def test_ada_p_stays_in_unit_interval_during_training(digits):
    real, cond = digits
    gan = _fit(_model(ada_target=0.6, ada_interval=1, ada_speed=4), real, cond, steps=3)
    values = [rec["ada_p"] for rec in gan.history]
    assert len(values) == 3 and all(0.0 <= v <= 1.0 for v in values)
    assert any(v in (0.0, 1.0) for v in values)  # a step of 8/4 = 2 always reaches a bound


def test_ada_probability_zero_leaves_images_untouched_and_one_changes_them(digits):
    real, cond = digits
    assert adaptive_augment(real, 0.0) is real
    assert torch.equal(adaptive_augment(real, torch.tensor(0.0)), real)
    changed = adaptive_augment(real, 1.0)
    assert changed.shape == real.shape
    assert bool(((changed - real).flatten(1).abs().amax(dim=1) > 0).all())  # every image changed
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        adaptive_augment(real, 1.5)

    # inside a training step the model feeds D the augmented images, with its own p
    gan = _model(ada_target=0.6)
    gan.discriminator = d = _ConstD(torch.zeros(8))
    gan._in_step = True
    try:
        gan.discriminate(real, cond)
        assert torch.equal(d.seen[-1], real)  # p = 0 at the start
        gan.ada_p.fill_(1.0)
        gan.discriminate(real, cond)
        assert bool(((d.seen[-1] - real).flatten(1).abs().amax(dim=1) > 0).all())
    finally:
        gan._in_step = False
    gan.discriminate(real, cond)  # outside training: never augmented
    assert torch.equal(d.seen[-1], real)


def test_ada_is_differentiable_and_gradients_reach_the_generator(digits):
    real, cond = digits
    x = real.clone().requires_grad_(True)
    adaptive_augment(x, 1.0).sum().backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0
    # cutout alone: gradient 1 where the image is kept, 0 in the hole of every image
    x = real.clone().requires_grad_(True)
    out = adaptive_augment(x, 1.0, "cutout")
    out.sum().backward()
    hole = (out == 0) & (real != 0)
    assert bool(hole.flatten(1).any(dim=1).all())
    assert set(x.grad.unique().tolist()) == {0.0, 1.0}
    assert bool((x.grad[hole] == 0).all()) and bool((x.grad[out != 0] == 1).all())

    def grads(p):
        gan = _model(ada_target=0.6)
        gan.ada_p.fill_(p)
        gan._in_step = True
        torch.manual_seed(3)
        gan.generator_loss(real, cond).backward()
        gan._in_step = False
        return torch.cat([q.grad.flatten() for q in gan.generator.parameters() if q.grad is not None])

    g0, g1 = grads(0.0), grads(1.0)
    assert g1.numel() == g0.numel() == sum(q.numel() for q in _model().generator.parameters())
    assert bool(torch.isfinite(g1).all()) and float(g1.abs().sum()) > 0
    assert not torch.allclose(g0, g1)  # the augmentation is on the generator's gradient path


@pytest.mark.parametrize("kw", [dict(lecam_weight=-1.0), dict(lecam_decay=1.0), dict(ada_target=1.5),
                                dict(ada_target=0.6, ada_interval=0), dict(ada_target=0.6, ada_speed=0),
                                dict(ada_target=0.6, ada_policy="")])
def test_bad_options(kw):
    with pytest.raises(ValueError):
        _model(**kw)


def test_augmenter_forwards_the_options_and_save_load_keeps_p_and_anchors(mnist_small, tmp_path):
    X, y = mnist_small
    aug = ImageAugmenter(epochs=1, batch_size=16, width=8, latent_dim=4, random_state=0, diffaugment=None,
                         lecam_weight=0.2, ada_target=0.6, ada_interval=2, ada_speed=500).fit(X, y)
    module = aug.module_
    assert module.lecam_weight == 0.2 and module.ada_target == 0.6 and module.ada_interval == 2
    assert all(0.0 <= rec["ada_p"] <= 1.0 for rec in aug.history_) and int(module.lecam_updates) > 0
    module.ada_p.fill_(0.37)
    aug.save(tmp_path / "m")
    loaded = ImageAugmenter.load(tmp_path / "m")
    assert float(loaded.module_.ada_p) == pytest.approx(0.37)
    for name in ("lecam_ema_real", "lecam_ema_fake", "lecam_updates"):
        assert torch.equal(getattr(loaded.module_, name), getattr(module, name))
    assert loaded.get_params()["ada_speed"] == 500 and loaded.get_params()["lecam_weight"] == 0.2
    np.testing.assert_array_equal(loaded.sample(5, random_state=0)[0], aug.sample(5, random_state=0)[0])
