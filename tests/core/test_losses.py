"""Loss values and gradient signs on hand-made logits."""

from __future__ import annotations

import math

import pytest
import torch

from ganaug.core.losses import available_losses, get_loss, gradient_penalty


def _grad_wrt_fake(loss_name: str, fake_value: float) -> float:
    fake = torch.tensor([fake_value], requires_grad=True)
    get_loss(loss_name).generator_loss(fake).backward()
    return float(fake.grad)


def test_registry_lists_the_six_losses():
    assert available_losses() == ["hinge", "lsgan", "minimax", "nonsaturating", "wasserstein", "wgan-gp"]


def test_unknown_loss_lists_valid_names():
    with pytest.raises(ValueError, match="choose one of .*'hinge'.*'wgan-gp'"):
        get_loss("wgan-xyz")


def test_aliases():
    assert get_loss("WGAN_GP").name == "wgan-gp"
    assert get_loss("non-saturating").name == "nonsaturating"


def test_bce_discriminator_loss_value():
    loss = get_loss("minimax")
    real, fake = torch.tensor([0.0]), torch.tensor([0.0])
    # -log(0.5) - log(0.5)
    assert float(loss.discriminator_loss(real, fake)) == pytest.approx(2 * math.log(2), rel=1e-6)


def test_saturating_generator_gradient_vanishes_where_discriminator_is_confident():
    # D is sure the fake is fake: logit -10 -> D(G(z)) = 4.5e-5
    g_minimax = _grad_wrt_fake("minimax", -10.0)
    g_nonsat = _grad_wrt_fake("nonsaturating", -10.0)
    assert abs(g_minimax) < 1e-4
    assert abs(g_nonsat) > 0.99
    # both push the logit up (gradient descent on the loss increases D(G(z)))
    assert g_minimax < 0 and g_nonsat < 0


@pytest.mark.parametrize("name", ["wasserstein", "wgan-gp", "hinge"])
def test_linear_generator_losses_have_constant_gradient(name):
    assert _grad_wrt_fake(name, -10.0) == pytest.approx(-1.0)
    assert _grad_wrt_fake(name, 3.0) == pytest.approx(-1.0)


def test_lsgan_values():
    loss = get_loss("lsgan")
    d = loss.discriminator_loss(torch.tensor([1.0]), torch.tensor([0.0]))
    g = loss.generator_loss(torch.tensor([1.0]))
    assert float(d) == 0.0 and float(g) == 0.0
    assert float(loss.generator_loss(torch.tensor([0.0]))) == pytest.approx(0.5)


def test_hinge_discriminator_is_zero_beyond_margin():
    loss = get_loss("hinge")
    assert float(loss.discriminator_loss(torch.tensor([1.5]), torch.tensor([-2.0]))) == 0.0
    assert float(loss.discriminator_loss(torch.tensor([0.0]), torch.tensor([0.0]))) == pytest.approx(2.0)


def test_wasserstein_discriminator_loss_is_negative_distance_estimate():
    loss = get_loss("wasserstein")
    d = loss.discriminator_loss(torch.tensor([3.0, 1.0]), torch.tensor([-1.0, 1.0]))
    assert float(d) == pytest.approx(-2.0)


def test_label_smoothing_changes_real_target():
    plain = get_loss("nonsaturating")
    smooth = get_loss("nonsaturating", real_label=0.9)
    # with a very confident real logit, smoothing penalises over-confidence
    real, fake = torch.tensor([20.0]), torch.tensor([-20.0])
    assert float(smooth.discriminator_loss(real, fake)) > float(plain.discriminator_loss(real, fake)) + 1.0
    # minimiser of the real term is logit(0.9)
    r = torch.tensor([math.log(9.0)], requires_grad=True)
    smooth.discriminator_loss(r, torch.tensor([-50.0])).backward()
    assert abs(float(r.grad)) < 1e-5


@pytest.mark.parametrize("bad", [0.05, 0.95, 1.5])
def test_label_smoothing_range(bad):
    with pytest.raises(ValueError, match="real_label"):
        get_loss("minimax", real_label=bad)


def test_label_smoothing_refused_for_wasserstein():
    with pytest.raises(ValueError, match="does not apply"):
        get_loss("wgan-gp", real_label=0.9)


def test_call_returns_both_losses():
    d, g = get_loss("hinge")(torch.tensor([0.5]), torch.tensor([-0.5]))
    assert d.shape == () and g.shape == ()


def test_gradient_penalty_zero_for_unit_lipschitz_linear_critic():
    critic = torch.nn.Linear(3, 1, bias=True)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[0.0, 0.6, 0.8]]))
    gp = gradient_penalty(critic, torch.randn(16, 3), torch.randn(16, 3))
    assert float(gp) < 1e-10


def test_gradient_penalty_positive_otherwise_and_differentiable():
    critic = torch.nn.Linear(3, 1)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[3.0, 0.0, 0.0]]))
    gp = gradient_penalty(critic, torch.randn(16, 3), torch.randn(16, 3))
    assert float(gp) == pytest.approx(4.0, rel=1e-5)  # (3 - 1)^2
    gp.backward()
    assert critic.weight.grad is not None and float(critic.weight.grad[0, 0]) > 0


def test_gradient_penalty_shape_mismatch():
    with pytest.raises(ValueError, match="differ in shape"):
        gradient_penalty(torch.nn.Linear(2, 1), torch.randn(4, 2), torch.randn(5, 2))
