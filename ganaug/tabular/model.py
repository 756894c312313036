"""``TabularGAN``: conditional GAN for encoded tables (residual MLP G, packed MLP D).

The adversarial step (loss, gradient penalty, ``n_critic``, EMA, NaN guard,
history) is :class:`ganaug.core.GANModule`'s; this module only supplies:

* the generator: a residual MLP (each block ``concat(ReLU(BN(Linear(h))), h)``,
  as in CTGAN) on ``[z, condition]``, whose raw output goes through one
  vectorised activation layer: ``tanh`` for the scalar of each continuous
  column, and a *segment* Gumbel-softmax over all one-hot blocks at once
  (one scatter/gather for every block, instead of a Python loop over
  columns at every step);
* the discriminator: an MLP with LeakyReLU and dropout that sees ``pac``
  rows packed into one input (PacGAN, Lin et al. 2018), with their conditions;
* the condition: ``[one-hot class, one-hot level of one discrete column]``
  (training-by-sampling, :mod:`ganaug.tabular.sampler`) and the generator's
  extra loss that makes the generated row carry the asked-for level.

Packing is expressed through tensor shapes: a batch is ``(B / pac, pac, width)``
and the latent is ``(pac, embedding_dim)`` per item, so the core gradient
penalty interpolates and normalises per pack, as PacGAN's WGAN-GP does.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor, nn

from ganaug.core.layers import FastDropout
from ganaug.core.module import GANModule

__all__ = ["TabularGAN", "SpanActivation", "ResidualGenerator", "PackedDiscriminator"]


class SpanActivation(nn.Module):
    """``tanh`` on scalar spans, (Gumbel-)softmax on every one-hot span, in a fixed number of tensor ops.

    Parameters
    ----------
    spans : sequence of (start, width, kind)
        ``kind`` is ``"tanh"`` or ``"softmax"``; the spans tile ``0..dim``.
    tau : float, default=0.2
        Gumbel-softmax temperature.

    Examples
    --------
    >>> import torch
    >>> from ganaug.tabular.model import SpanActivation
    >>> act = SpanActivation([(0, 1, "tanh"), (1, 3, "softmax"), (4, 2, "softmax")])
    >>> out = act(torch.randn(5, 6), gumbel=False)
    >>> torch.allclose(out[:, 1:4].sum(1), torch.ones(5)), torch.allclose(out[:, 4:].sum(1), torch.ones(5))
    (True, True)
    """

    def __init__(self, spans: Sequence, tau: float = 0.2) -> None:
        super().__init__()
        tanh_idx, soft_idx, seg = [], [], []
        n_seg = 0
        dim = 0
        for start, width, kind in spans:
            start, width = int(start), int(width)
            dim = max(dim, start + width)
            if kind == "tanh":
                tanh_idx.extend(range(start, start + width))
            elif kind == "softmax":
                soft_idx.extend(range(start, start + width))
                seg.extend([n_seg] * width)
                n_seg += 1
            else:
                raise ValueError(f"unknown span kind {kind!r}")
        perm = torch.tensor(tanh_idx + soft_idx, dtype=torch.long)
        if sorted(perm.tolist()) != list(range(dim)):
            raise ValueError("spans must cover 0..dim exactly once")
        self.dim = dim
        self.tau = float(tau)
        self.n_segments = n_seg
        self.n_tanh = len(tanh_idx)
        self.register_buffer("tanh_idx", torch.tensor(tanh_idx, dtype=torch.long), persistent=False)
        self.register_buffer("soft_idx", torch.tensor(soft_idx, dtype=torch.long), persistent=False)
        self.register_buffer("segment", torch.tensor(seg, dtype=torch.long), persistent=False)
        self.register_buffer("inverse_perm", torch.argsort(perm), persistent=False)
        # padded (segment, slot) layout of the softmax positions, for one argmax over every span at once
        widths = [int(w) for s, w, k in spans if k == "softmax"]
        k_max = max(widths, default=1)
        pad = torch.full((max(n_seg, 1), k_max), len(soft_idx), dtype=torch.long)
        offset = 0
        for g, w in enumerate(widths):
            pad[g, :w] = torch.arange(offset, offset + w)
            offset += w
        self.k_max = k_max
        self.register_buffer("padded", pad.reshape(-1), persistent=False)

    def forward(self, raw: Tensor, gumbel: bool = True, generator: torch.Generator | None = None) -> Tensor:
        parts = [torch.tanh(raw.index_select(1, self.tanh_idx))] if self.n_tanh else []
        if self.n_segments:
            logits = raw.index_select(1, self.soft_idx)
            if gumbel:
                if generator is None:
                    u = torch.rand_like(logits)
                else:
                    u = torch.rand(logits.shape, generator=generator, device=generator.device).to(logits.device)
                logits = logits - torch.log(-torch.log(u.clamp(1e-10, 1.0 - 1e-7)))
            y = logits / self.tau
            m = raw.shape[0]
            seg = self.segment.unsqueeze(0).expand(m, -1)
            seg_max = torch.full((m, self.n_segments), -torch.inf, device=raw.device, dtype=raw.dtype)
            seg_max = seg_max.scatter_reduce(1, seg, y.detach(), reduce="amax", include_self=True)
            e = torch.exp(y - seg_max.gather(1, seg))
            sums = torch.zeros((m, self.n_segments), device=raw.device, dtype=raw.dtype).scatter_add(1, seg, e)
            parts.append(e / sums.gather(1, seg))
        out = torch.cat(parts, dim=1) if len(parts) > 1 else parts[0]
        return out.index_select(1, self.inverse_perm)

    def sample_parts(self, raw: Tensor, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        """Sampling mode: ``(tanh scalars (m, n_tanh), chosen index of every softmax span (m, n_spans))``.

        The index is drawn by the Gumbel-max trick, ``argmax(logits + Gumbel noise)``,
        which is an exact draw from ``softmax(logits)`` (what decoding the
        Gumbel-softmax output by argmax gives), without computing the softmax.
        """
        m = raw.shape[0]
        alpha = torch.tanh(raw.index_select(1, self.tanh_idx))
        if not self.n_segments:
            return alpha, torch.zeros((m, 0), dtype=torch.long, device=raw.device)
        logits = raw.index_select(1, self.soft_idx)
        if generator is None:
            u = torch.rand_like(logits)
        else:
            u = torch.rand(logits.shape, generator=generator, device=generator.device).to(logits.device)
        noisy = logits - torch.log(-torch.log(u.clamp(1e-10, 1.0 - 1e-7)))
        noisy = torch.cat([noisy, torch.full((m, 1), -torch.inf, device=raw.device, dtype=raw.dtype)], dim=1)
        choice = noisy.index_select(1, self.padded).view(m, self.n_segments, self.k_max).argmax(dim=2)
        return alpha, choice


class _ConditionEmbedding(nn.Module):
    """``W_class[c] + W_level[k]``: a linear layer applied to the one-hot ``[class, level]`` condition.

    Concatenating the one-hot condition to a layer's input (as CTGAN does) adds
    ``W_c @ onehot`` to that layer; with exactly one class and at most one
    level set, that product is the sum of two columns of ``W_c``, i.e. two
    embedding lookups. Same function, no dense matmul over the condition.
    ``positions`` > 1 gives each slot of a pack its own table (as the packed
    critic's concatenated input has).
    """

    def __init__(self, n_classes: int, n_categories: int, dim: int, positions: int = 1) -> None:
        super().__init__()
        self.n_classes = n_classes if n_classes > 1 else 0
        self.n_categories = n_categories
        self.positions = positions
        self.classes = nn.Embedding(positions * self.n_classes, dim) if self.n_classes else None
        # one extra row per position for "no level" (tables without discrete columns), kept at zero
        self.levels = nn.Embedding(positions * (n_categories + 1), dim) if n_categories else None
        if self.classes is not None:
            nn.init.normal_(self.classes.weight, std=(1.0 / (positions * (self.n_classes + n_categories))) ** 0.5)
        if self.levels is not None:
            nn.init.normal_(self.levels.weight, std=(1.0 / (positions * (self.n_classes + n_categories))) ** 0.5)
            with torch.no_grad():
                self.levels.weight.view(positions, n_categories + 1, dim)[:, n_categories] = 0.0

    def forward(self, cond: Tensor) -> Tensor | float:
        """``cond`` ``(..., positions, 2)`` of (class, level or -1) -> ``(..., dim)`` summed over positions."""
        out: Tensor | float = 0.0
        if self.positions == 1:
            flat = cond.reshape(-1, 2)
            if self.classes is not None:
                out = self.classes(flat[:, 0])
            if self.levels is not None:
                out = out + self.levels(torch.where(flat[:, 1] < 0, self.n_categories, flat[:, 1]))
            return out if isinstance(out, float) else out.reshape(*cond.shape[:-2], -1)
        # one bag of 2 * positions lookups per pack, summed without materialising (n, positions, dim)
        pos = torch.arange(self.positions, device=cond.device)
        index, tables = [], []
        offset = 0
        if self.classes is not None:
            index.append(cond[..., 0] + pos * self.n_classes)
            tables.append(self.classes.weight)
            offset = self.classes.weight.shape[0]
        if self.levels is not None:
            k = torch.where(cond[..., 1] < 0, self.n_categories, cond[..., 1])
            index.append(k + pos * (self.n_categories + 1) + offset)
            tables.append(self.levels.weight)
        if not index:
            return out
        idx = torch.cat(index, dim=-1)
        weight = tables[0] if len(tables) == 1 else torch.cat(tables)
        bags = nn.functional.embedding_bag(idx.reshape(-1, idx.shape[-1]), weight, mode="sum")
        return bags.reshape(*idx.shape[:-1], -1)

    @torch.no_grad()
    def table(self) -> Tensor | None:
        """``(max(n_classes, 1), n_categories + 1, dim)``: the summed embedding of every (class, level) pair.

        Only for ``positions == 1``; level ``n_categories`` is "no level".
        ``None`` when the condition is empty (one class, no discrete column).
        """
        cls = None if self.classes is None else self.classes.weight
        lev = None if self.levels is None else self.levels.weight
        if cls is None and lev is None:
            return None
        out = torch.zeros(())
        if cls is not None:
            out = out.to(cls) + cls[:, None, :]
        if lev is not None:
            out = out.to(lev) + lev[None, :, :]
        rows, dim = max(self.n_classes, 1), out.shape[-1]
        return out.expand(rows, self.n_categories + 1, dim).contiguous()


class _ResidualBlock(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.fc = nn.Linear(dim, dim)
        self.bn = nn.BatchNorm1d(dim)

    def forward(self, h: Tensor) -> Tensor:
        return h + torch.relu(self.bn(self.fc(h)))


class ResidualGenerator(nn.Module):
    """Residual MLP from noise and condition to an encoded row, with :class:`SpanActivation`.

    ``h = ReLU(BN(W z + W_c [class, level]))``, then a residual block
    ``h + ReLU(BN(W h))`` for every further width, then a linear head.
    ``z`` ``(..., embedding_dim)`` and ``cond`` ``(..., 2)`` (class, level)
    give ``(..., data_dim)`` for any leading shape.
    """

    def __init__(self, embedding_dim: int, n_classes: int, n_categories: int, dims: Sequence[int], spans: Sequence,
                 tau: float = 0.2):
        super().__init__()
        dims = [int(d) for d in dims] or [int(embedding_dim)]
        self.activation = SpanActivation(spans, tau=tau)
        self.input = nn.Linear(embedding_dim, dims[0])
        self.condition = _ConditionEmbedding(n_classes, n_categories, dims[0])
        self.input_bn = nn.BatchNorm1d(dims[0])
        blocks: list[nn.Module] = []
        for prev, d in zip(dims[:-1], dims[1:]):
            if d != prev:
                blocks.append(nn.Linear(prev, d))
            blocks.append(_ResidualBlock(d))
        self.body = nn.Sequential(*blocks)
        self.head = nn.Linear(dims[-1], self.activation.dim)

    def raw(self, z: Tensor, cond: Tensor | None = None) -> Tensor:
        """Pre-activation output ``(m, data_dim)`` for flat ``z`` ``(m, embedding_dim)`` and ``cond`` ``(m, 2)``."""
        h = self.input(z)
        if cond is not None:
            h = h + self.condition(cond.reshape(-1, 1, 2))
        return self.head(self.body(torch.relu(self.input_bn(h))))

    @torch.no_grad()
    def folded(self, head_bias: Tensor | None = None) -> list:
        """Eval-mode network with every batch norm folded into its linear layer (for fast sampling).

        Returns ``[(W0^T, condition table), blocks..., (W_head^T, head bias table)]`` where the
        condition table ``(classes * (levels + 1), d0)`` already holds the first layer's bias and
        batch norm shift, and ``head_bias`` ``(classes, data_dim)`` (e.g. the calibration's logit
        bias) is added to the head's bias. Mathematically the same function as :meth:`raw` in eval
        mode; float rounding differs.
        """

        def bn_affine(bn: nn.BatchNorm1d) -> tuple[Tensor, Tensor]:
            scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
            return scale, bn.bias - bn.running_mean * scale

        scale, shift = bn_affine(self.input_bn)
        w0 = (self.input.weight * scale[:, None]).t().contiguous()
        table = self.condition.table()
        base = self.input.bias * scale + shift
        if table is None:
            table = base.reshape(1, 1, -1)
        else:
            table = table * scale + base
        plan: list = [(w0, table.reshape(-1, table.shape[-1]).contiguous(), table.shape[1])]
        for block in self.body:
            if isinstance(block, _ResidualBlock):
                s, b = bn_affine(block.bn)
                plan.append(("res", (block.fc.weight * s[:, None]).t().contiguous(), block.fc.bias * s + b))
            else:
                plan.append(("lin", block.weight.t().contiguous(), block.bias.clone()))
        hb = self.head.bias.reshape(1, -1) if head_bias is None else head_bias + self.head.bias
        plan.append((self.head.weight.t().contiguous(), hb.contiguous()))
        return plan

    @staticmethod
    def raw_folded(plan: list, z: Tensor, classes: Tensor, levels: Tensor) -> Tensor:
        """:meth:`raw` (plus the head bias table) through a :meth:`folded` plan; ``levels`` -1 = none."""
        w0, table, n_levels = plan[0]
        if table.shape[0] == 1:
            idx = torch.zeros_like(classes)
        else:
            lev = torch.where(levels < 0, n_levels - 1, levels) if n_levels > 1 else torch.zeros_like(levels)
            cls = classes if table.shape[0] > n_levels else torch.zeros_like(classes)
            idx = cls * n_levels + lev
        h = torch.addmm(table.index_select(0, idx), z, w0).relu_()
        for kind, wt, b in plan[1:-1]:
            if kind == "res":
                h = h.add_(torch.addmm(b, h, wt).relu_())
            else:
                h = torch.addmm(b, h, wt)
        wh, hb = plan[-1]
        bias = hb.expand(len(h), -1) if hb.shape[0] == 1 else hb.index_select(0, classes)
        return torch.addmm(bias, h, wh)

    def forward(self, z: Tensor, cond: Tensor | None = None, gumbel: bool = True,
                generator: torch.Generator | None = None) -> Tensor:
        lead = z.shape[:-1]
        raw = self.raw(z.reshape(-1, z.shape[-1]), None if cond is None else cond.reshape(-1, 2))
        return self.activation(raw, gumbel=gumbel, generator=generator).reshape(*lead, -1)


class PackedDiscriminator(nn.Module):
    """MLP critic on packs of ``pac`` rows: ``x`` ``(n, pac, width)`` and ``cond`` ``(n, pac, 2)`` -> ``(n,)``."""

    def __init__(self, data_dim: int, n_classes: int, n_categories: int, dims: Sequence[int], pac: int = 10,
                 dropout: float = 0.5) -> None:
        super().__init__()
        dims = [int(d) for d in dims]
        if not dims:
            raise ValueError("discriminator_dim needs at least one layer width")
        self.pac = int(pac)
        self.input = nn.Linear(data_dim * self.pac, dims[0])
        self.condition = _ConditionEmbedding(n_classes, n_categories, dims[0], positions=self.pac)
        layers: list[nn.Module] = [nn.LeakyReLU(0.2), FastDropout(dropout)]
        width = dims[0]
        for d in dims[1:]:
            layers += [nn.Linear(width, d), nn.LeakyReLU(0.2), FastDropout(dropout)]
            width = d
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor, cond: Tensor | None = None) -> Tensor:
        if x.dim() != 3 or x.shape[1] != self.pac:
            raise ValueError(f"expected packs of shape (n, {self.pac}, width), got {tuple(x.shape)}")
        h = self.input(x.reshape(x.shape[0], -1))
        if cond is not None:
            h = h + self.condition(cond)
        return self.net(h).squeeze(1)


class TabularGAN(GANModule):
    """Conditional tabular GAN: residual generator, packed critic, training-by-sampling.

    Parameters
    ----------
    spans : sequence of (start, width, kind)
        Layout of an encoded row (``TabularTransformer.spans``).
    n_classes : int
        Classes of the target (1 when fitted without labels: no class part
        in the condition).
    category_positions : sequence of int
        For each level of each discrete column (in order), its column in the
        encoded row; empty when the table has no discrete column.
    embedding_dim : int, default=128
        Size of the noise vector.
    generator_dim, discriminator_dim : sequence of int, default=(256, 256)
    pac : int, default=10
        Rows per discriminator input.
    dropout : float, default=0.5
    tau : float, default=0.2
        Gumbel-softmax temperature.
    cond_loss_weight : float, default=1.0
        Weight of the generator's condition loss.
    loss : str, default="wgan-gp"
    betas : tuple, default=(0.5, 0.9)
    gp_every : int, default=1
        Compute the gradient penalty on every ``gp_every``-th discriminator
        step only, at ``gp_every`` times its weight (lazy regularisation, see
        :class:`ganaug.core.GANModule`); 1 = every step.
    **gan_options
        Anything else of :class:`ganaug.core.GANModule` (``n_critic``,
        ``lr_g``, ``lr_d``, ``ema_decay``...).

    Examples
    --------
    >>> import torch
    >>> from ganaug.tabular import TabularGAN
    >>> gan = TabularGAN([(0, 1, "tanh"), (1, 2, "softmax"), (3, 3, "softmax")], n_classes=2,
    ...                  category_positions=[3, 4, 5], embedding_dim=8, generator_dim=(16,),
    ...                  discriminator_dim=(16,), pac=2)
    >>> rows = gan.sample_rows(torch.tensor([0, 1, 1]), torch.tensor([0, 2, 1]),
    ...                        generator=torch.Generator().manual_seed(0))
    >>> rows.shape
    torch.Size([3, 6])
    """

    #: fused Adam: a tenth of a small tabular step on CPU was the default kernel's per-tensor loop
    fused_adam = True

    def __init__(
        self,
        spans: Sequence,
        n_classes: int,
        category_positions: Sequence[int] = (),
        *,
        embedding_dim: int = 128,
        generator_dim: Sequence[int] = (256, 256),
        discriminator_dim: Sequence[int] = (256, 256),
        pac: int = 10,
        dropout: float = 0.5,
        tau: float = 0.2,
        cond_loss_weight: float = 1.0,
        classifier_weight: float = 0.0,
        classifier_dim: int = 128,
        twin_classifier: bool = True,
        loss: str = "wgan-gp",
        betas: tuple[float, float] = (0.5, 0.9),
        gp_every: int = 1,
        **gan_options,
    ) -> None:
        pac = int(pac)
        if pac < 1:
            raise ValueError(f"pac must be >= 1, got {pac}")
        super().__init__(latent_dim=(pac, int(embedding_dim)), loss=loss, betas=betas, gp_every=gp_every,
                         **gan_options)
        spans = [(int(s), int(w), str(k)) for s, w, k in spans]
        self.save_hyperparameters(
            {"spans": spans, "n_classes": int(n_classes), "category_positions": [int(p) for p in category_positions],
             "embedding_dim": int(embedding_dim), "generator_dim": [int(d) for d in generator_dim],
             "discriminator_dim": [int(d) for d in discriminator_dim], "pac": pac, "dropout": float(dropout),
             "tau": float(tau), "cond_loss_weight": float(cond_loss_weight),
             "classifier_weight": float(classifier_weight), "classifier_dim": int(classifier_dim),
             "twin_classifier": bool(twin_classifier), "loss": loss,
             "betas": [float(b) for b in betas], "gp_every": self.gp_every, **gan_options}
        )
        self.pac = pac
        self.embedding_dim = int(embedding_dim)
        self.n_classes = int(n_classes)
        self.n_categories = len(category_positions)
        self.cond_loss_weight = float(cond_loss_weight)
        self.generator = ResidualGenerator(self.embedding_dim, self.n_classes, self.n_categories, generator_dim,
                                           spans, tau=tau)
        self.data_dim = self.generator.activation.dim
        self.discriminator = PackedDiscriminator(self.data_dim, self.n_classes, self.n_categories, discriminator_dim,
                                                 pac=pac, dropout=dropout)
        self.classifier_weight = float(classifier_weight)
        self.classifier: nn.Module | None = None
        self.twin: nn.Module | None = None
        if self.n_classes > 1 and self.classifier_weight > 0:
            # auxiliary classifier on single rows, trained on real rows with the discriminator's optimiser;
            # the generator is pushed to make rows it recognises as their class (as CTAB-GAN / ACGAN do).
            # ACGAN alone favours rows far from the class boundary (it also minimises the entropy of
            # p(class | row)); the twin classifier, trained on generated rows, cancels that bias (TAC-GAN,
            # Gong et al. 2019), so the class-conditional distributions are matched, not exaggerated.
            self.classifier = self._make_classifier(int(classifier_dim))
            if twin_classifier:
                self.twin = self._make_classifier(int(classifier_dim))
        # per-class additive bias on the generator's one-hot logits, used only when sampling (marginal
        # calibration after training, see ganaug.tabular.calibration); zero = none
        self.register_buffer("logit_bias", torch.zeros(max(self.n_classes, 1), self.data_dim))
        self.register_buffer("category_positions",
                             torch.tensor([int(p) for p in category_positions], dtype=torch.long), persistent=False)

    # ---------------------------------------------------------------- hooks
    def condition(self, classes: Tensor, categories: Tensor) -> Tensor:
        """Condition ``(..., 2)``: class code and global level id (-1 = none) side by side."""
        return torch.stack([classes.long(), categories.long()], dim=-1)

    def split_batch(self, batch) -> tuple[Tensor, Tensor]:
        x, classes, categories = batch
        n = x.shape[0] - x.shape[0] % self.pac
        cond = self.condition(classes[:n], categories[:n])
        return x[:n].reshape(-1, self.pac, x.shape[1]), cond.reshape(-1, self.pac, 2)

    def _make_classifier(self, width: int) -> nn.Module:
        return nn.Sequential(
            nn.Linear(self.data_dim, width), nn.LeakyReLU(0.2), FastDropout(0.25),
            nn.Linear(width, width), nn.LeakyReLU(0.2), FastDropout(0.25),
            nn.Linear(width, self.n_classes),
        )

    def discriminator_parameters(self):
        params = [*self.discriminator.parameters()]
        for net in (self.classifier, self.twin):
            if net is not None:
                params += [*net.parameters()]
        return params

    @staticmethod
    def _class_loss(net: nn.Module, rows: Tensor, cond: Tensor) -> Tensor:
        logits = net(rows.reshape(-1, rows.shape[-1]))
        return nn.functional.cross_entropy(logits, cond[..., 0].reshape(-1))

    def discriminator_extra_loss(self, real, fake, cond, real_extras, fake_extras, z):
        if self.classifier is None:
            return None
        loss = self._class_loss(self.classifier, real, cond)
        if self.twin is not None:
            loss = loss + self._class_loss(self.twin, fake.detach(), self.fake_condition(cond, fake.shape[0]))
        return loss

    def generator_extra_loss(self, real, fake, cond, fake_extras, z):
        total = None
        if self.classifier is not None:
            total = self._class_loss(self.classifier, fake, cond)
            if self.twin is not None:
                total = total - self._class_loss(self.twin, fake, cond)
            total = self.classifier_weight * total
        if not self.n_categories or self.cond_loss_weight == 0.0:
            return total
        level = cond[..., 1]
        has = level >= 0
        if not bool(has.any()):
            return total
        pos = self.category_positions[level.clamp_min(0)]  # (n, pac)
        p = fake.gather(-1, pos.unsqueeze(-1)).squeeze(-1)
        nll = -torch.log(p.clamp_min(1e-12)) * self.generator.activation.tau
        cond_loss = self.cond_loss_weight * nll[has].mean()
        return cond_loss if total is None else total + cond_loss

    # -------------------------------------------------------------- sampling
    def _sampling_network(self, use_ema: bool) -> nn.Module:
        self._ensure_ema()
        if use_ema and self.generator_ema is not None:
            return self.generator_ema.module
        return self.generator

    @torch.no_grad()
    def sample_rows(
        self,
        classes: Tensor,
        categories: Tensor,
        generator: torch.Generator | None = None,
        batch_size: int = 8192,
        use_ema: bool = True,
        parts: bool = False,
    ):
        """Generate rows for the given class codes and level conditions (-1 = none).

        Runs in eval mode (batch-norm running statistics, so a row does not
        depend on what else is in the batch), in batches of ``batch_size``.

        Returns the activated encoded rows ``(m, data_dim)`` (CPU float32), or
        with ``parts=True`` the cheaper ``(alpha, choice)`` pair of
        :meth:`SpanActivation.sample_parts` for
        :meth:`TabularTransformer.inverse_from_parts`.
        """
        net = self._sampling_network(use_ema)
        was_training = net.training
        net.eval()
        act = net.activation
        plan = net.folded(head_bias=self.logit_bias)
        m = len(classes)
        if parts:
            alpha = torch.empty((m, act.n_tanh), dtype=torch.float32)
            choice = torch.empty((m, act.n_segments), dtype=torch.long)
        else:
            out = torch.empty((m, self.data_dim), dtype=torch.float32)
        try:
            for lo in range(0, m, batch_size):
                c = classes[lo : lo + batch_size].to(self.device)
                k = categories[lo : lo + batch_size].to(self.device)
                dev = generator.device if generator is not None else self.device
                z = torch.randn((len(c), self.embedding_dim), generator=generator, device=dev).to(self.device)
                raw = net.raw_folded(plan, z, c, k)
                if parts:
                    a, ch = act.sample_parts(raw, generator=generator)
                    alpha[lo : lo + len(c)] = a.float().cpu()
                    choice[lo : lo + len(c)] = ch.cpu()
                else:
                    out[lo : lo + len(c)] = act(raw, gumbel=True, generator=generator).float().cpu()
        finally:
            net.train(was_training)
        return (alpha, choice) if parts else out

    @torch.no_grad()
    def critic_scores(self, packs: Tensor, classes: Tensor, categories: Tensor, batch_size: int = 4096) -> Tensor:
        """Discriminator output for packs of encoded rows ``(n, pac, d)`` with their conditions ``(n, pac)``."""
        was_training = self.discriminator.training
        self.discriminator.eval()
        try:
            scores = []
            for lo in range(0, packs.shape[0], batch_size):
                x = packs[lo : lo + batch_size].to(self.device)
                c = classes[lo : lo + batch_size].to(self.device)
                k = categories[lo : lo + batch_size].to(self.device)
                cond = self.condition(c, k)
                scores.append(self.discriminator(x, cond).float().cpu())
            return torch.cat(scores) if scores else torch.zeros(0)
        finally:
            self.discriminator.train(was_training)

    def weights(self) -> dict[str, Tensor]:
        """Persistent tensors (networks and EMA copy) for safetensors."""
        return {k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()}

    @classmethod
    def from_weights(cls, hparams: dict, tensors: dict[str, Tensor]) -> "TabularGAN":
        """Rebuild a trained module from its hyper-parameters and :meth:`weights`."""
        hp = dict(hparams)
        spans = hp.pop("spans")
        n_classes = hp.pop("n_classes")
        positions = hp.pop("category_positions")
        hp["betas"] = tuple(hp.get("betas", (0.5, 0.9)))
        module = cls(spans, n_classes, positions, **hp)
        module.load_state_dict(tensors)
        module.eval()
        return module


def category_positions(discrete_spans) -> list[int]:
    """Encoded column of every level of every discrete span, in order."""
    return [int(p) for s in discrete_spans for p in np.arange(s.start, s.start + s.width)]
