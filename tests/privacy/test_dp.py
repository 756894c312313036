"""Differentially private training: settings, accounting against Opacus, per-row clipping, a tiny DP fit."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

pytest.importorskip("opacus")

from opacus.accountants import RDPAccountant  # noqa: E402

from ganaug.augment.tabular import TabularAugmenter  # noqa: E402
from ganaug.datasets import load_hmda  # noqa: E402
from ganaug.privacy.dp import (  # noqa: E402
    DPTabularGAN,
    check_dp,
    epsilon_spent,
    noise_multiplier_for,
)

TINY = dict(epochs=2, batch_size=200, embedding_dim=16, generator_dim=(32, 32), discriminator_dim=(32,))


@pytest.mark.parametrize(
    "dp, match",
    [
        ({"epsilon": 0}, "epsilon must be > 0"),
        ({"epsilon": -1.0}, "epsilon must be > 0"),
        ({"epsilon": 1.0, "delta": 1e-3}, r"delta must be < 1/n"),
        ({"epsilon": 1.0, "delta": 0.0}, r"delta must be < 1/n|delta must be > 0"),
        ({"epsilon": 1.0, "max_grad_norm": 0}, "max_grad_norm must be > 0"),
        ({"epsilon": 1.0, "accountant": "moments"}, "accountant must be one of"),
        ({"epsilon": float("nan")}, "finite number"),
        ({"delta": 1e-5}, "needs 'epsilon'"),
        ({"epsilon": 1.0, "sigma": 2.0}, "unknown dp setting"),
    ],
)
def test_bad_settings_are_refused_with_clear_errors(dp, match):
    with pytest.raises(ValueError, match=match):
        check_dp(dp, n_rows=1000)
    with pytest.raises(TypeError, match="dp must be a dict"):
        check_dp(3.0, n_rows=1000)


def test_epsilon_agrees_with_opacus_accountant_and_calibration_meets_target():
    sigma, q, steps, delta = 1.3, 0.05, 400, 1e-5
    acc = RDPAccountant()
    for _ in range(steps):  # Opacus's own bookkeeping, step by step
        acc.step(noise_multiplier=sigma, sample_rate=q)
    assert epsilon_spent(sigma, q, steps, delta) == pytest.approx(acc.get_epsilon(delta), rel=1e-9)
    found = noise_multiplier_for(2.0, delta, q, steps)
    eps = epsilon_spent(found, q, steps, delta)
    assert eps <= 2.0 and eps > 1.9  # met, and not by wasting noise


def test_a_budget_that_needs_absurd_noise_is_refused():
    with pytest.raises(ValueError, match="needs noise multiplier above max_noise_multiplier"):
        noise_multiplier_for(0.01, 1e-5, 0.5, 5000)


def _tiny_module(loss="wgan-gp"):
    torch.manual_seed(0)
    spans = [(0, 1, "tanh"), (1, 3, "softmax"), (4, 2, "softmax")]
    m = DPTabularGAN(spans, 2, [1, 2, 3, 4, 5], pac=1, embedding_dim=4, generator_dim=(8,), discriminator_dim=(8,),
                     dropout=0.0, classifier_weight=1.0, classifier_dim=8, loss=loss)
    m.configure_dp(1.0, 1.0, 0.5, 10, np.array([0.5, 0.5]))
    for net in (m.classifier, m.twin):
        for layer in net:
            if isinstance(layer, torch.nn.Dropout):
                layer.p = 0.0
    return m


@pytest.mark.parametrize("loss", ["wgan-gp", "nonsaturating", "hinge"])
def test_per_row_gradients_equal_one_backward_per_row(loss):
    m = _tiny_module(loss)
    n = 5
    g = torch.Generator().manual_seed(1)
    real, fake = torch.rand(n, 1, 6, generator=g), torch.rand(n, 1, 6, generator=g)
    cond = m.condition(torch.tensor([0, 1, 1, 0, 1]), torch.tensor([-1, 2, 0, -1, 4])).view(n, 1, 2)
    alpha = torch.rand(n, generator=g)
    per_row = m._per_row_gradients(real, cond, fake, alpha=alpha)
    nets = m._dp_networks()
    named = {f"{k}.{p}": v for k, net in nets.items() for p, v in net.named_parameters()}
    for i in range(n):  # reference: the module's own loss on a batch of one row, plain autograd
        for p in named.values():
            p.grad = None
        logits_r = m.discriminator(real[i : i + 1], cond[i : i + 1])
        loss_i = m.adversarial_loss.discriminator_loss(logits_r, torch.zeros(1))  # the real row's part
        if m.adversarial_loss.needs_gradient_penalty:
            x = (alpha[i] * real[i : i + 1] + (1 - alpha[i]) * fake[i : i + 1]).requires_grad_(True)
            (gx,) = torch.autograd.grad(m.discriminator(x, cond[i : i + 1]).sum(), x, create_graph=True)
            loss_i = loss_i + 10.0 * (gx.norm() - 1) ** 2
        loss_i = loss_i + m._class_loss(m.classifier, real[i : i + 1], cond[i : i + 1])
        loss_i.backward()
        for name, p in named.items():
            ref = torch.zeros_like(p) if p.grad is None else p.grad
            torch.testing.assert_close(per_row[name][i], ref, rtol=1e-4, atol=1e-6)


def test_dp_fit_on_a_small_table_runs_spends_at_most_its_budget_and_reloads(tmp_path):
    X, y = load_hmda()
    X, y = X.iloc[:800], y.iloc[:800]
    aug = TabularAugmenter(random_state=0, dp={"epsilon": 2.0, "max_grad_norm": 1.0}, **TINY)
    X_res, y_res = aug.fit_resample(X, y)
    p = aug.privacy_
    assert p["steps"] == p["planned_steps"] == 2 * (800 // 200)
    assert p["epsilon"] <= 2.0 and p["delta"] < 1 / 800
    acc = RDPAccountant()
    acc.history = [(p["noise_multiplier"], p["sample_rate"], p["steps"])]
    assert p["epsilon"] == pytest.approx(acc.get_epsilon(p["delta"]))
    assert aug.module_.pac == 1 and aug.calibration_ is None
    assert y_res.value_counts().nunique() == 1 and X_res.dtypes.equals(X.dtypes)
    assert all(np.isfinite(r["d_loss"]) if "d_loss" in r else True for r in aug.history_)
    aug.save(tmp_path / "m")
    again = TabularAugmenter.load(tmp_path / "m")
    a, b = aug.sample(50, random_state=3), again.sample(50, random_state=3)
    assert a[0].equals(b[0])


def test_dp_refuses_settings_it_cannot_honour():
    X, y = load_hmda()
    with pytest.raises(ValueError, match="delta must be < 1/n"):
        TabularAugmenter(random_state=0, dp={"epsilon": 1.0, "delta": 0.01}, **TINY).fit(X, y)
    with pytest.raises(ValueError, match="validation"):
        TabularAugmenter(random_state=0, dp={"epsilon": 1.0}, validation="tstr", **TINY).fit(X, y)
    with pytest.raises(ValueError, match="backend='ganaug'"):
        TabularAugmenter(random_state=0, dp={"epsilon": 1.0}, backend="ctgan", **TINY).fit(X, y)


def test_core_imports_without_opacus_and_dp_names_the_extra():
    code = (
        "import sys; sys.modules['opacus'] = None\n"
        "import ganaug, ganaug.privacy, ganaug.augment.tabular\n"
        "from ganaug.privacy.dp import check_dp, epsilon_spent\n"
        "check_dp({'epsilon': 1.0}, 100)\n"
        "try:\n    epsilon_spent(1.0, 0.1, 10, 1e-5)\nexcept ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "pip install ganaug[privacy]" in out.stdout


@pytest.mark.parametrize("loss", ["wgan-gp", "nonsaturating", "hinge", "lsgan", "minimax"])
def test_losses_split_into_a_real_and_a_fake_part(loss):
    """DP relies on L(real, fake) = A(real) + B(fake): per-row A, batched B."""
    from ganaug.core.losses import get_loss

    fn = get_loss(loss)
    r, f = torch.randn(7), torch.randn(7)
    z = torch.zeros(7)
    split = fn.discriminator_loss(r, z) + fn.discriminator_loss(z, f) - fn.discriminator_loss(z, z)
    torch.testing.assert_close(fn.discriminator_loss(r, f), split)


@pytest.mark.parametrize("loss", ["hinge", "nonsaturating"])
def test_ghost_clipping_equals_clipping_materialised_per_row_gradients(loss):
    m = _tiny_module(loss)
    assert m._ghost_supported()
    n, C = 9, 0.3
    g = torch.Generator().manual_seed(2)
    real, fake = torch.rand(n, 1, 6, generator=g), torch.rand(n, 1, 6, generator=g)
    cond = m.condition(torch.tensor([0, 1, 1, 0, 1, 0, 0, 1, 1]), torch.tensor([-1, 2, 0, -1, 4, 4, 1, 3, -1]))
    cond = cond.view(n, 1, 2)
    by_id, norms = m._ghost_clipped_sum(real, cond, C)
    per_row = m._per_row_gradients(real, cond, fake)
    ref_norms = torch.sqrt(sum(v.reshape(n, -1).pow(2).sum(1) for v in per_row.values()))
    torch.testing.assert_close(norms, ref_norms, rtol=1e-4, atol=1e-6)
    scale = (C / (ref_norms + 1e-6)).clamp(max=1.0)
    for name, p in {f"{k}.{q}": v for k, net in m._dp_networks().items() for q, v in net.named_parameters()}.items():
        ref = torch.einsum("i,i...->...", scale, per_row[name])
        torch.testing.assert_close(by_id.get(id(p), torch.zeros_like(p)), ref, rtol=1e-4, atol=1e-6)
    assert not _tiny_module("wgan-gp")._ghost_supported()  # the penalty needs the per-row path
