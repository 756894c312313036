"""Differentially private GAN training: DP-SGD on the discriminator (optional extra ``ganaug[privacy]``).

The generator never sees a real row, only the discriminator's judgement of
its fakes, so if the discriminator is trained with DP-SGD the generator (and
everything sampled from it) inherits the discriminator's guarantee by
post-processing (Xie et al., 2018, *DPGAN*; Jordon et al., 2019).

What one DP-SGD discriminator step does here:

1. **Poisson sampling**: every training row joins the batch independently
   with probability ``q = batch_size / n`` (what the privacy accounting assumes).
2. **Per-row gradients**: the part of the discriminator's loss that touches
   one real row (the adversarial loss on it, the WGAN-GP penalty on its
   interpolate with a fake drawn for it, the auxiliary classifier's loss) is
   differentiated per row with ``torch.func`` (``vmap(grad(...))``); Opacus's
   module hooks cannot take the double backward of the gradient penalty,
   ``torch.func`` can. The fake-only parts (the loss on fakes drawn for
   public conditions, the twin classifier) touch no row and are added as an
   ordinary batched gradient, unclipped and without noise.
3. **Clip and noise** as in Opacus's ``DPOptimizer``: each row's gradient is
   scaled to norm at most ``max_grad_norm`` (C), summed, Gaussian noise of std
   ``noise_multiplier * C`` is added and the sum is divided by the expected
   batch size ``q n``; then the usual Adam step.
4. **Accounting** with Opacus's accountant (``"rdp"`` by default; ``"prv"``,
   ``"gdp"``): the noise multiplier is calibrated before training so that
   ``epochs * steps_per_epoch`` steps spend ``epsilon`` at ``delta``, and the
   epsilon actually spent is read back from the accountant after training.

Rows, not packs, are the privacy unit, so the discriminator sees one row per
input (``pac=1``), and the training conditions use only the row's class:
CTGAN's training-by-sampling picks rows by the frequency of their levels
(a data-dependent sampling that the accounting does not cover), and
generation conditions drawn from level frequencies would release those
frequencies. Class counts are treated as public (the augmenter needs them to
decide how many rows to add).

**Not covered** by the guarantee (as in DP-CTGAN and most DP synthesisers):
the column encoding is fitted on the raw rows without noise (the levels kept
per categorical column, numeric ranges and Gaussian modes, missing-value
indicators). Treat the schema as public; a single extreme value can show
up as a column's range. Marginal calibration (``calibrate=True``) would fit
on raw marginals, so it is switched off under ``dp``; the discriminator
filter (``filter_synthetic``) only uses the private discriminator and stays.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from ganaug.tabular.model import TabularGAN

__all__ = ["DPSettings", "DPTabularGAN", "check_dp", "epsilon_spent", "make_private", "noise_multiplier_for"]

_ACCOUNTANTS = ("rdp", "prv", "gdp")
_KEYS = ("epsilon", "delta", "max_grad_norm", "accountant", "noise_multiplier", "max_noise_multiplier")
#: above this noise the averaged gradient is mostly noise: refuse instead of training a useless model
_DEFAULT_MAX_NOISE = 50.0


def _require_opacus():
    try:
        import opacus  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "differential privacy (dp=...) needs Opacus, the optional extra of ganaug: pip install ganaug[privacy]"
        ) from exc


class DPSettings(dict):
    """Validated DP settings (a dict: ``epsilon``, ``delta``, ``max_grad_norm``, ``accountant``, ...)."""


def check_dp(dp, n_rows: int) -> DPSettings:
    """Validate a ``dp`` dict against the number of training rows.

    Parameters
    ----------
    dp : dict
        ``epsilon`` (> 0, required unless ``noise_multiplier`` is given),
        ``delta`` (in (0, 1/n), default ``1 / (10 n)``), ``max_grad_norm``
        (C, > 0, default 1.0), ``accountant`` (``"rdp"``, ``"prv"`` or
        ``"gdp"``, default ``"rdp"``), ``noise_multiplier`` (fix the noise
        instead of calibrating it to ``epsilon``), ``max_noise_multiplier``
        (default 50: refuse budgets that need more noise).
    n_rows : int
        Rows the discriminator trains on.

    Examples
    --------
    >>> from ganaug.privacy.dp import check_dp
    >>> s = check_dp({"epsilon": 3}, n_rows=1000)
    >>> s["delta"], s["max_grad_norm"], s["accountant"]
    (0.0001, 1.0, 'rdp')
    >>> check_dp({"epsilon": 3, "delta": 0.01}, n_rows=1000)
    Traceback (most recent call last):
    ...
    ValueError: dp delta must be < 1/n = 0.001 for n = 1000 training rows (a delta of 1/n allows releasing a whole row), got 0.01
    """
    if not isinstance(dp, dict):
        raise TypeError(f"dp must be a dict such as {{'epsilon': 3.0, 'delta': 1e-5, 'max_grad_norm': 1.0}}, got {dp!r}")
    unknown = sorted(set(dp) - set(_KEYS))
    if unknown:
        raise ValueError(f"unknown dp setting(s) {unknown}; known: {list(_KEYS)}")
    n_rows = int(n_rows)
    if n_rows < 2:
        raise ValueError(f"differential privacy needs at least 2 training rows, got {n_rows}")

    def number(key, default=None):
        v = dp.get(key, default)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not math.isfinite(v):
            raise ValueError(f"dp {key} must be a finite number, got {v!r}")
        return float(v)

    eps = number("epsilon")
    sigma = number("noise_multiplier")
    if eps is None and sigma is None:
        raise ValueError("dp needs 'epsilon' (the privacy budget) or a fixed 'noise_multiplier'")
    if eps is not None and eps <= 0:
        raise ValueError(f"dp epsilon must be > 0, got {eps:g}")
    if sigma is not None and sigma <= 0:
        raise ValueError(f"dp noise_multiplier must be > 0, got {sigma:g}")
    delta = number("delta", 1.0 / (10 * n_rows))
    if not 0 < delta < 1.0 / n_rows:
        raise ValueError(f"dp delta must be < 1/n = {1.0 / n_rows:.3g} for n = {n_rows} training rows "
                         f"(a delta of 1/n allows releasing a whole row), got {delta:g}")
    if not delta > 0:
        raise ValueError(f"dp delta must be > 0, got {delta:g}")
    c = number("max_grad_norm", 1.0)
    if c <= 0:
        raise ValueError(f"dp max_grad_norm must be > 0, got {c:g}")
    acc = dp.get("accountant", "rdp")
    if acc not in _ACCOUNTANTS:
        raise ValueError(f"dp accountant must be one of {list(_ACCOUNTANTS)}, got {acc!r}")
    cap = number("max_noise_multiplier", _DEFAULT_MAX_NOISE)
    if cap <= 0:
        raise ValueError(f"dp max_noise_multiplier must be > 0, got {cap:g}")
    return DPSettings(epsilon=eps, delta=delta, max_grad_norm=c, accountant=acc, noise_multiplier=sigma,
                      max_noise_multiplier=cap)


def epsilon_spent(noise_multiplier: float, sample_rate: float, steps: int, delta: float, accountant: str = "rdp") -> float:
    """Epsilon of ``steps`` Poisson-subsampled Gaussian steps, from Opacus's accountant.

    Examples
    --------
    >>> from ganaug.privacy.dp import epsilon_spent
    >>> round(epsilon_spent(1.0, 0.01, 1000, 1e-5), 2)  # doctest: +SKIP
    1.04
    """
    _require_opacus()
    from opacus.accountants import create_accountant

    if steps <= 0:
        return 0.0
    acc = create_accountant(mechanism=accountant)
    acc.history = [(float(noise_multiplier), float(sample_rate), int(steps))]
    return float(acc.get_epsilon(delta=float(delta)))


def noise_multiplier_for(epsilon: float, delta: float, sample_rate: float, steps: int, accountant: str = "rdp",
                         max_noise_multiplier: float = _DEFAULT_MAX_NOISE) -> float:
    """Smallest noise multiplier (Opacus's search) that keeps ``steps`` steps within ``(epsilon, delta)``.

    Raises ``ValueError`` when no noise up to ``max_noise_multiplier`` meets the target.
    """
    _require_opacus()
    from opacus.accountants.utils import get_noise_multiplier

    advice = ("raise epsilon, or train fewer steps (epochs) or with a smaller sampling rate (batch_size / rows)")
    at_cap = epsilon_spent(max_noise_multiplier, sample_rate, steps, delta, accountant)
    if at_cap > epsilon:  # fail fast: Opacus's search would double the noise up to 1e6 first
        raise ValueError(
            f"dp epsilon={epsilon:g} at delta={delta:g} over {steps} steps at sampling rate {sample_rate:.3g} needs "
            f"noise multiplier above max_noise_multiplier={max_noise_multiplier:g} (that much noise still spends "
            f"epsilon={at_cap:.3g}): the discriminator would learn mostly noise; {advice}"
        )
    try:
        sigma = float(get_noise_multiplier(target_epsilon=float(epsilon), target_delta=float(delta),
                                           sample_rate=float(sample_rate), steps=int(steps), accountant=accountant,
                                           epsilon_tolerance=0.01 * float(epsilon)))
    except ValueError as exc:
        raise ValueError(f"dp epsilon={epsilon:g} at delta={delta:g} cannot be met in {steps} steps at sampling rate "
                         f"{sample_rate:.3g} ({exc}); {advice}") from None
    if sigma > max_noise_multiplier:
        raise ValueError(
            f"dp epsilon={epsilon:g} at delta={delta:g} over {steps} steps at sampling rate {sample_rate:.3g} needs "
            f"noise multiplier {sigma:.1f} (> max_noise_multiplier={max_noise_multiplier:g}): the discriminator "
            f"would learn mostly noise; {advice}"
        )
    return sigma


class _PoissonBatches(torch.utils.data.Sampler):
    """``steps`` batches per epoch; each row joins a batch independently with probability ``q``."""

    def __init__(self, n: int, q: float, steps: int, seed: int) -> None:
        self.n, self.q, self.steps, self.seed = int(n), float(q), int(steps), int(seed)
        self.epoch = 0

    def __len__(self) -> int:
        return self.steps

    def __iter__(self):
        rng = np.random.default_rng([self.seed, 7919, self.epoch])
        self.epoch += 1
        for _ in range(self.steps):  # one vectorised draw per step
            yield np.flatnonzero(rng.random(self.n) < self.q)


class _Rows(torch.utils.data.Dataset):
    def __init__(self, encoded: Tensor, classes: Tensor) -> None:
        self.encoded, self.classes = encoded, classes

    def __len__(self) -> int:
        return self.encoded.shape[0]

    def __getitem__(self, idx):
        idx = torch.as_tensor(np.asarray(idx), dtype=torch.long)
        rows = self.encoded[idx]
        return rows, self.classes[idx], torch.full((len(idx),), -1, dtype=torch.long)


class DPTabularGAN(TabularGAN):
    """:class:`~ganaug.tabular.TabularGAN` whose discriminator (and auxiliary classifiers) train with DP-SGD.

    Built by :func:`make_private`; the weights and hyper-parameters are those
    of a plain ``TabularGAN`` with ``pac=1`` (it saves and loads as one).
    """

    def configure_dp(self, noise_multiplier: float, max_grad_norm: float, sample_rate: float, n_rows: int,
                     class_probs: np.ndarray) -> None:
        if self.pac != 1:
            raise ValueError("DP training needs pac=1 (one row per discriminator input)")
        if self.unrolled_steps:
            raise ValueError("DP training does not support unrolled discriminator steps")
        if self.gp_every != 1:
            # the per-row DP step computes the penalty inside each row's clipped gradient at every step
            raise ValueError(f"DP training does not support a lazy gradient penalty: gp_every must be 1, got "
                             f"{self.gp_every}")
        self.dp_noise_multiplier = float(noise_multiplier)
        self.dp_max_grad_norm = float(max_grad_norm)
        self.dp_sample_rate = float(sample_rate)
        self.dp_expected_batch = float(sample_rate) * int(n_rows)
        self.dp_steps = 0
        self.register_buffer("dp_class_probs", torch.as_tensor(class_probs, dtype=torch.float32), persistent=False)

    # ------------------------------------------------------------ DP step
    def _dp_networks(self) -> dict:
        nets = {"discriminator": self.discriminator}
        if self.classifier is not None:
            nets["classifier"] = self.classifier
        if self.twin is not None:
            nets["twin"] = self.twin
        return nets

    def _per_row_gradients(self, real: Tensor, cond: Tensor, fake: Tensor, alpha: Tensor | None = None) -> dict:
        """Gradient of each real row's part of the discriminator loss, ``{param name: (n, *shape)}``.

        A row's part: the adversarial loss on the real row, the gradient
        penalty on its interpolate with ``fake[i]`` (drawn for its condition)
        at weight ``alpha[i]`` (random by default), and the auxiliary
        classifier's loss on the row. The fake-only parts of the loss depend
        on no row and are added batched (:meth:`_public_fake_gradients`).
        Every adversarial loss of :mod:`ganaug.core.losses` is a sum of a
        real and a fake part, so ``L(real, 0) `` carries the real part's
        gradient exactly.
        """
        from torch.func import functional_call, grad, vmap

        nets = self._dp_networks()
        params = {f"{k}.{n}": p.detach() for k, net in nets.items() for n, p in net.named_parameters()}
        loss_fn = self.adversarial_loss
        gp_weight = getattr(loss_fn, "gp_weight", 10.0)
        use_gp = loss_fn.needs_gradient_penalty
        if alpha is None:
            alpha = torch.rand(real.shape[0], device=real.device, dtype=real.dtype)

        def sub(p, name):
            pre = name + "."
            return {k[len(pre):]: v for k, v in p.items() if k.startswith(pre)}

        def row_loss(p, x, c, f, a):
            d_params = sub(p, "discriminator")

            def critic(v):
                return functional_call(nets["discriminator"], d_params, (v.view(1, 1, -1), c.view(1, 1, 2)))

            real_logit = critic(x)
            loss = loss_fn.discriminator_loss(real_logit, torch.zeros_like(real_logit).detach())
            if use_gp:
                mixed = a * x + (1 - a) * f
                g = grad(lambda v: critic(v).sum())(mixed)
                loss = loss + gp_weight * (torch.sqrt((g * g).sum() + 1e-12) - 1.0) ** 2
            if "classifier" in nets:
                logits = functional_call(nets["classifier"], sub(p, "classifier"), (x.view(1, -1),))
                loss = loss + torch.nn.functional.cross_entropy(logits, c[0].view(1))
            return loss

        per_row = vmap(grad(row_loss), in_dims=(None, 0, 0, 0, 0), randomness="different")
        return per_row(params, real.reshape(real.shape[0], -1), cond.reshape(-1, 2), fake.reshape(fake.shape[0], -1),
                       alpha)

    def _ghost_supported(self) -> bool:
        """Every parameter of the private networks sits in a Linear or Embedding layer (and no gradient penalty)."""
        if self.adversarial_loss.needs_gradient_penalty:
            return False
        covered = set()
        for net in self._dp_networks().values():
            for mod in net.modules():
                if isinstance(mod, (torch.nn.Linear, torch.nn.Embedding)):
                    covered.update(id(p) for p in mod.parameters(recurse=False))
        return all(id(p) in covered for net in self._dp_networks().values() for p in net.parameters())

    def _ghost_clipped_sum(self, real: Tensor, cond: Tensor, max_norm: float) -> tuple[dict, Tensor]:
        """Sum of per-row gradients clipped to ``max_norm``, without materialising them ("ghost clipping").

        One batched forward and backward of the rows' loss parts records each
        Linear layer's inputs ``a_i`` and output gradients ``g_i`` (and each
        Embedding's indices): a row's weight gradient is ``g_i a_i^T``, with
        squared norm ``|g_i|^2 |a_i|^2``, so the per-row norms come from two
        vector norms per layer, and the clipped sum is one matrix product
        ``(s * g)^T a`` (Li et al., 2022; Opacus's ghost clipping). Valid
        because each layer is applied once per row, to that row only.
        """
        nets = self._dp_networks()
        records: list = []
        handles = []

        def hook(mod, inputs, output):
            records.append((mod, inputs[0].detach(), output))

        for net in nets.values():
            for mod in net.modules():
                if isinstance(mod, (torch.nn.Linear, torch.nn.Embedding)):
                    handles.append(mod.register_forward_hook(hook))
        try:
            with torch.enable_grad():
                logits, _ = self._logits(real, cond)
                per_row = self.adversarial_loss.discriminator_loss(logits, torch.zeros_like(logits)) * len(logits)
                if self.classifier is not None:
                    per_row = per_row + self._class_loss(self.classifier, real, cond) * len(logits)
                outs = [r[2] for r in records]
                grads = torch.autograd.grad(per_row, outs, allow_unused=True)
        finally:
            for h in handles:
                h.remove()
        n = real.shape[0]
        sq = torch.zeros(n, device=real.device)
        terms = []
        for (mod, a, out), g in zip(records, grads):
            if g is None:
                continue
            g = g.reshape(n, -1).detach()
            if isinstance(mod, torch.nn.Linear):
                a = a.reshape(n, -1)
                sq = sq + g.pow(2).sum(1) * a.pow(2).sum(1)
                if mod.bias is not None:
                    sq = sq + g.pow(2).sum(1)
            else:
                sq = sq + g.pow(2).sum(1)
            terms.append((mod, a, g))
        norms = sq.sqrt()
        scale = (max_norm / (norms + 1e-6)).clamp(max=1.0)
        summed: dict = {}
        for mod, a, g in terms:
            sg = g * scale.unsqueeze(1)
            if isinstance(mod, torch.nn.Linear):
                w = sg.T @ a.reshape(n, -1)
                summed[id(mod.weight)] = summed.get(id(mod.weight), 0) + w
                if mod.bias is not None:
                    summed[id(mod.bias)] = summed.get(id(mod.bias), 0) + sg.sum(0)
            else:
                w = torch.zeros_like(mod.weight).index_add_(0, a.reshape(-1).long(), sg)
                summed[id(mod.weight)] = summed.get(id(mod.weight), 0) + w
        return summed, norms

    def _public_fake_gradients(self, m: int) -> dict:
        """Gradient of the fake-only parts of the discriminator loss on ``m`` fakes with public conditions.

        No real row enters: the adversarial loss on the fakes (with a constant
        0 in the real slot) and the twin classifier's loss on them.
        """
        nets = self._dp_networks()
        named = {f"{k}.{n}": p for k, net in nets.items() for n, p in net.named_parameters()}
        g_cond = self._public_conditions(m)
        with torch.no_grad():
            fake = self.generate(self.sample_noise(m), g_cond)
        with torch.enable_grad():
            fake_logits, _ = self._logits(fake, g_cond)
            loss = self.adversarial_loss.discriminator_loss(torch.zeros_like(fake_logits), fake_logits)
            if self.twin is not None:
                loss = loss + self._class_loss(self.twin, fake, g_cond)
            params = list(named.values())
            grads = torch.autograd.grad(loss, params, allow_unused=True)
        return {k: (torch.zeros_like(p) if g is None else g) for (k, p), g in zip(named.items(), grads)}

    def _dp_discriminator_update(self, opt_d, real: Tensor, cond: Tensor) -> dict:
        nets = self._dp_networks()
        named = {f"{k}.{n}": p for k, net in nets.items() for n, p in net.named_parameters()}
        C, sigma = self.dp_max_grad_norm, self.dp_noise_multiplier
        n = real.shape[0]
        logs: dict[str, float] = {"dp_batch": float(n)}
        if n > 0 and self._ghost_supported():
            by_id, norms = self._ghost_clipped_sum(real, cond, C)
            logs["dp_clipped_share"] = float((norms > C).float().mean())
            summed = {k: by_id.get(id(p), torch.zeros_like(p)) for k, p in named.items()}
        elif n > 0:
            with torch.no_grad():
                fake = self.generate(self.sample_noise(n), cond)
            grads = self._per_row_gradients(real, cond, fake)
            norms = torch.sqrt(sum(g.reshape(n, -1).pow(2).sum(1) for g in grads.values()))
            scale = (C / (norms + 1e-6)).clamp(max=1.0)
            logs["dp_clipped_share"] = float((norms > C).float().mean())
            summed = {k: torch.einsum("i,i...->...", scale, g) for k, g in grads.items()}
        else:
            summed = {k: torch.zeros_like(p) for k, p in named.items()}
        public = self._public_fake_gradients(max(1, int(round(self.dp_expected_batch))))
        opt_d.zero_grad(set_to_none=True)
        for k, p in named.items():
            noise = torch.randn_like(p) * (sigma * C)
            p.grad = ((summed[k] + noise) / self.dp_expected_batch + public[k]).to(p.dtype)
        logs["grad_norm_d"] = float(torch.sqrt(sum((p.grad.detach() ** 2).sum() for p in named.values())))
        opt_d.step()
        self._clip_discriminator()
        self.dp_steps += 1
        return logs

    def _public_conditions(self, m: int) -> Tensor:
        """Generator conditions that depend on no row: class from the public class mix, no level."""
        classes = torch.multinomial(self.dp_class_probs, m, replacement=True)
        return self.condition(classes, torch.full_like(classes, -1)).view(m, 1, 2)

    def training_step(self, batch, batch_idx: int) -> None:
        opt_g, opt_d = self.optimizers()[:2]
        x, classes, categories = batch
        real = x.reshape(-1, 1, x.shape[-1])
        cond = self.condition(classes, categories).view(-1, 1, 2)
        self._batches_seen += 1
        record: dict[str, float] = {"epoch": float(self.current_epoch), "step": float(self._batches_seen)}
        record.update(self._dp_discriminator_update(opt_d, real, cond))
        if self._batches_seen % self.n_critic == 0:
            m = max(1, int(round(self.dp_expected_batch)))
            g_cond = self._public_conditions(m)
            placeholder = torch.zeros((m, 1, self.data_dim), device=self.device)  # sizes only: no real row
            g_loss, _ = self._generator_update(opt_g, placeholder, g_cond, record=False)
            if self.generator_ema is not None:
                self.generator_ema.update(self.generator)
            record["g_loss"] = float(g_loss.detach())
        self._log_record(record, real.shape[0])
        if self.record_history:
            self.history.append(record)


def make_private(augmenter, module: TabularGAN, encoded: np.ndarray, codes: np.ndarray, n_classes: int, seed: int):
    """Turn a tabular augmenter's training into DP-SGD training (the ``dp=`` option of ``TabularAugmenter``).

    Returns ``(module, loader, sampler)``: a :class:`DPTabularGAN` with the
    same hyper-parameters but ``pac=1``, a Poisson-sampling loader of
    ``epochs * steps`` batches, and a class-only generation sampler. The
    settings and the calibrated noise are in ``module.dp_settings``;
    :func:`privacy_spent` reads the epsilon spent after training.
    """
    from ganaug.tabular.sampler import ConditionalSampler

    _require_opacus()
    n = int(len(encoded))
    settings = check_dp(augmenter.dp, n)
    if getattr(augmenter, "backend", "ganaug") != "ganaug":
        raise ValueError("dp needs backend='ganaug' (the ctgan backend has no DP training)")
    if getattr(augmenter, "validation", None) is not None:
        raise ValueError("dp cannot be combined with validation: choosing the best epoch on held-out rows is a "
                         "non-private use of those rows; use validation=None")
    batch = min(int(augmenter.batch_size), n)
    q = batch / n
    steps_per_epoch = max(1, n // batch)
    total = int(augmenter.epochs) * steps_per_epoch
    if settings["noise_multiplier"] is None:
        sigma = noise_multiplier_for(settings["epsilon"], settings["delta"], q, total, settings["accountant"],
                                     settings["max_noise_multiplier"])
    else:
        sigma = settings["noise_multiplier"]
        planned = epsilon_spent(sigma, q, total, settings["delta"], settings["accountant"])
        if settings["epsilon"] is not None and planned > settings["epsilon"] * 1.01:
            raise ValueError(f"dp noise_multiplier={sigma:g} spends epsilon={planned:.3g} in {total} steps, more than "
                             f"the target epsilon={settings['epsilon']:g}; drop one of the two or change epochs")
    hp = dict(module.hparams)
    spans, n_cls, positions = hp.pop("spans"), hp.pop("n_classes"), hp.pop("category_positions")
    hp["pac"] = 1
    hp["betas"] = tuple(hp.get("betas", (0.5, 0.9)))
    dp_module = DPTabularGAN(spans, n_cls, positions, **hp)
    counts = np.bincount(np.asarray(codes, dtype=np.int64), minlength=max(int(n_classes), 1)).astype(np.float64)
    balance = float(getattr(augmenter, "class_balance", 1.0))
    w = np.where(counts > 0, counts ** balance, 0.0)
    dp_module.configure_dp(sigma, settings["max_grad_norm"], q, n, w / w.sum())
    dp_module.dp_settings = {**settings, "noise_multiplier": sigma, "sample_rate": q, "planned_steps": total,
                             "n_rows": n, "epsilon_target": settings["epsilon"]}
    ds = _Rows(torch.as_tensor(encoded, dtype=torch.float32), torch.as_tensor(codes, dtype=torch.long))
    loader = torch.utils.data.DataLoader(ds, sampler=_PoissonBatches(n, q, steps_per_epoch, seed), batch_size=None)
    sampler = ConditionalSampler(np.zeros((n, 0), dtype=np.int64), [], codes, max(int(n_classes), 1),
                                 class_balance=balance)
    return dp_module, loader, sampler


def privacy_spent(module: DPTabularGAN) -> dict:
    """What a DP training spent: epsilon (from Opacus's accountant), delta, noise, sampling rate, steps."""
    s = module.dp_settings
    eps = epsilon_spent(module.dp_noise_multiplier, module.dp_sample_rate, module.dp_steps, s["delta"],
                        s["accountant"])
    return {"epsilon": eps, "epsilon_target": s["epsilon_target"], "delta": s["delta"],
            "noise_multiplier": module.dp_noise_multiplier, "max_grad_norm": module.dp_max_grad_norm,
            "sample_rate": module.dp_sample_rate, "steps": int(module.dp_steps), "planned_steps": s["planned_steps"],
            "accountant": s["accountant"], "n_rows": s["n_rows"]}
