"""The class/style split of the image generator (``style_dim``) and its style grid (issue 21, item 2)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganaug.augment.image import ImageAugmenter
from ganaug.image import ConditionalImageGAN, ImageGenerator, plot_style_grid
from ganaug.image.networks import ConditionalBatchNorm2d

from .conftest import TINY


def test_default_generator_has_no_style_parameters():
    keys = ImageGenerator(8, 3, 1, 28, width=16).state_dict().keys()
    assert not any("mapping" in k or "style_affine" in k for k in keys)
    assert any(k.endswith("gamma.weight") for k in keys)  # class-conditional batch norm, as before


def test_class_at_input_only_leaves_the_class_one_embedding():
    g = ImageGenerator(8, 5, 1, 28, width=16, conditional_bn=False, style_dim=12)
    per_class = [k for k, v in g.state_dict().items() if v.dim() and v.shape[0] == 5]
    assert per_class == ["embedding.embedding.weight"] or all(k.startswith("embedding") for k in per_class)
    assert not any("gamma" in k or "beta" in k for k in g.state_dict())
    assert g.fc.in_features == 12 + g.embedding.embedding.embedding_dim  # the style takes the noise's place


def test_style_modulates_every_batch_norm():
    torch.manual_seed(0)
    g = ImageGenerator(8, 3, 1, 28, width=16, style_dim=12)
    norms = [m for m in g.modules() if isinstance(m, ConditionalBatchNorm2d)]
    assert len(norms) == 1 + g.n_up and all(m.style_dim == 12 for m in norms)
    g(torch.randn(6, 8), torch.tensor([0, 1, 2, 0, 1, 2])).square().mean().backward()
    for m in norms:  # zero at the start, but every layer's style map learns
        assert m.style_affine.weight.grad.abs().sum() > 0
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in g.mapping.parameters() if p.dim() == 2)


def test_style_changes_the_image_and_is_the_same_for_every_class():
    torch.manual_seed(0)
    g = ImageGenerator(8, 3, 1, 12, width=16, style_dim=12).eval()
    for m in g.modules():
        if isinstance(m, ConditionalBatchNorm2d):
            torch.nn.init.normal_(m.style_affine.weight, std=0.5)
    z = torch.randn(1, 8).repeat(3, 1)
    labels = torch.tensor([0, 1, 2])
    out = g(z, labels)
    assert not torch.allclose(out[0], out[1])  # the class still matters
    # the style of a latent does not depend on the class: one mapping of z for all labels
    torch.testing.assert_close(g.mapping(z[:1]).expand(3, -1), g.mapping(z))
    # and a different latent gives a different image in the same class
    assert not torch.allclose(g(torch.randn(3, 8), labels), out)


def test_style_batch_norm_needs_the_style():
    bn = ConditionalBatchNorm2d(4, None, style_dim=3)
    with pytest.raises(ValueError, match="style-modulated"):
        bn(torch.randn(2, 4, 2, 2), None)


@pytest.mark.parametrize("bad", [-1, True, 1.5, "8"])
def test_bad_style_dim_is_named(bad, mnist_small):
    with pytest.raises((ValueError, TypeError), match="style_dim"):
        ImageGenerator(8, 3, 1, 28, style_dim=bad)
    with pytest.raises((ValueError, TypeError), match="style_dim"):
        ConditionalImageGAN(n_classes=3, style_dim=bad)
    with pytest.raises(ValueError, match="style_dim"):
        ImageAugmenter(style_dim=bad, **TINY).fit(*mnist_small)


def test_conditional_bn_must_be_a_bool(mnist_small):
    with pytest.raises(ValueError, match="conditional_bn"):
        ImageAugmenter(conditional_bn="no", **TINY).fit(*mnist_small)


@pytest.fixture(scope="module")
def style_augmenter(mnist_small):
    params = {**TINY, "epochs": 2}
    return ImageAugmenter(style_dim=8, conditional_bn=False, **params).fit(*mnist_small)


def test_style_augmenter_samples_and_round_trips(style_augmenter, tmp_path):
    X_new, y_new = style_augmenter.sample({7: 6}, random_state=3)
    assert X_new.shape == (6, 28, 28) and X_new.dtype == np.uint8 and set(y_new) == {7}
    gen = style_augmenter.module_.generator
    assert gen.style_dim == 8 and gen.mapping is not None
    style_augmenter.save(tmp_path / "style")
    loaded = ImageAugmenter.load(tmp_path / "style")
    assert loaded.style_dim == 8 and loaded.conditional_bn is False
    np.testing.assert_array_equal(loaded.sample({7: 6}, random_state=3)[0], X_new)


def test_style_grid_rows_are_latents_and_columns_classes(style_augmenter, tmp_path):
    fig = plot_style_grid(style_augmenter, n_latents=3, classes=[7, 0], random_state=5, title="style")
    fig.savefig(tmp_path / "grid.png")
    grid = fig.axes[0].images[0].get_array()
    assert grid.shape == (3 * 29 - 1, 2 * 29 - 1)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["7", "0"]
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["z0", "z1", "z2"]
    # the cell in row 1, column 0 is latent 1 drawn as a 7 (class code 2 of 0, 1, 7)
    module = style_augmenter.module_
    z = module.sample_noise(3, generator=torch.Generator().manual_seed(5), device="cpu")
    expected = (module.decode(z[1:2], torch.tensor([2])).numpy()[0, 0] + 1.0) / 2.0
    np.testing.assert_allclose(np.asarray(grid)[29:57, 0:28], expected, atol=1e-6)
    with pytest.raises(ValueError, match="unknown class 5"):
        plot_style_grid(style_augmenter, classes=[5])
    with pytest.raises(ValueError, match="n_latents"):
        plot_style_grid(style_augmenter, n_latents=0)


def test_a_model_saved_before_the_style_split_loads_as_it_was(mnist_small):
    """A config without ``style_dim`` / ``conditional_bn`` (saved before they existed) rebuilds the plain generator."""
    old = ImageAugmenter(style_dim=0, diversity_weight=0.0, **TINY).fit(*mnist_small)
    config, tensors = old._saved_config(history=False)
    for name in ("style_dim", "conditional_bn"):
        del config["params"][name]
    loaded = ImageAugmenter._from_saved_config(config, tensors)
    assert loaded.style_dim == 0 and loaded.conditional_bn is True
    np.testing.assert_array_equal(loaded.sample({7: 4}, random_state=1)[0], old.sample({7: 4}, random_state=1)[0])
