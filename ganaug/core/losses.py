"""Adversarial losses, chosen by name.

Every loss works on raw discriminator outputs ("logits" for the probabilistic
losses, "critic values" for the Wasserstein family) and is written once here;
the modality modules only pick one by name.

=================  ==============================================================
name               discriminator / generator objective
=================  ==============================================================
``minimax``        original saturating game: D maximises log D(x) + log(1-D(G(z))),
                   G minimises log(1 - D(G(z))); its gradient vanishes when D wins
``nonsaturating``  same D; G maximises log D(G(z)) instead (Goodfellow et al., 2014)
``wasserstein``    critic maximises E[D(x)] - E[D(G(z))]; weights clipped after
                   each critic step (Arjovsky et al., 2017)
``wgan-gp``        Wasserstein with a gradient penalty, lambda = 10 by default
                   (Gulrajani et al., 2017)
``hinge``          D: E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]; G: -E[D(G(z))]
``lsgan``          least squares: D pushes real to 1 and fake to 0, G pushes fake
                   to 1 (Mao et al., 2017)
=================  ==============================================================

Options that are not separate losses: one-sided label smoothing
(``real_label`` in 0.1..0.9, or 1.0 for off) for the probabilistic losses, and
instance noise (handled by :class:`~ganaug.core.module.GANModule` because it
acts on the discriminator's inputs).

Examples
--------
>>> import torch
>>> from ganaug.core.losses import get_loss
>>> loss = get_loss("nonsaturating")
>>> d_loss, g_loss = loss(torch.tensor([2.0]), torch.tensor([-2.0]))
>>> round(float(d_loss), 4), round(float(g_loss), 4)
(0.2539, 2.1269)
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "AdversarialLoss",
    "LOSSES",
    "available_losses",
    "get_loss",
    "gradient_penalty",
    "mode_seeking_loss",
]


class AdversarialLoss:
    """Base class of the adversarial losses.

    Parameters
    ----------
    real_label : float, default=1.0
        Target for real samples in the discriminator loss. Values in
        ``[0.1, 0.9]`` give one-sided label smoothing (Salimans et al., 2016);
        1.0 turns it off. Only the probabilistic losses (``minimax``,
        ``nonsaturating``, ``lsgan``) accept smoothing.
    """

    name = "base"
    supports_label_smoothing = True
    #: the module clips the critic's weights after each step
    needs_weight_clipping = False
    #: the module adds a gradient penalty to the discriminator loss
    needs_gradient_penalty = False
    #: the discriminator output estimates a Wasserstein distance (logged)
    is_wasserstein = False

    def __init__(self, real_label: float = 1.0) -> None:
        real_label = float(real_label)
        if real_label != 1.0:
            if not self.supports_label_smoothing:
                raise ValueError(
                    f"label smoothing (real_label={real_label}) does not apply to the "
                    f"{self.name!r} loss; use it with 'minimax', 'nonsaturating' or 'lsgan'"
                )
            if not 0.1 <= real_label <= 0.9:
                raise ValueError(
                    f"real_label must be 1.0 (no smoothing) or in [0.1, 0.9], got {real_label}"
                )
        self.real_label = real_label

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({opts})"

    def discriminator_loss(self, real: Tensor, fake: Tensor) -> Tensor:
        """Loss the discriminator minimises, from its outputs on real and fake data."""
        raise NotImplementedError

    def generator_loss(self, fake: Tensor) -> Tensor:
        """Loss the generator minimises, from the discriminator's output on fakes."""
        raise NotImplementedError

    def __call__(self, real: Tensor, fake: Tensor) -> tuple[Tensor, Tensor]:
        """Return ``(d_loss, g_loss)`` for discriminator outputs on real and fake data."""
        return self.discriminator_loss(real, fake), self.generator_loss(fake)


class _BinaryCrossEntropyD(AdversarialLoss):
    """Discriminator of the original GAN: binary cross-entropy on logits."""

    def discriminator_loss(self, real: Tensor, fake: Tensor) -> Tensor:
        real_target = torch.full_like(real, self.real_label)
        return F.binary_cross_entropy_with_logits(
            real, real_target
        ) + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))


class MinimaxLoss(_BinaryCrossEntropyD):
    """Original saturating minimax loss: G minimises ``log(1 - D(G(z)))``."""

    name = "minimax"

    def generator_loss(self, fake: Tensor) -> Tensor:
        # log(1 - sigmoid(f)) = -softplus(f); d/df = -sigmoid(f) -> 0 when D is sure it is fake.
        return -F.softplus(fake).mean()


