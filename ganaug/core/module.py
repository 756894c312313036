"""``GANModule``: the one adversarial training step, shared by every modality.

A subclass supplies networks and data plumbing only:

* ``self.generator`` and ``self.discriminator`` (``nn.Module``);
* :meth:`GANModule.sample_noise` (default: standard normal of ``latent_dim``);
* :meth:`GANModule.split_batch` (default: ``(x, y)`` tuples or a bare tensor);
* optionally :meth:`GANModule.generate` / :meth:`GANModule.discriminate` when
  the networks take other arguments, and the extra-loss hooks
  :meth:`GANModule.discriminator_extra_loss` / :meth:`GANModule.generator_extra_loss`
  (ACGAN classifier, InfoGAN mutual information, a tabular condition loss...)
  and :meth:`GANModule.discriminator_logit_loss` (a term on the
  discriminator's own outputs, e.g. LeCam regularisation).

How a step works (losses, ``n_critic``, gradient penalty, weight clipping,
label smoothing, instance noise, unrolled discriminator, generator EMA, the
NaN guard and the gradient-norm diagnostics) lives here and nowhere else.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
from torch import Tensor, nn

from ganaug.core.ema import EMA
from ganaug.core.latent import sample_latent
from ganaug.core.losses import AdversarialLoss, get_loss, gradient_penalty
from ganaug.exceptions import NonFiniteLossError

__all__ = ["GANModule"]


def adam(params, fused: bool = True, **options) -> torch.optim.Adam:
    """``torch.optim.Adam``, with the fused kernel (``fused=True``) where torch has one for these tensors.

    For small networks the per-tensor Python loop of the default Adam is a
    tenth of a training step on CPU; the fused step does the same update in one
    call (about 3.5x faster, same algorithm; results agree to float rounding).
    Falls back to the default implementation where fusing is not supported.
    """
    params = list(params)
    fusable = fused and bool(params) and all(
        p.dtype in (torch.float32, torch.float64) and p.device.type in ("cpu", "cuda") for p in params
    ) and len({p.device for p in params}) == 1
    if fusable:
        try:
            return torch.optim.Adam(params, fused=True, **options)
        except (RuntimeError, TypeError, ValueError):
            pass
    return torch.optim.Adam(params, **options)


def _grad_norm(params) -> float:
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return 0.0
    return float(torch.nn.utils.get_total_norm(grads, norm_type=2.0))


def check_gp_every(gp_every) -> int:
    """``gp_every`` as an int; a ValueError naming the value unless it is an int >= 1.

    Examples
    --------
    >>> from ganaug.core.module import check_gp_every
    >>> check_gp_every(4)
    4
    >>> check_gp_every(0)
    Traceback (most recent call last):
    ...
    ValueError: gp_every must be an int >= 1, got 0
    """
    if isinstance(gp_every, (bool, np.bool_)) or not isinstance(gp_every, (int, np.integer)) or gp_every < 1:
        raise ValueError(f"gp_every must be an int >= 1, got {gp_every!r}")
    return int(gp_every)


class GANModule(pl.LightningModule):
    """Base LightningModule for adversarial training with manual optimisation.

    Parameters
    ----------
    latent_dim : int or tuple of int, default=64
        Shape of one latent vector for :meth:`sample_noise`.
    loss : str or AdversarialLoss, default="nonsaturating"
        Any name of :func:`ganaug.core.losses.available_losses`.
    loss_options : dict, optional
        Extra options of the loss (``clip_value``, ``gp_weight``).
    real_label : float, default=1.0
        One-sided label smoothing target (0.1..0.9), 1.0 = off.
    n_critic : int, default=1
        Discriminator steps per generator step (5 is usual for WGAN).
    lr_g, lr_d : float, default=2e-4
        Adam learning rates of generator and discriminator (different values
        give the two time-scale update rule, TTUR).
    betas : tuple of float, default=(0.5, 0.999)
        Adam betas for both networks.
    ema_decay : float, optional
        When set, an exponential moving average of the generator is kept and
        used by :meth:`generate_samples`.
    unrolled_steps : int, default=0
        Unrolled GAN (Metz et al., 2017): before each generator step the
        discriminator is updated ``k`` extra times on the current batch, the
        generator is trained against that look-ahead discriminator, then the
        discriminator (and its optimiser) are restored. First-order variant.
    instance_noise : float, default=0.0
        Std of Gaussian noise added to real and fake inputs of the
        discriminator, annealed linearly to 0 over ``max_epochs``.
    record_history : bool, default=True
        Keep per-step losses and gradient norms in :attr:`history` (used by
        the diagnostics and plots).
    gp_every : int, default=1
        Lazy gradient penalty (the lazy regularisation of StyleGAN2, Karras et
        al., 2020): with a loss that has a gradient penalty (``"wgan-gp"``),
        the penalty is computed only on every ``gp_every``-th discriminator
        step (the first one included) and weighted by ``gp_every`` there, so
        its average strength is unchanged. Its double backward is a large
        share of a small network's step; 1 computes it at every step.

    Attributes
    ----------
    history : list of dict
        One entry per discriminator step: ``epoch``, ``step``, ``d_loss``,
        ``grad_norm_d`` and, on generator steps, ``g_loss``, ``grad_norm_g``;
        ``wasserstein`` for the Wasserstein losses; ``gradient_penalty`` (the
        unweighted penalty) on the steps that compute it.

    Examples
    --------
    A minimal 2-D GAN:

    >>> import torch, lightning.pytorch as pl
    >>> from torch import nn
    >>> from ganaug.core import GANModule
    >>> class TinyGAN(GANModule):
    ...     def __init__(self, **kw):
    ...         super().__init__(latent_dim=4, **kw)
    ...         self.generator = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
    ...         self.discriminator = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1))
    >>> data = torch.utils.data.DataLoader(torch.randn(64, 2), batch_size=32)
    >>> gan = TinyGAN(loss="wgan-gp")
    >>> trainer = pl.Trainer(max_epochs=1, logger=False, enable_progress_bar=False,
    ...                      enable_checkpointing=False, enable_model_summary=False)
    >>> trainer.fit(gan, data)
    >>> gan.generate_samples(5).shape
    torch.Size([5, 2])
    """

    generator: nn.Module
    discriminator: nn.Module

    def __init__(
        self,
        *,
        latent_dim: int | tuple[int, ...] = 64,
        loss: str | AdversarialLoss = "nonsaturating",
        loss_options: dict | None = None,
        real_label: float = 1.0,
        n_critic: int = 1,
        lr_g: float = 2e-4,
        lr_d: float = 2e-4,
        betas: tuple[float, float] = (0.5, 0.999),
        ema_decay: float | None = None,
        unrolled_steps: int = 0,
        instance_noise: float = 0.0,
        record_history: bool = True,
        gp_every: int = 1,
    ) -> None:
        super().__init__()
        self.automatic_optimization = False
        opts = dict(loss_options or {})
        if real_label != 1.0:
            opts["real_label"] = real_label
        self.adversarial_loss = get_loss(loss, **opts)
        if int(n_critic) < 1:
            raise ValueError(f"n_critic must be >= 1, got {n_critic}")
        if int(unrolled_steps) < 0:
            raise ValueError(f"unrolled_steps must be >= 0, got {unrolled_steps}")
        if instance_noise < 0:
            raise ValueError(f"instance_noise must be >= 0, got {instance_noise}")
        for name, lr in (("lr_g", lr_g), ("lr_d", lr_d)):
            if not lr > 0:
                raise ValueError(f"{name} must be > 0, got {lr}")
        if ema_decay is not None and not 0.0 < ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in (0, 1) or None, got {ema_decay}")
        self.gp_every = check_gp_every(gp_every)
        self.latent_dim = latent_dim
        self.n_critic = int(n_critic)
        self.lr_g = float(lr_g)
        self.lr_d = float(lr_d)
        self.betas = tuple(float(b) for b in betas)
        self.ema_decay = ema_decay
        self.unrolled_steps = int(unrolled_steps)
        self.instance_noise = float(instance_noise)
        self.record_history = record_history
        self.history: list[dict[str, float]] = []
        self._batches_seen = 0
        self.generator_ema: EMA | None = None

    # ------------------------------------------------------------------ hooks
    def sample_noise(
        self,
        n: int,
        generator: torch.Generator | None = None,
        truncation: float | None = None,
        device: torch.device | str | None = None,
    ) -> Tensor:
        """Latent batch for ``n`` samples (override for structured latents).

        ``device`` defaults to the module's device; sampling passes the device
        of its ``torch.Generator`` so CPU and GPU runs draw the same numbers.
        """
        return sample_latent(
            n, self.latent_dim, truncation=truncation, generator=generator,
            device=self.device if device is None else device,
        )

    def split_batch(self, batch: Any) -> tuple[Tensor, Tensor | None]:
        """Turn a loader batch into ``(real, condition)``; condition may be None."""
        if isinstance(batch, (tuple, list)):
            if len(batch) == 1:
                return batch[0], None
            return batch[0], batch[1]
        return batch, None

    def generate(self, z: Tensor, cond: Tensor | None = None, network: nn.Module | None = None) -> Tensor:
        """Run the generator (or ``network``, e.g. the EMA copy) on latents and conditions."""
        net = self.generator if network is None else network
        return net(z) if cond is None else net(z, cond)

    def discriminate(self, x: Tensor, cond: Tensor | None = None) -> Tensor | tuple[Tensor, dict]:
        """Discriminator output: logits ``(N,)``, or ``(logits, extras)`` for auxiliary heads."""
        return self.discriminator(x) if cond is None else self.discriminator(x, cond)

    def fake_condition(self, real_cond: Tensor | None, n: int) -> Tensor | None:
        """Condition for the fakes of a step; default: the real batch's own."""
        return real_cond

    def discriminator_extra_loss(
        self, real: Tensor, fake: Tensor, cond: Tensor | None, real_extras: dict, fake_extras: dict, z: Tensor
    ) -> Tensor | None:
        """Extra term added to the discriminator loss (e.g. ACGAN class loss)."""
        return None

    def generator_extra_loss(
        self, real: Tensor, fake: Tensor, cond: Tensor | None, fake_extras: dict, z: Tensor
    ) -> Tensor | None:
        """Extra term added to the generator loss (e.g. InfoGAN, condition loss)."""
        return None

    def discriminator_logit_loss(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor | None:
        """Extra term on the discriminator's logits ``(N,)`` for the step's real and fake batch.

        Added to the discriminator loss right after the adversarial loss
        (e.g. LeCam regularisation); a subclass may also read the logits here
        (e.g. the overfitting signal of adaptive augmentation). Default: none.
        """
        return None

    def generator_parameters(self):
        """Parameters updated by the generator optimiser."""
        return self.generator.parameters()

    def discriminator_parameters(self):
        """Parameters updated by the discriminator optimiser."""
        return self.discriminator.parameters()

    # -------------------------------------------------------------- plumbing
    def _ensure_ema(self) -> None:
        if self.ema_decay is not None and self.generator_ema is None:
            self.generator_ema = EMA(self.generator, self.ema_decay)

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        if any(k.startswith("generator_ema.") for k in state_dict):
            if self.ema_decay is None:
                self.ema_decay = 0.999
            self._ensure_ema()
        return super().load_state_dict(state_dict, strict=strict, assign=assign)

    def setup(self, stage: str) -> None:
        # before the strategy moves/wraps the model, so the EMA copy travels with it
        self._ensure_ema()

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["ganaug_batches_seen"] = self._batches_seen

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        self._batches_seen = int(checkpoint.get("ganaug_batches_seen", 0))
        if any(k.startswith("generator_ema.") for k in checkpoint.get("state_dict", {})):
            self._ensure_ema()

    #: use torch's fused Adam kernel (a subclass opts in: the update is the same, but its rounding
    #: differs from the default kernel's, so seeded results of existing models would change)
    fused_adam: bool = False

    def configure_optimizers(self):
        opt_g = adam(self.generator_parameters(), fused=self.fused_adam, lr=self.lr_g, betas=self.betas)
        opt_d = adam(self.discriminator_parameters(), fused=self.fused_adam, lr=self.lr_d, betas=self.betas)
        return [opt_g, opt_d]

    def _logits(self, x: Tensor, cond: Tensor | None) -> tuple[Tensor, dict]:
        out = self.discriminate(x, cond)
        if isinstance(out, tuple):
            logits, extras = out
        else:
            logits, extras = out, {}
        return logits.reshape(-1), extras

    def _noise_std(self) -> float:
        if self.instance_noise == 0.0:
            return 0.0
        max_epochs = self.trainer.max_epochs if self._trainer is not None else None
        if not max_epochs or max_epochs < 0:
            return self.instance_noise
        return self.instance_noise * max(0.0, 1.0 - self.current_epoch / max_epochs)

    def _noisy(self, x: Tensor, std: float) -> Tensor:
        return x + std * torch.randn_like(x) if std > 0 else x

    #: a loss whose magnitude passes this has diverged even while it is still finite (saturating
    #: networks can keep a runaway loss finite: lr=1e30 gives ~1e29); no GAN loss of a healthy run comes near
    diverged_loss: float = 1e8

    def _check_finite(self, value: Tensor, what: str) -> None:
        value = value.detach()
        finite = bool(torch.isfinite(value).all())
        if not finite or float(value.abs().max()) > self.diverged_loss:
            beyond = "" if not finite else f" (beyond +-{self.diverged_loss:g})"
            raise NonFiniteLossError(
                f"{what} is {float(value.reshape(-1)[0]):.4g}{beyond} at epoch {self.current_epoch}, step {self._batches_seen} "
                f"(batch {self._batches_seen} since training started). Training diverged: lower "
                f"lr_g/lr_d (now {self.lr_g:g}/{self.lr_d:g}), use loss='wgan-gp' or 'hinge', "
                "or check the input scale."
            )

    # ----------------------------------------------------------------- steps
    def gradient_penalty_weight(self) -> float | None:
        """Weight of the gradient penalty at the current discriminator step, or None to skip it.

        ``gp_weight * gp_every`` on every ``gp_every``-th discriminator step
        (one step per training batch, counted from the first, which computes
        it; a batch's unrolled look-ahead steps follow that batch), None on
        the other steps and for losses without a penalty. A subclass with its
        own discriminator loss (e.g. CycleGAN's two critics) calls this too.

        Returns
        -------
        float or None
        """
        loss = self.adversarial_loss
        if not loss.needs_gradient_penalty:
            return None
        if self.gp_every == 1:
            return loss.gp_weight  # exactly the eager penalty
        step = max(self._batches_seen - 1, 0)  # _batches_seen is 1 during the first batch
        return loss.gp_weight * self.gp_every if step % self.gp_every == 0 else None

    def discriminator_loss(self, real: Tensor, cond: Tensor | None) -> tuple[Tensor, dict[str, float]]:
        """Discriminator loss on one batch (fakes drawn and detached here)."""
        n = real.shape[0]
        z = self.sample_noise(n)
        fake_cond = self.fake_condition(cond, n)
        with torch.no_grad():
            fake = self.generate(z, fake_cond)
        std = self._noise_std()
        real_in, fake_in = self._noisy(real, std), self._noisy(fake, std)
        real_logits, real_extras = self._logits(real_in, cond)
        fake_logits, fake_extras = self._logits(fake_in, fake_cond)
        d_loss = self.adversarial_loss.discriminator_loss(real_logits, fake_logits)
        logit_term = self.discriminator_logit_loss(real_logits, fake_logits)
        if logit_term is not None:
            d_loss = d_loss + logit_term
        logs: dict[str, float] = {}
        if self.adversarial_loss.is_wasserstein:
            logs["wasserstein"] = float((real_logits.mean() - fake_logits.mean()).detach())
        gp_weight = self.gradient_penalty_weight()
        if gp_weight is not None:
            gp = gradient_penalty(lambda x: self._logits(x, cond)[0], real_in, fake_in)
            d_loss = d_loss + gp_weight * gp
            logs["gradient_penalty"] = float(gp.detach())
        extra = self.discriminator_extra_loss(real, fake, cond, real_extras, fake_extras, z)
        if extra is not None:
            d_loss = d_loss + extra
        return d_loss, logs

    def generator_loss(self, real: Tensor, cond: Tensor | None) -> Tensor:
        """Generator loss on one batch."""
        n = real.shape[0]
        z = self.sample_noise(n)
        fake_cond = self.fake_condition(cond, n)
        fake = self.generate(z, fake_cond)
        fake_logits, fake_extras = self._logits(self._noisy(fake, self._noise_std()), fake_cond)
        g_loss = self.adversarial_loss.generator_loss(fake_logits)
        extra = self.generator_extra_loss(real, fake, cond, fake_extras, z)
        if extra is not None:
            g_loss = g_loss + extra
        return g_loss

    def _clip_discriminator(self) -> None:
        if self.adversarial_loss.needs_weight_clipping:
            c = self.adversarial_loss.clip_value
            with torch.no_grad():
                for p in self.discriminator_parameters():
                    p.clamp_(-c, c)

    def _discriminator_update(self, opt_d, real: Tensor, cond: Tensor | None, record: bool = True) -> tuple[Tensor, dict]:
        self.toggle_optimizer(opt_d)
        d_loss, logs = self.discriminator_loss(real, cond)
        self._check_finite(d_loss, "discriminator loss")
        opt_d.zero_grad(set_to_none=True)
        self.manual_backward(d_loss)
        if record:
            logs["grad_norm_d"] = _grad_norm(self.discriminator_parameters())
        opt_d.step()
        self._clip_discriminator()
        self.untoggle_optimizer(opt_d)
        return d_loss, logs

    def _generator_update(self, opt_g, real: Tensor, cond: Tensor | None, record: bool = True) -> tuple[Tensor, dict]:
        """One optimiser step of the generator on :meth:`generator_loss` (``real`` gives sizes and extra losses).

        Shared by :meth:`training_step` and subclasses with their own step
        (e.g. the differentially private tabular GAN). Returns the loss and,
        with ``record``, ``{"grad_norm_g": ...}``. The EMA update is left to
        the caller (after an unrolled discriminator is restored).
        """
        self.toggle_optimizer(opt_g)
        g_loss = self.generator_loss(real, cond)
        self._check_finite(g_loss, "generator loss")
        opt_g.zero_grad(set_to_none=True)
        self.manual_backward(g_loss)
        logs = {"grad_norm_g": _grad_norm(self.generator_parameters())} if record else {}
        opt_g.step()
        self.untoggle_optimizer(opt_g)
        return g_loss, logs

    def training_step(self, batch: Any, batch_idx: int) -> None:
        # a subclass may add optimisers after these two (e.g. an embedder optimiser)
        opt_g, opt_d = self.optimizers()[:2]
        real, cond = self.split_batch(batch)
        self._batches_seen += 1
        record: dict[str, float] = {"epoch": float(self.current_epoch), "step": float(self._batches_seen)}

        d_loss, logs = self._discriminator_update(opt_d, real, cond)
        record["d_loss"] = float(d_loss.detach())
        record.update(logs)

        if self._batches_seen % self.n_critic == 0:
            saved = None
            if self.unrolled_steps:
                saved = (
                    copy.deepcopy(self.discriminator.state_dict()),
                    copy.deepcopy(opt_d.optimizer.state_dict()),
                )
                for _ in range(self.unrolled_steps):
                    self._discriminator_update(opt_d, real, cond, record=False)
            g_loss, logs = self._generator_update(opt_g, real, cond)
            record.update(logs)
            if saved is not None:
                self.discriminator.load_state_dict(saved[0])
                opt_d.optimizer.load_state_dict(saved[1])
            if self.generator_ema is not None:
                self.generator_ema.update(self.generator)
            record["g_loss"] = float(g_loss.detach())

        self._log_record(record, real.shape[0])
        if self.record_history:
            self.history.append(record)

    def _log_record(self, record: dict[str, float], batch_size: int) -> None:
        """Send the step's values to Lightning's loggers / progress bar.

        ``self.log`` costs about a millisecond per value, as much as a small
        network's whole step, so values go out only every
        ``trainer.log_every_n_steps`` batches and only when a logger or a
        progress bar will read them. :attr:`history` keeps every step anyway.
        """
        trainer = self._trainer
        if trainer is None:
            return
        has_bar = trainer.progress_bar_callback is not None
        if not trainer.loggers and not has_bar:
            return
        every = max(1, int(getattr(trainer, "log_every_n_steps", 50) or 1))
        if self._batches_seen % every and self._batches_seen != 1:
            return
        for key, value in record.items():
            if key in ("epoch", "step"):
                continue
            on_bar = key in ("d_loss", "g_loss")
            if trainer.loggers or on_bar:
                self.log(key, value, prog_bar=on_bar, on_step=True, on_epoch=False, batch_size=batch_size)

    # --------------------------------------------------------------- sampling
    @torch.no_grad()
    def generate_samples(
        self,
        n: int,
        cond: Tensor | None = None,
        truncation: float | None = None,
        generator: torch.Generator | None = None,
        batch_size: int = 4096,
        use_ema: bool = True,
    ) -> Tensor:
        """Draw ``n`` samples in batches (EMA generator when present), in eval mode.

        Parameters
        ----------
        n : int
        cond : Tensor, optional
            One condition per sample (length ``n``).
        truncation : float, optional
            Truncation trick threshold for the latents.
        generator : torch.Generator, optional
            Source of latent randomness, for repeatable samples.
        batch_size : int, default=4096
        use_ema : bool, default=True

        Returns
        -------
        Tensor on the module's device, ``n`` samples.
        """
        if cond is not None and len(cond) != n:
            raise ValueError(f"cond has {len(cond)} entries for n={n} samples")
        self._ensure_ema()
        network = self.generator_ema.module if (use_ema and self.generator_ema is not None) else self.generator
        was_training = network.training
        network.eval()
        try:
            chunks = []
            for start in range(0, n, batch_size):
                m = min(batch_size, n - start)
                z = self._noise_for_sampling(m, generator, truncation)
                c = None if cond is None else cond[start : start + m].to(self.device)
                chunks.append(self.generate(z, c, network=network))
            if not chunks:
                return self.generate(self._noise_for_sampling(0, generator, truncation),
                                     None if cond is None else cond.to(self.device), network=network)
            return torch.cat(chunks, dim=0)
        finally:
            network.train(was_training)

    def _noise_for_sampling(self, n: int, generator: torch.Generator | None, truncation: float | None) -> Tensor:
        if generator is None:
            return self.sample_noise(n, truncation=truncation)
        # draw on the generator's own device, then move: same numbers on CPU and GPU
        z = self.sample_noise(n, generator=generator, truncation=truncation, device=generator.device)
        return z.to(self.device)

    @property
    def n_generator_steps(self) -> int:
        return self._batches_seen // self.n_critic

    def epoch_history(self) -> list[dict[str, float]]:
        """:attr:`history` averaged per epoch (NaN where a value was never logged)."""
        by_epoch: dict[int, dict[str, list[float]]] = {}
        for rec in self.history:
            bucket = by_epoch.setdefault(int(rec["epoch"]), {})
            for k, v in rec.items():
                if k not in ("epoch", "step"):
                    bucket.setdefault(k, []).append(v)
        keys = sorted({k for b in by_epoch.values() for k in b})
        out = []
        for epoch in sorted(by_epoch):
            row = {"epoch": float(epoch)}
            for k in keys:
                vals = by_epoch[epoch].get(k, [])
                row[k] = sum(vals) / len(vals) if vals else math.nan
            out.append(row)
        return out
