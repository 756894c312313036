import pytest
import torch

from ganaug.image.diffaugment import diff_augment, parse_policy


def test_translation_moves_content_without_changing_it():
    x = torch.zeros(64, 1, 16, 16)
    x[:, :, 6:10, 6:10] = 1.0
    out = diff_augment(x, "translation", generator=torch.Generator().manual_seed(0))
    # the square is shifted by at most 2 px, never resized
    assert torch.equal(out.sum(dim=(1, 2, 3)), torch.full((64,), 16.0))
    centres = (out[:, 0] * torch.arange(16.0).view(1, 16, 1)).sum(dim=(1, 2)) / 16.0
    assert (centres - 7.5).abs().max() <= 2.0
    assert len(torch.unique(centres)) > 1  # images get different shifts


def test_cutout_removes_a_quarter_and_colour_changes_values():
    x = torch.ones(32, 1, 16, 16)
    out = diff_augment(x, "cutout", generator=torch.Generator().manual_seed(1))
    zero_share = (out == 0).float().mean(dim=(1, 2, 3))
    assert float(zero_share.max()) <= 0.25 + 1e-6 and float(zero_share.mean()) > 0.1
    rgb = torch.rand(8, 3, 8, 8)
    col = diff_augment(rgb, "color", generator=torch.Generator().manual_seed(2))
    assert col.shape == rgb.shape and not torch.allclose(col, rgb)


def test_gradients_flow_and_seeds_repeat():
    x = torch.randn(4, 3, 12, 12, requires_grad=True)
    a = diff_augment(x, "color,translation,cutout", generator=torch.Generator().manual_seed(3))
    b = diff_augment(x, "color,translation,cutout", generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    a.sum().backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0


def test_policy_parsing():
    assert parse_policy("") == ()
    assert parse_policy(["Color"]) == ("color",)
    with pytest.raises(ValueError, match="unknown DiffAugment policy 'flip'"):
        parse_policy("color,flip")
    with pytest.raises(ValueError, match="N, C, H, W"):
        diff_augment(torch.zeros(2, 8, 8), "color")
