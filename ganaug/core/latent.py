"""Latent-space tools: sampling with the truncation trick, and batched inversion."""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

__all__ = ["sample_latent", "invert", "truncate_"]


def truncate_(z: Tensor, psi: float, generator: torch.Generator | None = None) -> Tensor:
    """Resample, in place, the entries of a standard-normal ``z`` with ``|z| > psi``.

    This is the truncation trick of BigGAN (Brock et al., 2019): trading
    variety for fidelity by sampling from a truncated normal. Offending
    entries are redrawn from the normal truncated to ``[-psi, psi]`` by the
    inverse CDF (one vectorised draw, exact even for tiny ``psi``).
    """
    if psi <= 0:
        raise ValueError(f"truncation psi must be > 0, got {psi}")
    # largest value of z's dtype that is <= psi, so |z| <= psi holds exactly
    bound = torch.tensor(psi, dtype=z.dtype)
    if float(bound) > psi:
        bound = torch.nextafter(bound, torch.zeros_like(bound))
    mask = z.abs() > bound
    n_bad = int(mask.sum())
    if n_bad:
        lo = torch.special.ndtr(torch.tensor(-psi, dtype=torch.float64))
        hi = torch.special.ndtr(torch.tensor(psi, dtype=torch.float64))
        u = torch.rand(n_bad, generator=generator, device=z.device, dtype=torch.float64)
        draws = torch.special.ndtri(lo + u * (hi - lo)).to(z.dtype)
        z[mask] = draws.clamp(-float(bound), float(bound))
    return z


def sample_latent(
    n: int,
    dim: int | tuple[int, ...],
    truncation: float | None = None,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """Draw ``n`` standard-normal latent vectors, optionally truncated.

    Parameters
    ----------
    n : int
        Number of vectors.
    dim : int or tuple of int
        Shape of one latent (an int for a vector; a tuple e.g. ``(length, dim)``
        for a noise sequence).
    truncation : float, optional
        Truncation threshold psi: every entry ends within ``[-psi, psi]``.
    generator : torch.Generator, optional
        Source of randomness, for repeatable draws.

    Examples
    --------
    >>> import torch
    >>> from ganaug.core.latent import sample_latent
    >>> z = sample_latent(1000, 8, truncation=0.5, generator=torch.Generator().manual_seed(0))
    >>> z.shape, bool(z.abs().max() <= 0.5)
    (torch.Size([1000, 8]), True)
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    shape = (n,) + ((dim,) if isinstance(dim, int) else tuple(dim))
    z = torch.randn(shape, generator=generator, device=device, dtype=dtype)
    if truncation is not None:
        truncate_(z, float(truncation), generator=generator)
    return z


def invert(
    generator: Callable[[Tensor], Tensor],
    x: Tensor,
    latent_dim: int | tuple[int, ...],
    steps: int = 200,
    lr: float = 0.05,
    z0: Tensor | None = None,
    batch_size: int = 4096,
    seed: int | None = 0,
) -> tuple[Tensor, Tensor]:
    """Find ``z* = argmin_z ||x - G(z)||^2`` for every sample, in batches.

    All samples of a batch are optimised together with one Adam optimiser on
    the *sum* of their per-sample losses. Adam is element-wise, so each latent
    follows exactly the path it would follow alone: batching changes speed,
    not results. The generator's parameters are not updated.

    Parameters
    ----------
    generator : callable
        Maps a latent batch to a data batch shaped like ``x`` (bind any
        condition in a lambda). Put modules in ``eval()`` mode first.
    x : Tensor
        Data to invert, shape ``(N, ...)``.
    latent_dim : int or tuple of int
        Shape of one latent.
    steps : int, default=200
        Adam steps.
    lr : float, default=0.05
    z0 : Tensor, optional
        Starting latents ``(N, *latent_dim)``; default: seeded standard normal.
    batch_size : int, default=4096
        Samples optimised at once.
    seed : int, optional
        Seed for the starting latents.

    Returns
    -------
    z : Tensor
        Optimal latents, ``(N, *latent_dim)``.
    residual : Tensor
        ``||x - G(z*)||_2`` per sample, shape ``(N,)``.

    Examples
    --------
    >>> import torch
    >>> from ganaug.core.latent import invert
    >>> W = torch.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    >>> G = lambda z: z @ W.T
    >>> z_true = torch.tensor([[0.5, -1.0]])
    >>> z, res = invert(G, G(z_true), latent_dim=2, steps=500, lr=0.05)
    >>> bool(torch.allclose(z, z_true, atol=1e-2)), bool(res[0] < 1e-2)
    (True, True)
    """
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    shape = (latent_dim,) if isinstance(latent_dim, int) else tuple(latent_dim)
    n = x.shape[0]
    if z0 is None:
        gen = torch.Generator(device="cpu")
        if seed is not None:
            gen.manual_seed(seed)
        z0 = torch.randn((n,) + shape, generator=gen).to(device=x.device, dtype=x.dtype)
    elif z0.shape != (n,) + shape:
        raise ValueError(f"z0 must have shape {(n,) + shape}, got {tuple(z0.shape)}")
    z_out = torch.empty_like(z0)
    res_out = torch.empty(n, device=x.device, dtype=x.dtype)
    for start in range(0, n, batch_size):
        xb = x[start : start + batch_size].detach()
        z = z0[start : start + batch_size].detach().clone().requires_grad_(True)
        opt = torch.optim.Adam([z], lr=lr)
        with torch.enable_grad():
            for _ in range(steps):
                per_sample = (generator(z) - xb).pow(2).flatten(1).sum(1)
                # grad w.r.t. z only: the generator's parameters get no .grad
                (z.grad,) = torch.autograd.grad(per_sample.sum(), z)
                opt.step()
        with torch.no_grad():
            res_out[start : start + batch_size] = (generator(z) - xb).flatten(1).norm(dim=1)
        z_out[start : start + batch_size] = z.detach()
    return z_out, res_out
