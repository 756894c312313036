import lightning.pytorch as pl
import pytest
import torch

from ganaug.core.data import tensor_loader
from ganaug.image import ConditionalImageGAN
from ganaug.image.networks import ImageDiscriminator, ImageGenerator, stage_plan


def _fit(gan, x, y, epochs=1, batch_size=8):
    trainer = pl.Trainer(max_epochs=epochs, logger=False, enable_progress_bar=False, enable_checkpointing=False,
                         enable_model_summary=False, accelerator="cpu")
    trainer.fit(gan, tensor_loader(x, y, batch_size=batch_size, seed=0))
    return gan


@pytest.mark.parametrize("size,plan", [(4, (1, 2)), (12, (3, 2)), (28, (7, 2)), (32, (4, 3)), (64, (4, 4))])
def test_stage_plan_and_networks_for_any_multiple_of_4(size, plan):
    assert stage_plan(size) == plan
    g = ImageGenerator(6, 3, 3, size, width=16)
    d = ImageDiscriminator(3, 3, size, width=16)
    img = g(torch.randn(2, 6), torch.tensor([0, 2]))
    assert img.shape == (2, 3, size, size) and float(img.abs().max()) <= 1.0
    logits, extras = d(img, torch.tensor([0, 2]))
    assert logits.shape == (2,) and extras == {}


@pytest.mark.parametrize("size", [0, 6, 30, 3])
def test_bad_sizes(size):
    with pytest.raises(ValueError, match="multiple of 4"):
        ConditionalImageGAN(image_size=size)


@pytest.mark.parametrize("options", [
    dict(),
    dict(conditioning="acgan"),
    dict(aux_weight=0.5),
    dict(diversity_weight=0.5),
    dict(loss="wgan-gp"),
    dict(info_categorical=3, info_continuous=2),
    dict(minibatch_std=True, diffaugment=None, ema_decay=None),
])
def test_every_variant_trains_a_step_on_grey_28(options, mnist_small):
    X, y = mnist_small
    x = torch.from_numpy(X[:16]).float().div(127.5).sub(1).unsqueeze(1)
    labels = torch.from_numpy(y[:16] == 1).long()
    gan = _fit(ConditionalImageGAN(n_classes=2, image_size=28, width=16, latent_dim=8, **options), x, labels)
    assert len(gan.history) == 2
    assert all(torch.isfinite(torch.tensor(h["d_loss"])) for h in gan.history)
    out = gan.generate_samples(5, cond=torch.tensor([0, 1, 0, 1, 1]), generator=torch.Generator().manual_seed(0))
    assert out.shape == (5, 1, 28, 28)
    if options.get("conditioning") == "acgan":
        assert gan.adversarial_loss.name == "nonsaturating" and gan.discriminator.aux is not None
    if "aux_weight" in options:
        assert gan.discriminator.aux is not None and gan.adversarial_loss.name == "hinge"
    if not options:
        assert gan.discriminator.aux is None
    if "diversity_weight" in options:  # the mode-seeking term is part of the generator loss
        z, cond = gan.sample_noise(8), torch.tensor([0, 0, 1, 1, 0, 1, 0, 1])
        fake = gan.generate(z, cond)
        plain = ConditionalImageGAN(n_classes=2, image_size=28, width=16, latent_dim=8)
        assert plain.generator_extra_loss(None, fake, cond, {}, z) is None
        assert float(gan.generator_extra_loss(None, fake, cond, {}, z)) > 0
    if options.get("loss") == "wgan-gp":
        assert "gradient_penalty" in gan.history[0]
        # no spectral norm with a gradient penalty by default
        assert not hasattr(gan.discriminator.final, "parametrizations")
    else:
        assert hasattr(gan.discriminator.final, "parametrizations")


def test_rgb_32_and_infogan_codes_in_the_latent():
    gan = ConditionalImageGAN(n_classes=3, channels=3, image_size=32, width=16, latent_dim=5,
                              info_categorical=4, info_continuous=1)
    z = gan.sample_noise(7, generator=torch.Generator().manual_seed(0), truncation=0.5)
    assert z.shape == (7, 10)
    assert float(z[:, :5].abs().max()) <= 0.5
    assert torch.equal(z[:, 5:9].sum(1), torch.ones(7))
    assert gan.decode(z, torch.tensor([0, 1, 2, 0, 1, 2, 0])).shape == (7, 3, 32, 32)


