"""``ConditionalImageGAN``: the image modality's LightningModule.

Only networks and data plumbing live here; the adversarial step, losses,
``n_critic``, gradient penalty, EMA and the NaN guard come from
:class:`ganaug.core.GANModule`.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganaug.core.latent import sample_latent
from ganaug.core.layers import AuxiliaryClassifierHead, infogan_loss, sample_infogan_codes
from ganaug.core.losses import mode_seeking_loss
from ganaug.core.module import GANModule
from ganaug.image.diffaugment import adaptive_augment, diff_augment, parse_policy
from ganaug.image.networks import CONDITIONINGS, ImageDiscriminator, ImageGenerator, stage_plan

__all__ = ["ConditionalImageGAN"]

_WASSERSTEIN = ("wasserstein", "wgan-gp")


class ConditionalImageGAN(GANModule):
    """Class-conditional image GAN (DCGAN-style) for small, imbalanced image sets.

    Images are ``(N, C, H, W)`` float tensors in [-1, 1] with integer class
    labels (use :class:`~ganaug.image.ImageEncoder` or
    :class:`~ganaug.augment.image.ImageAugmenter` for raw arrays).

    Parameters
    ----------
    n_classes : int, default=10
        Number of classes (1 for an unconditional model).
    channels : int, default=1
        1 (grey) or 3 (RGB).
    image_size : int, default=28
        Height and width; any multiple of 4.
    latent_dim : int, default=64
        Size of the Gaussian noise vector.
    width : int, default=64
        Channels at the generator's lowest resolution (halved at each doubling).
    d_width : int, optional
        The same for the discriminator (default: ``1.5 * width``; a
        discriminator wider than the generator learns rare classes better).
    conditioning : {"projection", "acgan"}, default="projection"
        How the discriminator sees the class: projection discriminator
        (Miyato & Koyama, 2018) or auxiliary classifier (ACGAN, Odena et al., 2017).
    loss : str, optional
        Adversarial loss by name (:func:`ganaug.core.available_losses`);
        default ``"hinge"`` for projection and ``"nonsaturating"`` for ACGAN.
    spectral_norm : bool, optional
        Spectral normalisation in the discriminator; default on, except for
        the Wasserstein losses (the gradient penalty or clipping already
        constrains the critic).
    info_categorical, info_continuous : int, default=0
        InfoGAN codes appended to the noise: one categorical code with this
        many values, and this many uniform(-1, 1) continuous codes; the
        discriminator gets a Q head and both networks minimise the mutual
        information loss (weight ``info_weight``).
    aux_weight : float, optional
        Weight of the auxiliary classification loss. ACGAN: default 1.0
        (the discriminator classifies real and generated images, the
        generator makes images it classifies right). Projection: default 0
        (none); a positive weight adds an auxiliary classifier trained on
        *real* images only, whose verdict on generated images the generator
        minimises: it anchors classes with very few images.
    info_weight : float, default=1.0
        Weight of the InfoGAN mutual-information term.
    diversity_weight : float, default=0.0
        Weight of the mode-seeking term (:func:`ganaug.core.losses.mode_seeking_loss`,
        MSGAN): a conditional generator tends to ignore its noise and draw
        one image per class; this term rewards images that change with it.
    progressive : bool or float, default=False
        Progressive growing: training starts at the lowest resolution and
        fades in each doubling. ``True`` spends the first half of training
        growing; a float in (0, 1) sets that share.
    diffaugment : str, default="color,translation,cutout"
        DiffAugment policy applied to every discriminator input during
        training (``""`` or None turns it off).
    minibatch_std : bool, default=False
        Minibatch standard-deviation feature in the discriminator.
    conditional_bn : bool, default=True
        Class-conditional batch norm in the generator (besides the class
        embedding concatenated to the noise).
    style_dim : int, default=0
        Split class and style in the generator (0: no split): the noise goes
        through a mapping network to a style vector of this width that sets
        every batch norm's scale and shift through weights shared by all
        classes, so the variation learned from common classes carries over
        to rare ones (see :class:`~ganaug.image.networks.ImageGenerator`).
    lecam_weight : float, default=0.0
        LeCam regularisation (Tseng et al., 2021), for training on little
        data: exponential moving averages ``alpha_R`` and ``alpha_F`` of the
        discriminator's mean output on real and generated images are kept,
        and ``lecam_weight * (mean((D(real) - alpha_F)^2) + mean((D(fake) - alpha_R)^2))``
        is added to the discriminator loss, which keeps the discriminator's
        outputs from drifting apart. 0 turns it off. The anchors are updated
        with the batch before the term is computed; the first batch sets them.
    lecam_decay : float, default=0.99
        Decay of the LeCam moving averages.
    ada_target : float, optional
        Adaptive discriminator augmentation (ADA, Karras et al., 2020): real
        and generated images fed to the discriminator are augmented with the
        operations of ``ada_policy``, each drawn per image with probability
        ``p``. Every ``ada_interval`` discriminator steps ``p`` moves up when
        the overfitting signal ``r_t = E[sign(D(real))]`` is above
        ``ada_target`` (0.6 in the paper) and down when below, clipped to
        [0, 1]. None (default) turns it off. It stacks with ``diffaugment``;
        use ``diffaugment=None`` for ADA alone.
    ada_interval : int, default=4
        Discriminator steps between two adjustments of ``p``.
    ada_speed : float, default=10000
        Real images the discriminator sees while ``p`` can move from 0 to 1
        (the paper uses 500k on data sets of tens of thousands of images; a
        few thousand images need a faster response). Each adjustment moves
        ``p`` by ``images since the last adjustment / ada_speed``.
    ada_policy : str, default="color,translation,cutout"
        Operations of ADA (the differentiable ones of :mod:`ganaug.image.diffaugment`).
    lr_g, lr_d, betas, n_critic, ema_decay, **gan_options
        Passed to :class:`~ganaug.core.GANModule` (``ema_decay`` 0.999 by
        default: samples come from the averaged generator; its decay is warmed
        up as ``min(decay, (1 + t) / (10 + t))`` so short runs are usable).

    Examples
    --------
    >>> import torch, lightning.pytorch as pl
    >>> from ganaug.core import tensor_loader
    >>> from ganaug.image import ConditionalImageGAN
    >>> x = torch.rand(32, 1, 12, 12) * 2 - 1
    >>> y = torch.arange(32) % 2
    >>> gan = ConditionalImageGAN(n_classes=2, image_size=12, width=16, latent_dim=8)
    >>> trainer = pl.Trainer(max_epochs=1, logger=False, enable_progress_bar=False,
    ...                      enable_checkpointing=False, enable_model_summary=False)
    >>> trainer.fit(gan, tensor_loader(x, y, batch_size=16, seed=0))
    >>> gan.generate_samples(4, cond=torch.tensor([0, 1, 0, 1])).shape
    torch.Size([4, 1, 12, 12])
    """

    def __init__(
        self,
        n_classes: int = 10,
        channels: int = 1,
        image_size: int = 28,
        latent_dim: int = 64,
        width: int = 64,
        d_width: int | None = None,
        conditioning: str = "projection",
        loss: str | None = None,
        spectral_norm: bool | None = None,
        info_categorical: int = 0,
        info_continuous: int = 0,
        aux_weight: float | None = None,
        info_weight: float = 1.0,
        diversity_weight: float = 0.0,
        progressive: bool | float = False,
        diffaugment: str | None = "color,translation,cutout",
        minibatch_std: bool = False,
        conditional_bn: bool = True,
        style_dim: int = 0,
        lr_g: float = 2e-4,
        lr_d: float = 2e-4,
        betas: tuple[float, float] = (0.5, 0.999),
        n_critic: int = 1,
        ema_decay: float | None = 0.999,
        lecam_weight: float = 0.0,
        lecam_decay: float = 0.99,
        ada_target: float | None = None,
        ada_interval: int = 4,
        ada_speed: float = 10_000,
        ada_policy: str | None = "color,translation,cutout",
        **gan_options: Any,
    ) -> None:
        if conditioning not in CONDITIONINGS:
            raise ValueError(f"conditioning must be one of {list(CONDITIONINGS)}, got {conditioning!r}")
        if int(n_classes) < 1:
            raise ValueError(f"n_classes must be >= 1, got {n_classes}")
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 (grey) or 3 (RGB), got {channels}")
        stage_plan(image_size)  # validates the size
        if int(latent_dim) < 1 or int(width) < 8 or (d_width is not None and int(d_width) < 8):
            raise ValueError(f"latent_dim must be >= 1 and width, d_width >= 8, got {latent_dim}, {width}, {d_width}")
        if info_categorical < 0 or info_continuous < 0:
            raise ValueError("info_categorical and info_continuous must be >= 0")
        if info_categorical == 1:
            raise ValueError("info_categorical must be 0 or >= 2 (a categorical code with one value carries nothing)")
        if loss is None:
            loss = "hinge" if conditioning == "projection" else "nonsaturating"
        if aux_weight is None:
            aux_weight = 1.0 if conditioning == "acgan" else 0.0
        if float(aux_weight) < 0:
            raise ValueError(f"aux_weight must be >= 0, got {aux_weight}")
        if float(diversity_weight) < 0:
            raise ValueError(f"diversity_weight must be >= 0, got {diversity_weight}")
        if isinstance(lecam_weight, bool) or not float(lecam_weight) >= 0:
            raise ValueError(f"lecam_weight must be >= 0, got {lecam_weight!r}")
        if not 0.0 <= float(lecam_decay) < 1.0:
            raise ValueError(f"lecam_decay must be in [0, 1), got {lecam_decay!r}")
        if ada_target is not None and (isinstance(ada_target, bool) or not 0.0 <= float(ada_target) < 1.0):
            raise ValueError(f"ada_target must be in [0, 1) or None, got {ada_target!r}")
        if isinstance(ada_interval, bool) or int(ada_interval) != ada_interval or int(ada_interval) < 1:
            raise ValueError(f"ada_interval must be a positive int, got {ada_interval!r}")
        if isinstance(ada_speed, bool) or not float(ada_speed) > 0:
            raise ValueError(f"ada_speed must be > 0 (images for p to go from 0 to 1), got {ada_speed!r}")
        if ada_target is not None and not parse_policy(ada_policy):
            raise ValueError("ada_policy must name at least one operation when ada_target is set")
        if spectral_norm is None:
            spectral_norm = not (isinstance(loss, str) and loss in _WASSERSTEIN)
        if progressive is True:
            grow = 0.5
        elif progressive is False or progressive is None:
            grow = 0.0
        else:
            grow = float(progressive)
            if not 0.0 < grow < 1.0:
                raise ValueError(f"progressive must be a bool or a share of training in (0, 1), got {progressive!r}")
        super().__init__(
            latent_dim=int(latent_dim), loss=loss, n_critic=n_critic, lr_g=lr_g, lr_d=lr_d, betas=betas,
            ema_decay=ema_decay, **gan_options,
        )
        self.n_classes = int(n_classes)
        self.channels = int(channels)
        self.image_size = int(image_size)
        self.conditioning = conditioning
        self.n_categorical = int(info_categorical)
        self.n_continuous = int(info_continuous)
        self.code_dim = self.n_categorical + self.n_continuous
        self.input_dim = int(latent_dim) + self.code_dim
        self.aux_weight = float(aux_weight)
        self.info_weight = float(info_weight)
        self.diversity_weight = float(diversity_weight)
        self.grow_share = grow
        self.diffaugment_policy = parse_policy(diffaugment)
        self.lecam_weight = float(lecam_weight)
        self.lecam_decay = float(lecam_decay)
        self.ada_target = None if ada_target is None else float(ada_target)
        self.ada_interval = int(ada_interval)
        self.ada_speed = float(ada_speed)
        self.ada_policy = parse_policy(ada_policy)
        # state of the options, only when they are on (a default model's state dict is unchanged)
        if self.lecam_weight > 0:
            self.register_buffer("lecam_ema_real", torch.zeros(()))
            self.register_buffer("lecam_ema_fake", torch.zeros(()))
            self.register_buffer("lecam_updates", torch.zeros((), dtype=torch.long))
        if self.ada_target is not None:
            self.register_buffer("ada_p", torch.zeros(()))
            # sum of sign(D(real)) and number of real images since the last adjustment
            self.register_buffer("_ada_stats", torch.zeros(2), persistent=False)
        self._ada_steps = 0
        self._lecam_term: Tensor | None = None
        self.generator = ImageGenerator(
            self.input_dim, self.n_classes, self.channels, self.image_size, width=width,
            conditional_bn=conditional_bn, progressive=grow > 0, style_dim=style_dim,
        )
        self.discriminator = ImageDiscriminator(
            self.n_classes, self.channels, self.image_size, width=int(d_width or (3 * width) // 2), conditioning=conditioning,
            spectral_norm=bool(spectral_norm), n_categorical=self.n_categorical, n_continuous=self.n_continuous,
            minibatch_std=minibatch_std, progressive=grow > 0, aux_classifier=float(aux_weight) > 0,
        )
        self.n_up = self.generator.n_up
        # growth state: the full resolution unless progressive training is under way
        self.grow_stage = self.n_up
        self.grow_alpha = 1.0
        self._in_step = False

    @torch.no_grad()
    def init_output_bias(self, channel_means: Tensor) -> None:
        """Start the generator at the data's mean colour: output biases = atanh(mean) per channel.

        A generator starts by drawing mid-grey; on data with a uniform
        background (digits, documents, cells) it spends its first hundreds of
        steps learning just the background. Call before training, with the
        per-channel mean of the training images in [-1, 1].
        """
        means = torch.as_tensor(channel_means, dtype=torch.float32).reshape(-1)
        if means.numel() != self.channels:
            raise ValueError(f"channel_means needs {self.channels} values, got {means.numel()}")
        bias = torch.atanh(means.clamp(-0.95, 0.95))
        for layer in self.generator.to_rgb.values():
            layer.bias.copy_(bias.to(layer.bias))

    # ------------------------------------------------------------ growing
    def growth_at(self, progress: float) -> tuple[int, float]:
        """``(stage, alpha)`` at a training progress in [0, 1].

        The growing share of training is split into ``n_up + 1`` equal
        segments; segment ``s > 0`` fades stage ``s`` in over its first half.

        Examples
        --------
        >>> from ganaug.image import ConditionalImageGAN
        >>> gan = ConditionalImageGAN(image_size=28, width=16, progressive=0.6)
        >>> [(s, round(a, 2)) for s, a in map(gan.growth_at, (0.0, 0.25, 0.3, 0.9))]
        [(0, 1.0), (1, 0.5), (1, 1.0), (2, 1.0)]
        """
        if self.grow_share <= 0 or progress >= self.grow_share:
            return self.n_up, 1.0
        seg = self.grow_share / (self.n_up + 1)
        stage = min(self.n_up, int(progress / seg))
        if stage == 0:
            return 0, 1.0
        within = (progress - stage * seg) / seg
        return stage, float(min(1.0, 2.0 * within))

    def _update_growth(self) -> None:
        if self.grow_share <= 0:
            return
        total = None
        if self._trainer is not None:
            try:
                total = float(self.trainer.estimated_stepping_batches)
            except Exception:  # pragma: no cover - loaders without a length
                total = None
        if not total or total == float("inf"):
            self.grow_stage, self.grow_alpha = self.n_up, 1.0
            return
        self.grow_stage, self.grow_alpha = self.growth_at(self._batches_seen / total)

    def on_train_end(self) -> None:
        # whatever the schedule reached, the model samples at full size afterwards
        self._in_step = False

    # ---------------------------------------------------------- GANModule hooks
    def sample_noise(self, n, generator=None, truncation=None, device=None) -> Tensor:
        """Gaussian noise (truncated when asked) followed by the InfoGAN codes, if any."""
        dev = self.device if device is None else device
        z = sample_latent(n, self.latent_dim, truncation=truncation, generator=generator, device=dev)
        if self.code_dim:
            codes = sample_infogan_codes(n, self.n_categorical, self.n_continuous, generator=generator, device=dev)
            z = torch.cat([z, codes], dim=1)
        return z

    def split_batch(self, batch: Any) -> tuple[Tensor, Tensor]:
        real, cond = super().split_batch(batch)
        if cond is None:
            if self.n_classes > 1:
                raise ValueError(f"ConditionalImageGAN with {self.n_classes} classes needs (images, labels) batches")
            cond = torch.zeros(real.shape[0], dtype=torch.long, device=real.device)
        if real.dim() != 4 or real.shape[1] != self.channels or real.shape[-1] != self.image_size \
                or real.shape[-2] != self.image_size:
            raise ValueError(
                f"expected image batches of shape (N, {self.channels}, {self.image_size}, {self.image_size}), "
                f"got {tuple(real.shape)}"
            )
        if self._in_step and self.grow_stage < self.n_up:
            real = F.avg_pool2d(real, 2 ** (self.n_up - self.grow_stage))
        return real, cond.long()

    def generate(self, z: Tensor, cond: Tensor | None = None, network: nn.Module | None = None) -> Tensor:
        net = self.generator if network is None else network
        if cond is None:
            cond = torch.randint(0, self.n_classes, (z.shape[0],), device=z.device)
        out = net(z, cond.long(), stage=self.grow_stage, alpha=self.grow_alpha)
        if not self._in_step and out.shape[-1] != self.image_size:
            out = F.interpolate(out, size=(self.image_size, self.image_size), mode="bilinear", align_corners=False)
        return out

    def discriminate(self, x: Tensor, cond: Tensor | None = None):
        if self._in_step and self.diffaugment_policy:
            x = diff_augment(x, self.diffaugment_policy)
        if self._in_step and self.ada_target is not None:
            x = adaptive_augment(x, self.ada_p, self.ada_policy)
        if x.shape[-1] != self.discriminator_input_size():
            raise ValueError(f"discriminator expects {self.discriminator_input_size()}px images, got {tuple(x.shape)}")
        return self.discriminator(x, cond, stage=self.grow_stage, alpha=self.grow_alpha)

    def discriminator_input_size(self) -> int:
        return self.generator.resolution(self.grow_stage)

    def _extra(self, extras: dict, cond: Tensor, z: Tensor) -> Tensor | None:
        total = None
        if "class_logits" in extras:
            total = self.aux_weight * AuxiliaryClassifierHead.loss(extras["class_logits"], cond)
        if "q" in extras:
            info = self.info_weight * infogan_loss(extras["q"], z[:, self.latent_dim:], self.n_categorical)
            total = info if total is None else total + info
        return total

    def discriminator_extra_loss(self, real, fake, cond, real_extras, fake_extras, z):
        total = None
        if "class_logits" in real_extras:
            total = self.aux_weight * AuxiliaryClassifierHead.loss(real_extras["class_logits"], cond)
        if self.conditioning != "acgan":  # the projection's auxiliary classifier learns from real images only
            fake_extras = {k: v for k, v in fake_extras.items() if k != "class_logits"}
        fake_term = self._extra(fake_extras, cond, z)
        if fake_term is not None:
            total = fake_term if total is None else total + fake_term
        return total

    # ------------------------------------------------ low-data regularisation
    def discriminator_logit_loss(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor | None:
        """LeCam term (when ``lecam_weight > 0``); also collects ADA's overfitting signal."""
        if self.ada_target is not None:
            self._ada_observe(real_logits)
        self._lecam_term = None
        if self.lecam_weight <= 0:
            return None
        with torch.no_grad():
            decay = torch.where(self.lecam_updates > 0, self.lecam_decay, 0.0)
            self.lecam_ema_real.mul_(decay).add_((1.0 - decay) * real_logits.detach().mean())
            self.lecam_ema_fake.mul_(decay).add_((1.0 - decay) * fake_logits.detach().mean())
            self.lecam_updates += 1
        term = self.lecam_weight * (
            (real_logits - self.lecam_ema_fake).pow(2).mean() + (fake_logits - self.lecam_ema_real).pow(2).mean()
        )
        self._lecam_term = term.detach()
        return term

    @torch.no_grad()
    def _ada_observe(self, real_logits: Tensor) -> None:
        """Accumulate ``sign(D(real))``; every ``ada_interval`` calls, move ``p`` towards the target (no host sync)."""
        logits = real_logits.detach().float()
        self._ada_stats += torch.stack([torch.sign(logits).sum(), logits.new_tensor(float(logits.numel()))])
        self._ada_steps += 1
        if self._ada_steps % self.ada_interval:
            return
        r_t = self._ada_stats[0] / self._ada_stats[1].clamp_min(1.0)
        step = torch.sign(r_t - self.ada_target) * self._ada_stats[1] / self.ada_speed
        self.ada_p.copy_((self.ada_p + step.to(self.ada_p)).clamp(0.0, 1.0))
        self._ada_stats.zero_()

    def discriminator_loss(self, real: Tensor, cond: Tensor | None) -> tuple[Tensor, dict[str, float]]:
        d_loss, logs = super().discriminator_loss(real, cond)
        if self._lecam_term is not None:
            logs["lecam"] = float(self._lecam_term)
        if self.ada_target is not None:
            logs["ada_p"] = float(self.ada_p)
        return d_loss, logs

    def generator_extra_loss(self, real, fake, cond, fake_extras, z):
        total = self._extra(fake_extras, cond, z)
        if self.diversity_weight > 0:
            ms = self.diversity_weight * mode_seeking_loss(fake, z, cond)
            total = ms if total is None else total + ms
        return total

    def training_step(self, batch: Any, batch_idx: int) -> None:
        self._update_growth()
        if self.generator_ema is not None and self.ema_decay is not None:
            t = self.n_generator_steps
            self.generator_ema.decay = min(float(self.ema_decay), (1.0 + t) / (10.0 + t))
        self._in_step = True
        try:
            super().training_step(batch, batch_idx)
        finally:
            self._in_step = False

    # --------------------------------------------------------------- sampling
    @torch.no_grad()
    def decode(self, z: Tensor, labels: Tensor, use_ema: bool = True) -> Tensor:
        """Images for given latents (noise plus codes, width ``input_dim``) and labels, in eval mode.

        Used for latent interpolation; :meth:`generate_samples` draws the latents itself.

        Examples
        --------
        >>> import torch
        >>> from ganaug.image import ConditionalImageGAN
        >>> gan = ConditionalImageGAN(n_classes=2, image_size=8, width=16, latent_dim=4)
        >>> gan.decode(torch.zeros(3, 4), torch.tensor([0, 1, 1])).shape
        torch.Size([3, 1, 8, 8])
        """
        if z.dim() != 2 or z.shape[1] != self.input_dim:
            raise ValueError(f"z must have shape (N, {self.input_dim}), got {tuple(z.shape)}")
        if len(labels) != len(z):
            raise ValueError(f"{len(z)} latents but {len(labels)} labels")
        self._ensure_ema()
        net = self.generator_ema.module if (use_ema and self.generator_ema is not None) else self.generator
        was_training = net.training
        net.eval()
        try:
            return self.generate(z.to(self.device), labels.to(self.device), network=net)
        finally:
            net.train(was_training)