class NonSaturatingLoss(_BinaryCrossEntropyD):
    """Non-saturating loss: G maximises ``log D(G(z))``."""

    name = "nonsaturating"

    def generator_loss(self, fake: Tensor) -> Tensor:
        # -log(sigmoid(f)) = softplus(-f); d/df = sigmoid(f) - 1 -> -1 when D is sure it is fake.
        return F.softplus(-fake).mean()


class WassersteinLoss(AdversarialLoss):
    """Wasserstein critic loss with weight clipping.

    Parameters
    ----------
    clip_value : float, default=0.01
        Critic weights are clipped to ``[-clip_value, clip_value]`` after each step.
    """

    name = "wasserstein"
    supports_label_smoothing = False
    needs_weight_clipping = True
    is_wasserstein = True

    def __init__(self, real_label: float = 1.0, clip_value: float = 0.01) -> None:
        if clip_value <= 0:
            raise ValueError(f"clip_value must be > 0, got {clip_value}")
        self.clip_value = float(clip_value)
        super().__init__(real_label=real_label)

    def discriminator_loss(self, real: Tensor, fake: Tensor) -> Tensor:
        return fake.mean() - real.mean()

    def generator_loss(self, fake: Tensor) -> Tensor:
        return -fake.mean()


class WGANGPLoss(WassersteinLoss):
    """Wasserstein loss with gradient penalty instead of clipping.

    Parameters
    ----------
    gp_weight : float, default=10.0
        Weight lambda of the gradient penalty ``E[(||grad D(x_hat)|| - 1)^2]``.
    """

    name = "wgan-gp"
    needs_weight_clipping = False
    needs_gradient_penalty = True

    def __init__(self, real_label: float = 1.0, gp_weight: float = 10.0) -> None:
        if gp_weight < 0:
            raise ValueError(f"gp_weight must be >= 0, got {gp_weight}")
        self.gp_weight = float(gp_weight)
        AdversarialLoss.__init__(self, real_label=real_label)


class HingeLoss(AdversarialLoss):
    """Hinge loss (Lim & Ye 2017; used with spectral norm by Miyato et al. 2018)."""

    name = "hinge"
    supports_label_smoothing = False

    def discriminator_loss(self, real: Tensor, fake: Tensor) -> Tensor:
        return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()

    def generator_loss(self, fake: Tensor) -> Tensor:
        return -fake.mean()


class LeastSquaresLoss(AdversarialLoss):
    """Least-squares GAN loss with targets real=1 (or ``real_label``), fake=0."""

    name = "lsgan"

    def discriminator_loss(self, real: Tensor, fake: Tensor) -> Tensor:
        return 0.5 * ((real - self.real_label) ** 2).mean() + 0.5 * (fake**2).mean()

    def generator_loss(self, fake: Tensor) -> Tensor:
        return 0.5 * ((fake - 1.0) ** 2).mean()


LOSSES: dict[str, type[AdversarialLoss]] = {
    cls.name: cls
    for cls in (
        MinimaxLoss,
        NonSaturatingLoss,
        WassersteinLoss,
        WGANGPLoss,
        HingeLoss,
        LeastSquaresLoss,
    )
}


def available_losses() -> list[str]:
    """Names accepted by :func:`get_loss`.

    Examples
    --------
    >>> from ganaug.core.losses import available_losses
    >>> available_losses()
    ['hinge', 'lsgan', 'minimax', 'nonsaturating', 'wasserstein', 'wgan-gp']
    """
    return sorted(LOSSES)


def get_loss(loss: str | AdversarialLoss, **options) -> AdversarialLoss:
    """Build an adversarial loss from its name (or pass an instance through).

    Parameters
    ----------
    loss : str or AdversarialLoss
        One of :func:`available_losses`, case-insensitive; ``_`` and ``-`` are
        interchangeable (``"wgan_gp"`` works).
    **options
        Passed to the loss: ``real_label``, ``clip_value`` (wasserstein),
        ``gp_weight`` (wgan-gp).

    Examples
    --------
    >>> from ganaug.core.losses import get_loss
    >>> get_loss("wgan-gp").gp_weight
    10.0
    """
    if isinstance(loss, AdversarialLoss):
        if options:
            raise ValueError("options can only be given together with a loss name")
        return loss
    if not isinstance(loss, str):
        raise TypeError(f"loss must be a name or an AdversarialLoss, got {type(loss).__name__}")
    key = loss.strip().lower().replace("_", "-")
    key = {"non-saturating": "nonsaturating", "wgan": "wasserstein", "ls": "lsgan"}.get(key, key)
    if key not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose one of {available_losses()}")
    return LOSSES[key](**options)


