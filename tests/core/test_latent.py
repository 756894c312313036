"""Truncation trick and batched latent inversion."""

from __future__ import annotations

import pytest
import torch

from ganaug.core.latent import invert, sample_latent


@pytest.mark.parametrize("psi", [0.1, 0.5, 1.0, 2.0])
def test_truncation_keeps_every_entry_within_psi(psi):
    z = sample_latent(5000, (4, 3), truncation=psi, generator=torch.Generator().manual_seed(1))
    assert z.shape == (5000, 4, 3)
    assert float(z.abs().max()) <= psi
    # resampling, not clamping: no mass piles up at the boundary
    assert float((z.abs() == psi).float().mean()) < 1e-3


def test_sampling_is_repeatable_with_a_generator():
    a = sample_latent(10, 5, generator=torch.Generator().manual_seed(3))
    b = sample_latent(10, 5, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


def test_bad_psi():
    with pytest.raises(ValueError, match="psi"):
        sample_latent(3, 2, truncation=0.0)


def test_inversion_recovers_known_latent_of_linear_generator():
    torch.manual_seed(0)
    W = torch.randn(6, 3)
    G = lambda z: z @ W.T  # noqa: E731
    z_true = torch.randn(20, 3)
    z, residual = invert(G, G(z_true), latent_dim=3, steps=600, lr=0.05)
    assert torch.allclose(z, z_true, atol=5e-3)
    assert float(residual.max()) < 1e-2


def test_batched_inversion_matches_per_sample():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 4))
    x = torch.randn(6, 4)
    z0 = torch.randn(6, 2)
    z_all, r_all = invert(net, x, latent_dim=2, steps=50, z0=z0, batch_size=6)
    z_one = torch.cat([invert(net, x[i : i + 1], 2, steps=50, z0=z0[i : i + 1])[0] for i in range(6)])
    assert torch.allclose(z_all, z_one, atol=1e-5)
    _, r_chunked = invert(net, x, latent_dim=2, steps=50, z0=z0, batch_size=4)
    assert torch.allclose(r_all, r_chunked, atol=1e-5)


def test_inversion_leaves_generator_weights_untouched():
    net = torch.nn.Linear(2, 3)
    before = net.weight.detach().clone()
    invert(net, torch.randn(4, 3), latent_dim=2, steps=5)
    assert torch.equal(net.weight, before) and net.weight.grad is None
