"""TabularGAN networks: span activation, condition embedding, packing, training through Lightning."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from ganaug.core.trainer import build_trainer
from ganaug.tabular import ConditionalSampler, TabularGAN, TabularTransformer
from ganaug.tabular._loader import conditional_loader
from ganaug.tabular.model import PackedDiscriminator, SpanActivation, _ConditionEmbedding, category_positions

SPANS = [(0, 1, "tanh"), (1, 3, "softmax"), (4, 1, "tanh"), (5, 4, "softmax"), (9, 2, "softmax")]


def test_span_activation_is_a_distribution_per_span_and_differentiable():
    act = SpanActivation(SPANS, tau=0.5)
    raw = torch.randn(64, 11, requires_grad=True)
    out = act(raw)
    for start, width, kind in SPANS:
        block = out[:, start : start + width]
        if kind == "softmax":
            assert torch.allclose(block.sum(1), torch.ones(64), atol=1e-5)
        else:
            assert torch.equal(block, torch.tanh(raw[:, start : start + width]))
    out[:, 6].sum().backward()
    assert raw.grad[:, 5:9].abs().sum() > 0 and raw.grad[:, 1:4].abs().sum() == 0


def test_span_activation_matches_per_span_softmax_without_noise():
    act = SpanActivation(SPANS, tau=0.2)
    raw = torch.randn(32, 11) * 20  # large logits: the segment max keeps it finite
    out = act(raw, gumbel=False)
    for start, width, kind in SPANS:
        if kind == "softmax":
            ref = torch.softmax(raw[:, start : start + width] / 0.2, dim=1)
            assert torch.allclose(out[:, start : start + width], ref, atol=1e-6)
    assert torch.isfinite(out).all()


def test_gumbel_max_sampling_draws_from_the_softmax():
    act = SpanActivation([(0, 3, "softmax")])
    logits = torch.tensor([[0.0, 1.0, 2.0]]).repeat(60_000, 1)
    _, choice = act.sample_parts(logits, generator=torch.Generator().manual_seed(0))
    freq = torch.bincount(choice[:, 0], minlength=3).float() / len(choice)
    assert torch.allclose(freq, torch.softmax(logits[0], 0), atol=0.01)


def test_condition_embedding_equals_a_linear_layer_on_the_one_hot_condition():
    n_classes, n_cat, dim, pac = 3, 5, 7, 4
    emb = _ConditionEmbedding(n_classes, n_cat, dim, positions=pac)
    cond = torch.stack([torch.randint(0, n_classes, (6, pac)), torch.randint(-1, n_cat, (6, pac))], dim=-1)
    # the same map written as W @ concat(one-hot class, one-hot level) for every pack slot
    W_class = emb.classes.weight.view(pac, n_classes, dim)
    W_level = emb.levels.weight.view(pac, n_cat + 1, dim)[:, :n_cat]
    onehot_c = torch.nn.functional.one_hot(cond[..., 0], n_classes).float()
    lv = cond[..., 1]
    onehot_l = torch.nn.functional.one_hot(lv.clamp_min(0), n_cat).float() * (lv >= 0).unsqueeze(-1)
    expected = torch.einsum("npc,pcd->nd", onehot_c, W_class) + torch.einsum("npk,pkd->nd", onehot_l, W_level)
    assert torch.allclose(emb(cond), expected, atol=1e-6)


def test_packed_discriminator_checks_its_input():
    d = PackedDiscriminator(5, 2, 3, [8], pac=4)
    assert d(torch.randn(3, 4, 5), torch.zeros(3, 4, 2, dtype=torch.long)).shape == (3,)
    with pytest.raises(ValueError, match="packs of shape"):
        d(torch.randn(12, 5))


def _toy(n=400, seed=0):
    """Two classes; column 'level' depends on the class, 'x' on the level."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(int)
    level = np.where(y == 1, rng.choice(3, n, p=[0.1, 0.1, 0.8]), rng.choice(3, n, p=[0.8, 0.1, 0.1]))
    x = np.array([-4.0, 0.0, 4.0])[level] + rng.normal(0, 0.3, n)
    return pd.DataFrame({"level": pd.Categorical(level), "x": x}), y


