"""Image-to-image translation GANs: :class:`Pix2Pix` (paired) and :class:`CycleGAN` (unpaired).

Both are :class:`~ganaug.core.GANModule` subclasses, so the adversarial
loss (chosen by name), the NaN guard, ``n_critic``, instance noise, generator
EMA and the per-step ``history`` with gradient norms all come from the core.

* :class:`Pix2Pix` plugs into the core's hooks only: the "latent" is empty,
  the condition is the input image, the discriminator judges the
  concatenated (input, output) pair and the L1 term is a generator extra loss.
* :class:`CycleGAN` has two generators (``generator["ab"]``, ``generator["ba"]``)
  and two discriminators (``discriminator["a"]``, ``discriminator["b"]``) held in
  ``nn.ModuleDict`` s, so the core's two optimisers, gradient norms, EMA and
  weight clipping cover both; it overrides only :meth:`CycleGAN.discriminator_loss`
  and :meth:`CycleGAN.generator_loss`.

The loss terms of each generator step (``l1``; ``g_adv``, ``cycle``,
``identity``) are added to that step's ``history`` entry and logged.

Batches are ``(a, b)`` pairs of float tensors in [-1, 1], ``(N, C, H, W)``:
aligned pairs for pix2pix, two independent draws for CycleGAN.
:class:`ganaug.augment.translation.TranslationAugmenter` is the numpy-facing
estimator built on these modules.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from ganaug.core.losses import gradient_penalty
from ganaug.core.module import GANModule
from ganaug.image.translation_networks import (
    ImagePool,
    PatchDiscriminator,
    ResnetGenerator,
    UNetGenerator,
    auto_patch_layers,
    auto_unet_depth,
)

__all__ = ["CycleGAN", "Pix2Pix", "build_translation_generator"]


def _size_pair(image_size) -> tuple[int, int]:
    if isinstance(image_size, (int,)) and not isinstance(image_size, bool):
        return int(image_size), int(image_size)
    try:
        h, w = (int(v) for v in image_size)
    except (TypeError, ValueError):
        raise TypeError(f"image_size must be an int or a pair (height, width), got {image_size!r}") from None
    return h, w


def build_translation_generator(
    kind: str,
    in_channels: int,
    out_channels: int,
    image_size,
    base_channels: int = 32,
    depth: int | None = None,
    n_blocks: int | None = None,
    norm: str = "instance",
    dropout: float = 0.5,
) -> nn.Module:
    """A :class:`UNetGenerator` (``"unet"``) or :class:`ResnetGenerator` (``"resnet"``) sized for ``image_size``.

    ``depth=None`` uses :func:`auto_unet_depth`; ``n_blocks=None`` uses 9
    residual blocks from 256 pixels, 6 from 64, else 3.

    Examples
    --------
    >>> from ganaug.image.translation import build_translation_generator
    >>> type(build_translation_generator("unet", 1, 1, 28, base_channels=8)).__name__
    'UNetGenerator'
    """
    h, w = _size_pair(image_size)
    if kind == "unet":
        return UNetGenerator(in_channels, out_channels, base_channels,
                             depth=auto_unet_depth(h, w) if depth is None else int(depth), norm=norm, dropout=dropout)
    if kind == "resnet":
        side = min(h, w)
        if n_blocks is None:
            n_blocks = 9 if side >= 256 else 6 if side >= 64 else 3
        return ResnetGenerator(in_channels, out_channels, base_channels, n_blocks=int(n_blocks), norm=norm)
    raise ValueError(f"generator must be 'unet' or 'resnet', got {kind!r}")


class _TranslationGAN(GANModule):
    """What Pix2Pix and CycleGAN share: no latent noise, loss terms in history, :meth:`translate`."""

    def __init__(self, image_size, discriminator_layers: int | str = "auto", **gan_kwargs: Any) -> None:
        super().__init__(latent_dim=0, **gan_kwargs)
        self.image_size = _size_pair(image_size)
        if discriminator_layers == "auto":
            discriminator_layers = auto_patch_layers(*self.image_size)
        if isinstance(discriminator_layers, bool) or not isinstance(discriminator_layers, int) or discriminator_layers < 1:
            raise ValueError(f"discriminator_layers must be 'auto' or an int >= 1, got {discriminator_layers!r}")
        self.discriminator_layers = int(discriminator_layers)
        self._terms: dict[str, float] = {}

    def sample_noise(self, n, generator=None, truncation=None, device=None) -> Tensor:
        """Translation needs no latent: an empty ``(n, 0)`` tensor (pix2pix's noise is dropout)."""
        return torch.empty((n, 0), device=self.device if device is None else device)

    def split_batch(self, batch: Any) -> tuple[Tensor, Tensor]:
        if not isinstance(batch, (tuple, list)) or len(batch) != 2:
            raise ValueError(f"{type(self).__name__} trains on (a, b) batches of two image tensors")
        return batch[0], batch[1]

    def _term(self, name: str, value: Tensor) -> None:
        self._terms[name] = float(value.detach())

    def training_step(self, batch: Any, batch_idx: int) -> None:
        self._terms = {}
        super().training_step(batch, batch_idx)
        if self._terms:
            n = self.split_batch(batch)[0].shape[0]
            for key, value in self._terms.items():
                self.log(key, value, on_step=True, on_epoch=False, batch_size=n)
            if self.record_history and self.history:
                self.history[-1].update(self._terms)

    def _translation_network(self, direction: str, use_ema: bool) -> nn.Module:  # pragma: no cover - abstract
        raise NotImplementedError

    @torch.no_grad()
    def translate(self, x: Tensor, direction: str = "ab", batch_size: int = 256, use_ema: bool = True) -> Tensor:
        """Translate a batch of images (``(N, C, H, W)`` in [-1, 1]) in eval mode, in chunks.

        Parameters
        ----------
        x : Tensor
        direction : {"ab", "ba"}, default="ab"
            ``"ba"`` only for :class:`CycleGAN`.
        batch_size : int, default=256
        use_ema : bool, default=True
            Use the EMA generator when the module keeps one.

        Returns
        -------
        Tensor on the module's device, same ``N, H, W`` as ``x``.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self._ensure_ema()
        net = self._translation_network(direction, use_ema)
        was_training = net.training
        net.eval()
        try:
            if x.shape[0] == 0:
                out_ch = net.out_channels
                return x.new_empty((0, out_ch, *x.shape[2:])).to(self.device)
            return torch.cat([net(x[i : i + batch_size].to(self.device)) for i in range(0, x.shape[0], batch_size)])
        finally:
            net.train(was_training)


class Pix2Pix(_TranslationGAN):
    """Paired image-to-image translation (Isola et al., 2017).

    U-Net generator ``G(a)``; PatchGAN discriminator on the concatenated
    pair ``(a, b)`` (real) or ``(a, G(a))`` (fake), with a receptive field
    scaled to the image size; generator loss = adversarial loss
    ``+ lambda_l1 * |G(a) - b|_1``.

    Parameters
    ----------
    in_channels, out_channels : int, default=1
    image_size : int or (int, int), default=28
        Training image size; sets the U-Net depth and the PatchGAN depth. The
        trained generator runs on any size (it is fully convolutional).
    generator : {"unet", "resnet"}, default="unet"
    base_channels : int, default=32
    depth : int, optional
        U-Net levels (default :func:`~ganaug.image.translation_networks.auto_unet_depth`).
    discriminator_layers : int or "auto", default="auto"
        Stride-2 layers of the PatchGAN (``"auto"``:
        :func:`~ganaug.image.translation_networks.auto_patch_layers`).
    norm : {"instance", "batch", "none"}, default="instance"
    dropout : float, default=0.5
        Dropout in the inner half of the U-Net decoder (training only).
    lambda_l1 : float, default=100.0
    loss : str, default="nonsaturating"
        Any :func:`ganaug.core.available_losses` name.
    **gan_kwargs
        Other :class:`~ganaug.core.GANModule` options (``lr_g``, ``lr_d``,
        ``betas``, ``ema_decay``, ``n_critic``, ``instance_noise``, ``real_label``...).

    Examples
    --------
    >>> import torch, lightning.pytorch as pl
    >>> from ganaug.core import tensor_loader
    >>> from ganaug.image import Pix2Pix
    >>> a = torch.rand(16, 1, 16, 16) * 2 - 1
    >>> model = Pix2Pix(image_size=16, base_channels=4)
    >>> trainer = pl.Trainer(max_epochs=1, logger=False, enable_progress_bar=False,
    ...                      enable_checkpointing=False, enable_model_summary=False)
    >>> trainer.fit(model, tensor_loader(a, -a, batch_size=8, seed=0))
    >>> model.translate(a).shape, sorted(k for k in model.history[-1] if "loss" in k or k == "l1")
    (torch.Size([16, 1, 16, 16]), ['d_loss', 'g_loss', 'l1'])
    """

    def __init__(
        self,
        in_channels: int = 1,
        out_channels: int = 1,
        image_size=28,
        *,
        generator: str = "unet",
        base_channels: int = 32,
        depth: int | None = None,
        n_blocks: int | None = None,
        discriminator_layers: int | str = "auto",
        norm: str = "instance",
        dropout: float = 0.5,
        lambda_l1: float = 100.0,
        loss: str = "nonsaturating",
        spectral_norm: bool = False,
        **gan_kwargs: Any,
    ) -> None:
        super().__init__(image_size, discriminator_layers, loss=loss, **gan_kwargs)
        if lambda_l1 < 0:
            raise ValueError(f"lambda_l1 must be >= 0, got {lambda_l1}")
        self.lambda_l1 = float(lambda_l1)
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.generator = build_translation_generator(generator, in_channels, out_channels, self.image_size,
                                                     base_channels, depth, n_blocks, norm, dropout)
        self.discriminator = PatchDiscriminator(in_channels + out_channels, base_channels, self.discriminator_layers,
                                                norm=norm, spectral_norm=spectral_norm)

    def split_batch(self, batch: Any) -> tuple[Tensor, Tensor]:
        """``(a, b)`` -> ``(real=b, cond=a)``: the target is the "real" image, the input its condition."""
        a, b = super().split_batch(batch)
        if a.shape[0] != b.shape[0] or a.shape[2:] != b.shape[2:]:
            raise ValueError(f"pix2pix pairs must align: input batch {tuple(a.shape)} vs target batch {tuple(b.shape)}")
        return b, a

    def generate(self, z: Tensor, cond: Tensor | None = None, network: nn.Module | None = None) -> Tensor:
        if cond is None:
            raise ValueError("pix2pix translates input images: pass them as cond")
        return (self.generator if network is None else network)(cond)

    def discriminate(self, x: Tensor, cond: Tensor | None = None) -> Tensor:
        return self.discriminator(torch.cat([cond, x], dim=1))

    def generator_extra_loss(self, real, fake, cond, fake_extras, z) -> Tensor:
        l1 = (fake - real).abs().mean()
        self._term("l1", l1)
        return self.lambda_l1 * l1

    def generator_loss(self, real: Tensor, cond: Tensor | None) -> Tensor:
        """The core's generator loss (adversarial + ``lambda_l1`` * L1); records the adversarial part as ``g_adv``."""
        g_loss = super().generator_loss(real, cond)
        self._terms["g_adv"] = float(g_loss.detach()) - self.lambda_l1 * self._terms["l1"]
        return g_loss

    def _translation_network(self, direction: str, use_ema: bool) -> nn.Module:
        if direction != "ab":
            raise ValueError(f"pix2pix translates one way only (direction='ab'), got direction={direction!r}")
        return self.generator_ema.module if (use_ema and self.generator_ema is not None) else self.generator


class CycleGAN(_TranslationGAN):
    """Unpaired image-to-image translation (Zhu et al., 2017).

    Generators ``G_ab``, ``G_ba`` and PatchGAN discriminators ``D_a``, ``D_b``.
    Generator loss = adversarial terms of both directions
    ``+ lambda_cycle * (|G_ba(G_ab(a)) - a|_1 + |G_ab(G_ba(b)) - b|_1)``
    ``+ lambda_cycle * lambda_identity * (|G_ba(a) - a|_1 + |G_ab(b) - b|_1)``.
    The discriminators are trained on fakes drawn from a history pool
    (:class:`~ganaug.image.translation_networks.ImagePool`, 50 images).

    Training order follows the core (discriminator step, then generator
    step); the discriminator step reuses the fakes of the previous generator
    step (what the reference implementation's pool sees), so each generator
    runs forward once per step for the adversarial terms.

    Parameters
    ----------
    channels_a, channels_b : int, default=1
    image_size : int or (int, int), default=28
    generator : {"resnet", "unet"}, default="resnet"
    base_channels : int, default=32
    n_blocks : int, optional
        Residual blocks (default 3 below 64 pixels, 6 from 64, 9 from 256).
    depth : int, optional
        U-Net levels when ``generator="unet"``.
    discriminator_layers : int or "auto", default="auto"
    norm : {"instance", "batch", "none"}, default="instance"
    dropout : float, default=0.0
        U-Net decoder dropout (CycleGAN uses none).
    lambda_cycle : float, default=10.0
    lambda_identity : float, default=0.0
        Identity-loss weight relative to ``lambda_cycle`` (the paper uses 0.5
        where colours should survive translation; needs equal channel counts).
    pool_size : int, default=50
    loss : str, default="lsgan"
    **gan_kwargs
        Other :class:`~ganaug.core.GANModule` options.

    Examples
    --------
    >>> import torch
    >>> from ganaug.image import CycleGAN
    >>> model = CycleGAN(image_size=16, base_channels=4, n_blocks=1)
    >>> model.translate(torch.zeros(3, 1, 16, 16), direction="ba").shape
    torch.Size([3, 1, 16, 16])
    """

    def __init__(
        self,
        channels_a: int = 1,
        channels_b: int = 1,
        image_size=28,
        *,
        generator: str = "resnet",
        base_channels: int = 32,
        n_blocks: int | None = None,
        depth: int | None = None,
        discriminator_layers: int | str = "auto",
        norm: str = "instance",
        dropout: float = 0.0,
        lambda_cycle: float = 10.0,
        lambda_identity: float = 0.0,
        pool_size: int = 50,
        loss: str = "lsgan",
        spectral_norm: bool = False,
        **gan_kwargs: Any,
    ) -> None:
        super().__init__(image_size, discriminator_layers, loss=loss, **gan_kwargs)
        if lambda_cycle < 0 or lambda_identity < 0:
            raise ValueError(f"lambda_cycle and lambda_identity must be >= 0, got {lambda_cycle} and {lambda_identity}")
        if lambda_identity > 0 and channels_a != channels_b:
            raise ValueError(
                f"the identity loss needs equal channel counts, got channels_a={channels_a}, channels_b={channels_b}"
            )
        self.channels_a, self.channels_b = int(channels_a), int(channels_b)
        self.lambda_cycle, self.lambda_identity = float(lambda_cycle), float(lambda_identity)

        def gen(cin, cout):
            return build_translation_generator(generator, cin, cout, self.image_size, base_channels, depth, n_blocks,
                                               norm, dropout)

        self.generator = nn.ModuleDict({"ab": gen(channels_a, channels_b), "ba": gen(channels_b, channels_a)})
        self.discriminator = nn.ModuleDict({
            name: PatchDiscriminator(c, base_channels, self.discriminator_layers, norm=norm, spectral_norm=spectral_norm)
            for name, c in (("a", channels_a), ("b", channels_b))
        })
        self.pool_a, self.pool_b = ImagePool(pool_size), ImagePool(pool_size)
        self._fakes: tuple[Tensor, Tensor] | None = None

    def on_train_start(self) -> None:
        self._fakes = None

    def generate(self, z: Tensor, cond: Tensor | None = None, network: nn.Module | None = None) -> Tensor:
        """A to B translation of ``cond`` (so ``generate_samples(n, cond=a)`` works)."""
        if cond is None:
            raise ValueError("CycleGAN translates input images: pass them as cond")
        return (self.generator if network is None else network)["ab"](cond)

    def _patch_logits(self, x: Tensor, domain: str) -> Tensor:
        return self.discriminator[domain](x).reshape(-1)

    def cycle_loss(self, a: Tensor, b: Tensor, fake_b: Tensor | None = None, fake_a: Tensor | None = None) -> Tensor:
        """Unweighted ``|G_ba(G_ab(a)) - a|_1 + |G_ab(G_ba(b)) - b|_1`` (mean absolute errors)."""
        g_ab, g_ba = self.generator["ab"], self.generator["ba"]
        fake_b = g_ab(a) if fake_b is None else fake_b
        fake_a = g_ba(b) if fake_a is None else fake_a
        return (g_ba(fake_b) - a).abs().mean() + (g_ab(fake_a) - b).abs().mean()

    def identity_loss(self, a: Tensor, b: Tensor) -> Tensor:
        """Unweighted ``|G_ba(a) - a|_1 + |G_ab(b) - b|_1``."""
        return (self.generator["ba"](a) - a).abs().mean() + (self.generator["ab"](b) - b).abs().mean()

    def discriminator_loss(self, real: Tensor, cond: Tensor | None) -> tuple[Tensor, dict[str, float]]:
        """Both discriminators on one ``(a, b)`` batch (``real`` = a, ``cond`` = b), fakes from the pools."""
        real_a, real_b = real, cond
        if self._fakes is not None:
            fake_b, fake_a = self._fakes
            self._fakes = None
        else:
            with torch.no_grad():
                fake_b, fake_a = self.generator["ab"](real_a), self.generator["ba"](real_b)
        fake_b, fake_a = self.pool_b.query(fake_b), self.pool_a.query(fake_a)
        std = self._noise_std()
        logs: dict[str, float] = {}
        total = real_a.new_zeros(())
        gp_weight = self.gradient_penalty_weight()  # None on the steps a lazy penalty (gp_every) skips
        for domain, r, f in (("a", real_a, fake_a), ("b", real_b, fake_b)):
            r_in, f_in = self._noisy(r, std), self._noisy(f, std)
            r_logits, f_logits = self._patch_logits(r_in, domain), self._patch_logits(f_in, domain)
            d = self.adversarial_loss.discriminator_loss(r_logits, f_logits)
            if self.adversarial_loss.is_wasserstein:
                logs[f"wasserstein_{domain}"] = float((r_logits.mean() - f_logits.mean()).detach())
            if gp_weight is not None:
                gp = gradient_penalty(lambda x, dom=domain: self._patch_logits(x, dom), r_in, f_in)
                d = d + gp_weight * gp
            logs[f"d_loss_{domain}"] = float(d.detach())
            total = total + d
        return total, logs

    def generator_loss(self, real: Tensor, cond: Tensor | None) -> Tensor:
        """Adversarial + cycle (+ identity) loss of both generators on one ``(a, b)`` batch."""
        real_a, real_b = real, cond
        fake_b, fake_a = self.generator["ab"](real_a), self.generator["ba"](real_b)
        std = self._noise_std()
        adv = (self.adversarial_loss.generator_loss(self._patch_logits(self._noisy(fake_b, std), "b"))
               + self.adversarial_loss.generator_loss(self._patch_logits(self._noisy(fake_a, std), "a")))
        cycle = self.cycle_loss(real_a, real_b, fake_b=fake_b, fake_a=fake_a)
        g_loss = adv + self.lambda_cycle * cycle
        self._term("g_adv", adv)
        self._term("cycle", cycle)
        if self.lambda_identity > 0:
            ident = self.identity_loss(real_a, real_b)
            g_loss = g_loss + self.lambda_cycle * self.lambda_identity * ident
            self._term("identity", ident)
        self._fakes = (fake_b.detach(), fake_a.detach())
        return g_loss

    def _translation_network(self, direction: str, use_ema: bool) -> nn.Module:
        if direction not in ("ab", "ba"):
            raise ValueError(f"direction must be 'ab' or 'ba', got {direction!r}")
        nets = self.generator_ema.module if (use_ema and self.generator_ema is not None) else self.generator
        return nets[direction]
