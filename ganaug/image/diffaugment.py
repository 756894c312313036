"""Differentiable augmentation of discriminator inputs (DiffAugment, Zhao et al., 2020).

With little data the discriminator memorises the real images and the generator
stops learning. DiffAugment applies the *same kind* of random, differentiable
transformation to every image the discriminator sees, real and fake alike, so
the generator still receives gradients through it while the discriminator can
no longer memorise pixel-exact images.

Policies (comma-separated, applied in this order):

``color``
    random brightness (+-0.5), saturation (x0..2) and contrast (x0.5..1.5)
    per image; saturation is a no-op for one channel.
``translation``
    shift by up to ``1/8`` of the image size in each direction, zero padding.
``cutout``
    one square hole of half the image size at a random position, per image.

Everything is vectorised over the batch (no Python loop over images) and uses
the torch random stream (``generator=`` for repeatable draws).

:func:`adaptive_augment` applies the same operations each with a probability
``p`` per image, the augmentation of adaptive discriminator augmentation
(ADA, Karras et al., 2020), where ``p`` follows the discriminator's
overfitting signal (see :class:`ganaug.image.ConditionalImageGAN`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["AVAILABLE_POLICIES", "adaptive_augment", "diff_augment", "parse_policy"]

AVAILABLE_POLICIES = ("color", "translation", "cutout")


def parse_policy(policy: str | None | list | tuple) -> tuple[str, ...]:
    """Normalise a policy (``"color,translation"``, a list, ``""`` or None) to a tuple of names.

    Examples
    --------
    >>> from ganaug.image.diffaugment import parse_policy
    >>> parse_policy("translation, cutout")
    ('translation', 'cutout')
    >>> parse_policy(None)
    ()
    """
    if policy is None or policy is False:
        return ()
    if policy is True:
        return AVAILABLE_POLICIES
    if isinstance(policy, str):
        names = [p.strip().lower() for p in policy.split(",") if p.strip()]
    elif isinstance(policy, (list, tuple)):
        names = [str(p).strip().lower() for p in policy]
    else:
        raise TypeError(f"diffaugment policy must be a string like 'color,translation,cutout', got {type(policy).__name__}")
    unknown = [p for p in names if p not in AVAILABLE_POLICIES]
    if unknown:
        raise ValueError(f"unknown DiffAugment policy {unknown[0]!r}; choose from {list(AVAILABLE_POLICIES)}")
    return tuple(names)


def _rand(shape, x: Tensor, generator: torch.Generator | None) -> Tensor:
    gdev = generator.device if generator is not None else x.device
    return torch.rand(shape, generator=generator, device=gdev, dtype=x.dtype).to(x.device)


def _color(x: Tensor, generator: torch.Generator | None) -> Tensor:
    n = x.shape[0]
    x = x + (_rand((n, 1, 1, 1), x, generator) - 0.5)
    if x.shape[1] > 1:
        mean = x.mean(dim=1, keepdim=True)
        x = (x - mean) * (_rand((n, 1, 1, 1), x, generator) * 2) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (_rand((n, 1, 1, 1), x, generator) + 0.5) + mean


def _translation(x: Tensor, generator: torch.Generator | None, ratio: float = 0.125) -> Tensor:
    n, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    if sh == 0 and sw == 0:
        return x
    # integer shifts in [-s, s]
    ty = torch.floor(_rand((n, 1, 1), x, generator) * (2 * sh + 1)).long() - sh
    tx = torch.floor(_rand((n, 1, 1), x, generator) * (2 * sw + 1)).long() - sw
    rows = torch.arange(h, device=x.device).view(1, h, 1) - ty  # source row of each output row
    cols = torch.arange(w, device=x.device).view(1, 1, w) - tx
    valid = ((rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)).unsqueeze(1)
    flat = rows.clamp(0, h - 1) * w + cols.clamp(0, w - 1)  # (N, H, W)
    gathered = x.flatten(2).gather(2, flat.flatten(1).unsqueeze(1).expand(-1, x.shape[1], -1))
    return gathered.view_as(x) * valid.to(x.dtype)


def _cutout(x: Tensor, generator: torch.Generator | None, ratio: float = 0.5) -> Tensor:
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = torch.floor(_rand((n, 1, 1), x, generator) * (h + (1 - ch % 2))).long()
    cx = torch.floor(_rand((n, 1, 1), x, generator) * (w + (1 - cw % 2))).long()
    yy = torch.arange(h, device=x.device).view(1, h, 1)
    xx = torch.arange(w, device=x.device).view(1, 1, w)
    inside = (yy >= cy - ch // 2) & (yy < cy - ch // 2 + ch) & (xx >= cx - cw // 2) & (xx < cx - cw // 2 + cw)
    return x * (~inside).unsqueeze(1).to(x.dtype)


_FUNCS = {"color": _color, "translation": _translation, "cutout": _cutout}


def diff_augment(x: Tensor, policy: str | tuple = "color,translation,cutout",
                 generator: torch.Generator | None = None) -> Tensor:
    """Apply a DiffAugment policy to a batch ``(N, C, H, W)``; differentiable in ``x``.

    Parameters
    ----------
    x : Tensor
        Images, shape ``(N, C, H, W)``, typically in [-1, 1].
    policy : str or tuple of str
        Comma-separated names from :data:`AVAILABLE_POLICIES`.
    generator : torch.Generator, optional
        Source of randomness (default: torch's global stream).

    Returns
    -------
    Tensor of the same shape.

    Examples
    --------
    >>> import torch
    >>> from ganaug.image.diffaugment import diff_augment
    >>> x = torch.ones(4, 1, 8, 8, requires_grad=True)
    >>> y = diff_augment(x, "translation,cutout", generator=torch.Generator().manual_seed(0))
    >>> y.shape, bool((y == 0).any())
    (torch.Size([4, 1, 8, 8]), True)
    >>> y.sum().backward(); x.grad.shape
    torch.Size([4, 1, 8, 8])
    """
    if x.dim() != 4:
        raise ValueError(f"diff_augment expects images (N, C, H, W), got shape {tuple(x.shape)}")
    for name in parse_policy(policy):
        x = _FUNCS[name](x, generator)
    return x


def adaptive_augment(x: Tensor, p: float | Tensor, policy: str | tuple = "color,translation,cutout",
                     generator: torch.Generator | None = None) -> Tensor:
    """Apply each operation of ``policy`` to each image with probability ``p``; differentiable in ``x``.

    The augmentation of ADA (Karras et al., 2020): every operation is drawn
    independently per image, so with ``p`` small most images reach the
    discriminator untouched and the generator cannot learn the augmentations
    (they do not leak into its images). ``p = 0`` returns ``x`` itself
    unchanged, ``p = 1`` is :func:`diff_augment`.

    Parameters
    ----------
    x : Tensor
        Images ``(N, C, H, W)``.
    p : float or 0-d Tensor
        Probability in [0, 1] (a tensor stays on its device: no host sync).
    policy : str or tuple of str
        Operations from :data:`AVAILABLE_POLICIES`, applied in this order.
    generator : torch.Generator, optional

    Returns
    -------
    Tensor of the same shape.

    Examples
    --------
    >>> import torch
    >>> from ganaug.image.diffaugment import adaptive_augment
    >>> x = torch.ones(4, 1, 8, 8)
    >>> bool(torch.equal(adaptive_augment(x, 0.0), x)), bool(torch.equal(adaptive_augment(x, 1.0), x))
    (True, False)
    """
    if x.dim() != 4:
        raise ValueError(f"adaptive_augment expects images (N, C, H, W), got shape {tuple(x.shape)}")
    if not isinstance(p, Tensor):
        if isinstance(p, bool) or not 0.0 <= float(p) <= 1.0:
            raise ValueError(f"augmentation probability p must be in [0, 1], got {p!r}")
        if float(p) == 0.0:
            return x
    p = torch.as_tensor(p, dtype=x.dtype, device=x.device)
    n = x.shape[0]
    for name in parse_policy(policy):
        apply = _rand((n, 1, 1, 1), x, generator) < p
        x = torch.where(apply, _FUNCS[name](x, generator), x)
    return x