def test_training_through_lightning_learns_the_conditions():
    torch.manual_seed(0)
    X, y = _toy()
    tt = TabularTransformer(random_state=0).fit(X)
    E = tt.transform(X)
    sampler = ConditionalSampler(tt.discrete_codes(E), [s.width for s in tt.discrete_spans], y, 2)
    gan = TabularGAN([(s.start, s.width, s.kind) for s in tt.spans], 2, category_positions(tt.discrete_spans),
                     embedding_dim=16, generator_dim=(64, 64), discriminator_dim=(64,), pac=4, lr_g=2e-3, lr_d=2e-3)
    loader = conditional_loader(E, y, sampler, batch_size=100, seed=0)
    build_trainer(None, max_epochs=40).fit(gan, loader)
    keys = set().union(*[r.keys() for r in gan.history])
    assert {"d_loss", "g_loss", "wasserstein", "gradient_penalty", "grad_norm_g", "grad_norm_d"} <= keys
    # asked-for levels come out (condition loss), and the class changes the level mix
    gen = torch.Generator().manual_seed(0)
    n = 2000
    rows = gan.sample_rows(torch.zeros(n, dtype=torch.long), torch.full((n,), 2), generator=gen)
    assert (tt.inverse_transform(rows.numpy())["level"] == 2).mean() > 0.8
    cats = torch.as_tensor(sampler.sample_conditions(np.ones(n, dtype=int), np.random.default_rng(0)))
    minority = tt.inverse_transform(gan.sample_rows(torch.ones(n, dtype=torch.long), cats, generator=gen).numpy())
    assert (minority["level"] == 2).mean() > 0.5
    # the numeric column follows its level's mode
    assert abs(minority.loc[minority["level"] == 2, "x"].median() - 4.0) < 1.0


def test_sampling_is_repeatable_and_independent_of_batching():
    gan = TabularGAN(SPANS, 2, category_positions([]), embedding_dim=8, generator_dim=(16,),
                     discriminator_dim=(16,), pac=2)
    c, k = torch.tensor([0, 1] * 50), torch.full((100,), -1)
    a = gan.sample_rows(c, k, generator=torch.Generator().manual_seed(3), batch_size=100)
    b = gan.sample_rows(c, k, generator=torch.Generator().manual_seed(3), batch_size=100)
    assert torch.equal(a, b)
    alpha, choice = gan.sample_rows(c, k, generator=torch.Generator().manual_seed(3), parts=True)
    assert alpha.shape == (100, 2) and choice.shape == (100, 3)


def test_weights_round_trip():
    gan = TabularGAN(SPANS, 2, [1, 2, 3], embedding_dim=8, generator_dim=(16, 16), discriminator_dim=(16,), pac=2,
                     ema_decay=0.9)
    gan.setup("fit")
    rebuilt = TabularGAN.from_weights(dict(gan.hparams), gan.weights())
    for (k1, v1), (k2, v2) in zip(gan.state_dict().items(), rebuilt.state_dict().items()):
        assert k1 == k2 and torch.equal(v1, v2)
    assert isinstance(rebuilt.generator, nn.Module) and rebuilt.generator_ema is not None


@pytest.mark.parametrize("n_classes, positions, dims", [(3, [1, 2, 3, 5, 6, 7, 8, 9, 10], (16, 16, 12)),
                                                        (1, [1, 2, 3], (16,)), (2, [], (16, 16))])
def test_folded_sampling_network_equals_the_eval_network(n_classes, positions, dims):
    """Batch norm folded into the linear layers (the sampling path) is the same function as raw() in eval mode."""
    torch.manual_seed(0)
    gan = TabularGAN(SPANS, n_classes, positions, embedding_dim=8, generator_dim=dims, discriminator_dim=(16,), pac=2)
    g = gan.generator
    g.train()
    for _ in range(3):  # non-trivial batch-norm running statistics
        c = torch.randint(0, n_classes, (64,))
        k = torch.randint(-1, len(positions), (64,)) if positions else torch.full((64,), -1)
        with torch.no_grad():
            g.raw(torch.randn(64, 8) * 3 + 1, gan.condition(c, k))
    g.eval()
    with torch.no_grad():
        gan.logit_bias.normal_()
        z, c = torch.randn(50, 8), torch.randint(0, n_classes, (50,))
        k = torch.randint(-1, len(positions), (50,)) if positions else torch.full((50,), -1)
        expected = g.raw(z, gan.condition(c, k)) + gan.logit_bias[c]
        folded = g.raw_folded(g.folded(head_bias=gan.logit_bias), z, c, k)
    assert torch.allclose(folded, expected, atol=1e-5)