def test_progressive_growing_fades_in_and_ends_at_full_size(mnist_small):
    X, y = mnist_small
    x = torch.from_numpy(X[:32]).float().div(127.5).sub(1).unsqueeze(1)
    labels = torch.from_numpy(y[:32] == 1).long()
    gan = ConditionalImageGAN(n_classes=2, image_size=28, width=16, latent_dim=8, progressive=0.9)
    seen = []
    original = gan.discriminate

    def spy(xb, cond=None):
        seen.append((xb.shape[-1], gan.grow_stage, round(gan.grow_alpha, 2)))
        return original(xb, cond)

    gan.discriminate = spy
    _fit(gan, x, labels, epochs=6, batch_size=8)
    sizes = [s for s, _, _ in seen]
    assert sizes[0] == 7 and 14 in sizes and sizes[-1] == 28
    assert any(0 < a < 1 for _, _, a in seen)  # a fade-in happened
    # sampling after training is always full size
    assert gan.generate_samples(2, cond=torch.tensor([0, 1])).shape == (2, 1, 28, 28)
    gan.grow_stage, gan.grow_alpha = 0, 1.0
    assert gan.generate_samples(2, cond=torch.tensor([0, 1])).shape == (2, 1, 28, 28)


def test_truncation_and_ema_are_used_for_sampling(mnist_small):
    X, y = mnist_small
    x = torch.from_numpy(X[:16]).float().div(127.5).sub(1).unsqueeze(1)
    gan = _fit(ConditionalImageGAN(n_classes=2, image_size=28, width=16, latent_dim=8, ema_decay=0.99), x,
               torch.from_numpy(y[:16] == 1).long())
    assert gan.generator_ema is not None
    cond = torch.tensor([0, 1, 1])
    ema = gan.generate_samples(3, cond=cond, generator=torch.Generator().manual_seed(0))
    raw = gan.generate_samples(3, cond=cond, generator=torch.Generator().manual_seed(0), use_ema=False)
    assert not torch.allclose(ema, raw)
    a = gan.generate_samples(3, cond=cond, truncation=0.3, generator=torch.Generator().manual_seed(0))
    b = gan.generate_samples(3, cond=cond, truncation=0.3, generator=torch.Generator().manual_seed(0))
    assert torch.equal(a, b)


def test_bad_options():
    with pytest.raises(ValueError, match="conditioning"):
        ConditionalImageGAN(conditioning="concat")
    with pytest.raises(ValueError, match="channels"):
        ConditionalImageGAN(channels=2)
    with pytest.raises(ValueError, match="progressive"):
        ConditionalImageGAN(progressive=1.5)
    gan = ConditionalImageGAN(n_classes=2, image_size=8, width=8, latent_dim=4)
    with pytest.raises(ValueError, match=r"shape \(N, 4\)"):
        gan.decode(torch.zeros(2, 3), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"\(N, 1, 8, 8\)"):
        gan.split_batch((torch.zeros(2, 1, 12, 12), torch.tensor([0, 1])))


def test_auxiliary_classifier_terms():
    """ACGAN classifies real and fake images in D; projection + aux classifies real ones only."""
    torch.manual_seed(0)
    real, fake, cond = torch.randn(4, 1, 8, 8), torch.randn(4, 1, 8, 8), torch.tensor([0, 1, 0, 1])
    logits_real = {"class_logits": torch.tensor([[5.0, -5.0]] * 4)}  # right for 0, wrong for 1
    logits_fake = {"class_logits": torch.tensor([[-5.0, 5.0]] * 4)}
    z = torch.zeros(4, 4)
    for conditioning, expect_fake_term in (("acgan", True), ("projection", False)):
        gan = ConditionalImageGAN(n_classes=2, image_size=8, width=8, latent_dim=4, conditioning=conditioning,
                                  aux_weight=1.0)
        d_loss = gan.discriminator_extra_loss(real, fake, cond, logits_real, logits_fake, z)
        real_only = torch.nn.functional.cross_entropy(logits_real["class_logits"], cond)
        fake_only = torch.nn.functional.cross_entropy(logits_fake["class_logits"], cond)
        expected = real_only + (fake_only if expect_fake_term else 0.0)
        assert torch.allclose(d_loss, torch.as_tensor(expected))
        assert torch.allclose(gan.generator_extra_loss(real, fake, cond, logits_fake, z), fake_only)
    with pytest.raises(ValueError, match="aux_weight"):
        ConditionalImageGAN(aux_weight=-1)
