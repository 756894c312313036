"""Layers: minibatch features, projection, ACGAN and InfoGAN heads, spectral norm."""

from __future__ import annotations

import pytest
import torch

from ganaug.core.layers import (
    InfoGANHead,
    MinibatchDiscrimination,
    MinibatchStdDev,
    ProjectionHead,
    infogan_loss,
    sample_infogan_codes,
    spectral_norm,
)


def test_minibatch_discrimination_separates_collapsed_from_diverse_batches():
    torch.manual_seed(0)
    layer = MinibatchDiscrimination(4, n_kernels=5, kernel_dim=3)
    diverse = layer(torch.randn(16, 4) * 3)[:, 4:]
    collapsed = layer(torch.zeros(16, 4) + 0.1)[:, 4:]
    assert float(collapsed.mean()) > float(diverse.mean()) + 1.0


def test_minibatch_discrimination_groups_compare_only_within_a_group():
    torch.manual_seed(0)
    layer = MinibatchDiscrimination(5, n_kernels=4, kernel_dim=3, group_size=4)
    x = torch.randn(12, 5)
    grouped = layer(x)
    whole = MinibatchDiscrimination(5, n_kernels=4, kernel_dim=3)
    whole.T = layer.T
    per_group = torch.cat([whole(x[i : i + 4]) for i in range(0, 12, 4)])
    assert torch.allclose(grouped, per_group, atol=1e-6)
    # a batch that does not divide evenly falls back to the whole batch
    assert torch.allclose(layer(x[:10]), whole(x[:10]), atol=1e-6)


def test_minibatch_discrimination_rejects_a_bad_group_size():
    import pytest

    for bad in (1, 0, 2.5, True):
        with pytest.raises(ValueError, match="group_size"):
            MinibatchDiscrimination(5, group_size=bad)


def test_minibatch_stddev_is_zero_for_identical_samples():
    x = torch.ones(8, 2, 3, 3)
    out = MinibatchStdDev(group_size=4)(x)
    assert out.shape == (8, 3, 3, 3)
    assert float(out[:, -1].abs().max()) < 1e-3
    vec = MinibatchStdDev()(torch.randn(6, 5))  # 6 % 4 != 0 -> whole batch
    assert vec.shape == (6, 6)


def test_projection_head_uses_the_label():
    torch.manual_seed(0)
    head = ProjectionHead(4, n_classes=2, use_spectral_norm=False)
    h = torch.randn(3, 4)
    out0 = head(h, torch.zeros(3, dtype=torch.long))
    out1 = head(h, torch.ones(3, dtype=torch.long))
    assert not torch.allclose(out0, out1)


def test_spectral_norm_bounds_the_largest_singular_value():
    torch.manual_seed(0)
    layer = spectral_norm(torch.nn.Linear(10, 10))
    with torch.no_grad():
        layer.parametrizations.weight.original.mul_(50)
    for _ in range(30):  # power iterations run in training mode
        layer(torch.randn(4, 10))
    s = torch.linalg.svdvals(layer.weight.detach())[0]
    assert float(s) < 1.1


def test_infogan_loss_is_lower_when_codes_are_recovered():
    codes = sample_infogan_codes(64, n_categorical=4, n_continuous=2, generator=torch.Generator().manual_seed(0))
    good = torch.cat([codes[:, :4] * 20, codes[:, 4:], torch.full((64, 2), -2.0)], dim=1)
    bad = torch.zeros(64, 8)
    assert float(infogan_loss(good, codes, 4)) < float(infogan_loss(bad, codes, 4)) - 1.0
    assert InfoGANHead(5, 4, 2)(torch.randn(3, 5)).shape == (3, 8)


# --------------------------------------------------------------- FastDropout
def test_fast_dropout_drops_the_asked_share_and_rescales_the_rest():
    from ganaug.core.layers import FastDropout

    torch.manual_seed(0)
    for p in (0.25, 0.5):
        out = FastDropout(p)(torch.ones(200_000))
        dropped = float((out == 0).float().mean())
        assert abs(dropped - p) < 0.005, (p, dropped)
        kept = out[out != 0]
        assert torch.allclose(kept, torch.full_like(kept, 1.0 / (1.0 - p)))
        assert abs(float(out.mean()) - 1.0) < 0.01  # inverted dropout keeps the mean


def test_fast_dropout_masks_are_independent_between_calls_and_elements():
    from ganaug.core.layers import FastDropout

    torch.manual_seed(0)
    layer = FastDropout(0.5)
    a = layer(torch.ones(100_000)) > 0
    b = layer(torch.ones(100_000)) > 0
    agree = float((a == b).float().mean())
    assert abs(agree - 0.5) < 0.01  # independent masks agree half the time
    neighbours = float((a[1:] == a[:-1]).float().mean())
    assert abs(neighbours - 0.5) < 0.01  # no structure between neighbouring elements


def test_fast_dropout_gradient_is_the_mask_and_eval_is_identity():
    from ganaug.core.layers import FastDropout

    torch.manual_seed(1)
    layer = FastDropout(0.25)
    x = torch.randn(64, 32, requires_grad=True)
    out = layer(x)
    out.sum().backward()
    mask = (out.detach() != 0).float() / 0.75
    assert torch.allclose(x.grad, mask)
    layer.eval()
    assert torch.equal(layer(x), x)
    layer.train()
    layer.p = 0.0  # an nn.Dropout whose p is changed later behaves accordingly
    assert torch.equal(layer(x), x)
    assert isinstance(layer, torch.nn.Dropout)


def test_fast_dropout_works_inside_vmap_and_refuses_bad_p():
    from ganaug.core.layers import FastDropout

    layer = FastDropout(0.5)
    out = torch.vmap(lambda row: layer(row), randomness="different")(torch.ones(8, 16))
    assert out.shape == (8, 16)
    for bad in (-0.1, 1.0, 1.5):
        with pytest.raises(ValueError, match="dropout probability"):
            FastDropout(bad)