def gradient_penalty(
    critic: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor, generator: torch.Generator | None = None
) -> Tensor:
    """WGAN-GP penalty ``E[(||grad_x critic(x_hat)||_2 - 1)^2]`` on random interpolates.

    Parameters
    ----------
    critic : callable
        Maps a batch to one critic value per sample (any extra conditioning
        must be bound in already, e.g. with a lambda).
    real, fake : Tensor
        Batches of the same shape; ``fake`` should be detached from the generator.

    Returns
    -------
    Tensor
        Scalar penalty, differentiable with respect to the critic's parameters.

    Examples
    --------
    >>> import torch
    >>> from ganaug.core.losses import gradient_penalty
    >>> critic = torch.nn.Linear(2, 1, bias=False)
    >>> with torch.no_grad():
    ...     _ = critic.weight.copy_(torch.tensor([[0.6, 0.8]]))  # ||w|| = 1
    >>> float(gradient_penalty(critic, torch.randn(8, 2), torch.randn(8, 2))) < 1e-10
    True
    """
    if real.shape != fake.shape:
        raise ValueError(f"real and fake batches differ in shape: {tuple(real.shape)} vs {tuple(fake.shape)}")
    shape = (real.shape[0],) + (1,) * (real.dim() - 1)
    alpha = torch.rand(shape, device=real.device, dtype=real.dtype, generator=generator)
    mixed = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    with torch.enable_grad():
        out = critic(mixed)
        (grad,) = torch.autograd.grad(out.sum(), mixed, create_graph=True)
    norms = grad.flatten(1).norm(2, dim=1)
    return ((norms - 1.0) ** 2).mean()


def mode_seeking_loss(fake: Tensor, z: Tensor, labels: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Mode-seeking regulariser of conditional generators (MSGAN, Mao et al., 2019).

    A conditional generator tends to ignore its noise and draw one image per
    condition. For pairs of samples with the same condition this term is
    ``1 / (mean|G(z1) - G(z2)| / mean|z1 - z2| + eps)``, averaged over pairs:
    adding it to the generator loss rewards outputs that move when the noise
    moves. Pairs are consecutive samples of the same label after a stable
    sort (all consecutive samples without labels), found without a Python
    loop.

    Parameters
    ----------
    fake : Tensor
        Generated batch ``(N, ...)``.
    z : Tensor
        The latents that produced it ``(N, ...)``.
    labels : Tensor, optional
        Condition of each sample ``(N,)``.

    Returns
    -------
    Tensor
        Scalar; zero when no two samples share a label.

    Examples
    --------
    >>> import torch
    >>> from ganaug.core.losses import mode_seeking_loss
    >>> z = torch.randn(8, 4)
    >>> collapsed = torch.zeros(8, 3)              # ignores z: huge penalty
    >>> varied = z[:, :3] * 2                      # follows z: small penalty
    >>> labels = torch.tensor([0, 1] * 4)
    >>> float(mode_seeking_loss(collapsed, z, labels)) > 1e4 > float(mode_seeking_loss(varied, z, labels))
    True
    """
    n = fake.shape[0]
    if z.shape[0] != n or (labels is not None and labels.shape[0] != n):
        raise ValueError(f"fake, z and labels must have the same length, got {n}, {z.shape[0]}, "
                         f"{None if labels is None else labels.shape[0]}")
    if n < 2:
        return fake.new_zeros(())
    if labels is None:
        first, second = torch.arange(0, n - 1, device=fake.device), torch.arange(1, n, device=fake.device)
    else:
        order = torch.sort(labels, stable=True).indices
        same = labels[order[:-1]] == labels[order[1:]]
        first, second = order[:-1][same], order[1:][same]
        if first.numel() == 0:
            return fake.new_zeros(())
    d_img = (fake[first] - fake[second]).abs().flatten(1).mean(1)
    d_z = (z[first] - z[second]).abs().flatten(1).mean(1)
    return (1.0 / (d_img / d_z.clamp_min(eps) + eps)).mean()
