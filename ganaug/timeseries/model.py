"""``RecurrentGAN``: RCGAN and TimeGAN-style recurrent GANs on top of :class:`~ganaug.core.GANModule`.

Tensors seen by this module are already encoded (see
:mod:`ganaug.timeseries.encoding`): values ``(N, length, channels)`` scaled to
``[0, 1]`` with zeros at padding, and a condition ``(N, 2)`` int64 tensor of
``[class code, observed length]`` per series (:meth:`RecurrentGAN.make_condition`).
With ``attr_dim > 0`` the condition is a float tensor ``(N, 2 + attr_dim)``:
the same two columns followed by the encoded static attributes of each series
(DoppelGANger-style, see :mod:`ganaug.timeseries.attributes`), which every
conditional network (generator, discriminator, TimeGAN supervisor) sees at
every step.

Two modes
---------
``"rcgan"`` (Esteban et al., 2017)
    Generator: noise sequence + class embedding -> GRU/LSTM -> sigmoid values.
    Discriminator: values + class embedding -> GRU/LSTM -> one logit per step.
    The adversarial step is :class:`GANModule`'s, unchanged.
``"timegan"`` (Yoon et al., 2019)
    Adds an embedder and a recovery network (an autoencoder into a latent
    sequence space), and a supervisor that predicts the next latent step. The
    adversarial game is played in the latent space: the GANModule step sees
    ``E(x)`` as real and ``S(G(z))`` as fake. Schedule: ``embedding_epochs`` of
    autoencoder training, ``supervised_epochs`` of supervisor training, then
    joint epochs in which every batch runs the GANModule step (with TimeGAN's
    extra terms through the ``*_extra_loss`` hooks: the un-supervised fake
    path, the supervised next-step loss and the moment loss) followed by an
    embedder/recovery step.

Masks
-----
Padding sits at the end and every network is causal, so outputs at observed
steps never see padded inputs; padded inputs are also zeroed, padded
discriminator logits are a constant 0 (no gradient, no dependence on the
padding) and every reconstruction/supervised/moment loss is averaged over
observed steps only. Fakes get the lengths of the real batch they face.

Batch generation (``steps_per_output``)
---------------------------------------
DoppelGANger's batch generation (Lin et al., 2020): with ``S > 1`` every
recurrent network runs ``ceil(L / S)`` steps instead of ``L``. The
generator's head emits ``S * channels`` values per step, unfolded to
``(N, ceil(L/S) * S, channels)`` and trimmed to ``L``; the discriminator (and
TimeGAN's embedder) reads the series folded the same way, ``(N, ceil(L/S),
S * channels)`` chunks zero-padded at the end, and gives one logit per chunk.
A chunk counts as observed when any of its steps is (padded steps inside it
are zeroed first); the position feature is the chunk's position among the
series' observed chunks. Moment and reconstruction losses stay on the
unfolded ``(N, L, channels)`` series.
"""

from __future__ import annotations

import numbers
from typing import Any

import lightning.pytorch as pl
import torch
from torch import Tensor, nn

from ganaug.core.module import GANModule
from ganaug.timeseries.networks import RECURRENT_CELLS, SequenceNet

__all__ = ["RecurrentGAN"]

_MODES = ("rcgan", "timegan")
_GAN_KEYS = (
    "loss", "loss_options", "real_label", "n_critic", "lr_g", "lr_d", "betas", "ema_decay",
    "unrolled_steps", "instance_noise",
)


class FlushDenormals(pl.Callback):
    """Flush denormal floats to zero during ``fit``; restored at the end, also after an error.

    Recurrent GANs drift into denormal numbers (tiny gate values, Adam
    moments). On x86 CPUs an operation on one costs many cycles: an epoch on
    the stocks windows grew from 0.32 to 0.44 s over 90 epochs, and stays at
    0.34 s with flushing. Denormals lie below 1.2e-38 in float32; flushing
    them changes no result that matters. ``torch.set_flush_denormal`` is
    process-wide: it is set back to off (torch's default) when ``fit`` ends.
    """

    def on_fit_start(self, trainer, pl_module) -> None:
        self.active = bool(torch.set_flush_denormal(True))

    def _restore(self) -> None:
        if getattr(self, "active", False):
            torch.set_flush_denormal(False)
            self.active = False

    def on_fit_end(self, trainer, pl_module) -> None:
        self._restore()

    def on_exception(self, trainer, pl_module, exception) -> None:
        self._restore()


def _masked_mean(values: Tensor, mask: Tensor) -> Tensor:
    """Mean of ``values`` (N, L, F) over steps where ``mask`` (N, L) is True."""
    m = mask.to(values.dtype)[..., None]
    return (values * m).sum() / (m.sum() * values.shape[-1]).clamp_min(1.0)


class RecurrentGAN(GANModule):
    """Recurrent conditional GAN for (multivariate) series, with an optional TimeGAN mode.

    Parameters
    ----------
    n_channels : int
        Channels per step.
    seq_len : int
        Steps per series (the padded length for variable-length data).
    n_classes : int, default=1
        Classes to condition on (1 = unconditional).
    mode : {"rcgan", "timegan"}, default="rcgan"
    cell : {"gru", "lstm"}, default="gru"
    hidden_dim : int, default=24
        Hidden size of every recurrent network (also the TimeGAN latent size).
    num_layers : int, default=2
    noise_dim : int, optional
        Noise features per step (default: ``max(n_channels, 8)``).
    global_noise_dim : int, optional
        How many of the noise features are drawn once per series and repeated
        at every step (a per-series "style" code, which makes variety across
        series easy to produce); the rest are fresh at every step. Default
        ``noise_dim // 2``.
    cond_dim : int, default=8
        Class embedding size.
    variable_length : bool, default=False
        Feed the relative position ``t / (length - 1)`` to generator and
        discriminator so they know where each series ends.
    attr_dim : int, default=0
        Size of the static per-series attribute vector carried by the
        condition (0 = none); appended to every step's input of the
        conditional networks. Fakes get the attributes of the real batch
        they face, as they get its labels and lengths.
    embedding_epochs, supervised_epochs : int, default=0
        TimeGAN pre-training phases (epochs of the Trainer); ignored for rcgan.
    gamma : float, default=1.0
        TimeGAN weight of the un-supervised fake path ``D(G(z))``.
    supervised_weight : float, default=100.0
        TimeGAN generator weight of ``sqrt(supervised loss)``.
    moment_weight : float, optional
        Weight of the moment loss (per class, step and channel, the batch
        mean and standard deviation of fakes against reals), added to the
        generator loss; default 100 for TimeGAN (its value) and 10 for rcgan.
    lr_e : float, optional
        TimeGAN embedder/recovery learning rate (default ``lr_g``).
    steps_per_output : int, default=1
        Steps emitted per recurrent step (DoppelGANger's batch generation):
        generator and discriminator run ``ceil(seq_len / steps_per_output)``
        recurrent steps, which is what makes series of hundreds or thousands
        of steps trainable. The discriminator gives one logit per chunk of
        ``steps_per_output`` steps; the latent is ``(ceil(seq_len /
        steps_per_output), noise_dim)``. Must not exceed ``seq_len``.
    **gan_kwargs
        :class:`~ganaug.core.GANModule` options: ``loss``, ``loss_options``,
        ``real_label``, ``n_critic``, ``lr_g``, ``lr_d``, ``betas``,
        ``ema_decay``, ``unrolled_steps``, ``instance_noise``.

    Notes
    -----
    For anomaly scoring and latent inversion: :attr:`latent_shape` is the
    shape of one latent (a noise sequence), :meth:`generate_windows` maps
    latents to series differentiably, :meth:`window_scores` gives the
    discriminator's realness per series and :meth:`reconstruct` (TimeGAN mode)
    passes series through the autoencoder. With ``steps_per_output > 1``
    :meth:`step_logits` repeats each chunk's logit over its steps.

    Examples
    --------
    >>> import torch, lightning.pytorch as pl
    >>> from ganaug.core import tensor_loader
    >>> from ganaug.timeseries import RecurrentGAN
    >>> x = torch.rand(32, 12, 2)
    >>> cond = RecurrentGAN.make_condition(torch.randint(0, 2, (32,)), torch.full((32,), 12))
    >>> gan = RecurrentGAN(n_channels=2, seq_len=12, n_classes=2, hidden_dim=8)
    >>> trainer = pl.Trainer(max_epochs=1, logger=False, enable_progress_bar=False,
    ...                      enable_checkpointing=False, enable_model_summary=False)
    >>> trainer.fit(gan, tensor_loader(x, cond, batch_size=16, seed=0))
    >>> gan.generate_samples(3, cond[:3]).shape
    torch.Size([3, 12, 2])

    Batch generation: 5 recurrent steps of 3 output steps each (trimmed to 12)

    >>> gan = RecurrentGAN(n_channels=2, seq_len=12, n_classes=2, hidden_dim=8, steps_per_output=3)
    >>> gan.latent_shape, gan.generate_samples(3, cond[:3]).shape
    ((4, 8), torch.Size([3, 12, 2]))
    """

    def __init__(
        self,
        n_channels: int,
        seq_len: int,
        n_classes: int = 1,
        *,
        mode: str = "rcgan",
        cell: str = "gru",
        hidden_dim: int = 24,
        num_layers: int = 2,
        noise_dim: int | None = None,
        global_noise_dim: int | None = None,
        cond_dim: int = 8,
        variable_length: bool = False,
        attr_dim: int = 0,
        embedding_epochs: int = 0,
        supervised_epochs: int = 0,
        gamma: float = 1.0,
        supervised_weight: float = 100.0,
        moment_weight: float | None = None,
        lr_e: float | None = None,
        steps_per_output: int = 1,
        **gan_kwargs: Any,
    ) -> None:
        unknown = sorted(set(gan_kwargs) - set(_GAN_KEYS))
        if unknown:
            raise TypeError(f"RecurrentGAN got unknown arguments {unknown}")
        if mode not in _MODES:
            raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
        if cell not in RECURRENT_CELLS:
            raise ValueError(f"cell must be one of {sorted(RECURRENT_CELLS)}, got {cell!r}")
        for name, value, low in (("n_channels", n_channels, 1), ("seq_len", seq_len, 2), ("n_classes", n_classes, 1),
                                 ("hidden_dim", hidden_dim, 1), ("num_layers", num_layers, 1)):
            if int(value) < low:
                raise ValueError(f"{name} must be >= {low}, got {value}")
        if isinstance(steps_per_output, bool) or not isinstance(steps_per_output, numbers.Integral) \
                or steps_per_output < 1:
            raise ValueError(f"steps_per_output must be a positive int, got {steps_per_output!r}")
        if int(seq_len) < steps_per_output:
            raise ValueError(f"seq_len={int(seq_len)} is shorter than steps_per_output={int(steps_per_output)}: "
                             "series must have at least steps_per_output steps")
        steps_per_output = int(steps_per_output)
        n_chunks = -(-int(seq_len) // steps_per_output)
        if int(embedding_epochs) < 0 or int(supervised_epochs) < 0:
            raise ValueError("embedding_epochs and supervised_epochs must be >= 0")
        if int(attr_dim) < 0:
            raise ValueError(f"attr_dim must be >= 0, got {attr_dim}")
        if moment_weight is None:
            moment_weight = 100.0 if mode == "timegan" else 10.0
        noise_dim = int(noise_dim) if noise_dim is not None else max(int(n_channels), 8)
        global_noise_dim = noise_dim // 2 if global_noise_dim is None else int(global_noise_dim)
        if not 0 <= global_noise_dim <= noise_dim:
            raise ValueError(f"global_noise_dim must be in [0, noise_dim={noise_dim}], got {global_noise_dim}")
        super().__init__(latent_dim=(n_chunks, noise_dim), **gan_kwargs)
        self._config = {
            "n_channels": int(n_channels), "seq_len": int(seq_len), "n_classes": int(n_classes), "mode": mode,
            "cell": cell, "hidden_dim": int(hidden_dim), "num_layers": int(num_layers), "noise_dim": noise_dim,
            "global_noise_dim": global_noise_dim, "cond_dim": int(cond_dim), "variable_length": bool(variable_length),
            "attr_dim": int(attr_dim),
            "embedding_epochs": int(embedding_epochs), "supervised_epochs": int(supervised_epochs),
            "gamma": float(gamma), "supervised_weight": float(supervised_weight),
            "moment_weight": float(moment_weight), "lr_e": None if lr_e is None else float(lr_e),
            "steps_per_output": steps_per_output,
            **{k: (list(v) if isinstance(v, tuple) else v) for k, v in gan_kwargs.items()},
        }
        self.mode = mode
        self.n_channels = int(n_channels)
        self.seq_len = int(seq_len)
        self.n_classes = int(n_classes)
        self.noise_dim = noise_dim
        self.global_noise_dim = global_noise_dim
        self.variable_length = bool(variable_length)
        self.attr_dim = int(attr_dim)
        self.embedding_epochs = int(embedding_epochs)
        self.supervised_epochs = int(supervised_epochs)
        self.gamma = float(gamma)
        self.supervised_weight = float(supervised_weight)
        self.moment_weight = float(moment_weight)
        self.lr_e = self.lr_g if lr_e is None else float(lr_e)
        self.steps_per_output = steps_per_output
        self.n_chunks = n_chunks
        folded = self.n_channels * steps_per_output  # features of one chunk of steps
        net = dict(hidden_dim=int(hidden_dim), cell=cell, cond_dim=int(cond_dim))
        cond = dict(n_classes=self.n_classes, position=self.variable_length)
        if self.attr_dim:  # only then: attr_dim=0 builds exactly the networks (and draws the weights) as before
            cond["attr_dim"] = self.attr_dim
        if mode == "rcgan":
            self.generator = SequenceNet(noise_dim, folded, num_layers=num_layers, activation="sigmoid",
                                         **net, **cond)
            self.discriminator = SequenceNet(folded, 1, num_layers=num_layers, projection=True, **net, **cond)
        else:
            h = int(hidden_dim)
            self.embedder = SequenceNet(folded, h, num_layers=num_layers, activation="sigmoid", **net)
            self.recovery = SequenceNet(h, folded, num_layers=num_layers, activation="sigmoid", **net)
            self.generator = SequenceNet(noise_dim, h, num_layers=num_layers, activation="sigmoid", **net, **cond)
            self.supervisor = SequenceNet(h, h, num_layers=max(num_layers - 1, 1), activation="sigmoid",
                                          **net, **cond)
            self.discriminator = SequenceNet(h, 1, num_layers=num_layers, projection=True, **net, **cond)
        self._cache: dict[str, Tensor] = {}
        self._pretrain_steps = 0

    # ------------------------------------------------------------- training
    def configure_callbacks(self):
        """Lightning hook: flush denormal floats to zero while this module trains (see :class:`FlushDenormals`)."""
        return [FlushDenormals()]

    # ----------------------------------------------------------------- config
    def config(self) -> dict:
        """JSON-able constructor arguments (``RecurrentGAN(**config)`` rebuilds the networks)."""
        return dict(self._config)

    @property
    def latent_shape(self) -> tuple[int, int]:
        """Shape of one latent: a noise sequence ``(ceil(seq_len / steps_per_output), noise_dim)``."""
        return (self.n_chunks, self.noise_dim)

    def sample_noise(self, n: int, generator: torch.Generator | None = None, truncation: float | None = None,
                     device=None) -> Tensor:
        """Noise sequences ``(n, *latent_shape)``; the first ``global_noise_dim`` features are constant in time."""
        z = super().sample_noise(n, generator=generator, truncation=truncation, device=device)
        g = self.global_noise_dim
        if g:
            z = torch.cat([z[:, :1, :g].expand(-1, z.shape[1], -1), z[:, :, g:]], dim=2)
        return z

    @staticmethod
    def make_condition(labels: Tensor, lengths: Tensor, attributes: Tensor | None = None) -> Tensor:
        """Condition tensor: class code and observed length of each series, then its encoded attributes.

        Without ``attributes`` the result is ``(N, 2)`` int64; with a float
        ``(N, attr_dim)`` array of encoded attributes it is ``(N, 2 + attr_dim)``
        float32 (class codes and lengths are exact in float32).

        Examples
        --------
        >>> import torch
        >>> from ganaug.timeseries import RecurrentGAN
        >>> RecurrentGAN.make_condition(torch.tensor([0, 1]), torch.tensor([5, 7])).tolist()
        [[0, 5], [1, 7]]
        >>> RecurrentGAN.make_condition(torch.tensor([0, 1]), torch.tensor([5, 7]), torch.tensor([[0.5], [1.0]])).tolist()
        [[0.0, 5.0, 0.5], [1.0, 7.0, 1.0]]
        """
        labels = torch.as_tensor(labels).long().reshape(-1)
        lengths = torch.as_tensor(lengths).long().reshape(-1)
        if labels.shape != lengths.shape:
            raise ValueError(f"labels ({labels.shape[0]}) and lengths ({lengths.shape[0]}) differ in number")
        if attributes is None:
            return torch.stack([labels, lengths], dim=1)
        attributes = torch.as_tensor(attributes, dtype=torch.float32)
        if attributes.dim() != 2 or attributes.shape[0] != labels.shape[0]:
            raise ValueError(f"attributes must be (N={labels.shape[0]}, attr_dim), got shape {tuple(attributes.shape)}")
        return torch.cat([labels[:, None].float(), lengths[:, None].float(), attributes], dim=1)

    def _attributes(self, cond: Tensor | None) -> Tensor | None:
        """The encoded attributes ``(N, attr_dim)`` carried by a condition (None without attributes)."""
        if not self.attr_dim:
            return None
        if cond is None:
            raise ValueError(f"this RecurrentGAN is conditioned on {self.attr_dim} attribute features: pass a "
                             "condition with them (make_condition(labels, lengths, attributes))")
        return cond[:, 2:]

    def _unpack(self, cond: Tensor | None, n: int, device) -> tuple[Tensor | None, Tensor, Tensor]:
        """(labels or None, lengths, mask (N, L) bool) from a condition tensor."""
        if cond is None:
            if self.n_classes > 1:
                raise ValueError("this RecurrentGAN is conditional: pass a condition (make_condition)")
            lengths = torch.full((n,), self.seq_len, dtype=torch.long, device=device)
            labels = None
        else:
            width = 2 + self.attr_dim
            if cond.dim() != 2 or cond.shape[1] != width:
                what = "[class, length]" if not self.attr_dim else f"[class, length, {self.attr_dim} attribute features]"
                raise ValueError(f"condition must be (N, {width}) {what}, got shape {tuple(cond.shape)}")
            labels = cond[:, 0].long() if self.n_classes > 1 else None
            lengths = cond[:, 1].long()
        mask = torch.arange(self.seq_len, device=device)[None, :] < lengths[:, None]
        return labels, lengths, mask

    @staticmethod
    def _apply_mask(x: Tensor, mask: Tensor) -> Tensor:
        return x * mask[..., None].to(x.dtype)

    # ------------------------------------------------ folding (steps_per_output)
    def _chunk_lengths(self, lengths: Tensor) -> Tensor:
        """Observed chunks per series: ``ceil(length / steps_per_output)``."""
        s = self.steps_per_output
        return lengths if s == 1 else torch.div(lengths + (s - 1), s, rounding_mode="floor")

    def _chunk_mask(self, mask: Tensor) -> Tensor:
        """Step mask ``(N, L)`` -> chunk mask ``(N, ceil(L/S))``: a chunk counts if any of its steps does."""
        s = self.steps_per_output
        if s == 1:
            return mask
        n, length = mask.shape
        chunks = -(-length // s)
        return nn.functional.pad(mask, (0, chunks * s - length)).reshape(n, chunks, s).any(-1)

    def _fold(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        """``(N, L, F)`` -> ``(N, ceil(L/S), S*F)``: groups of S steps, zero at masked and padded steps."""
        s = self.steps_per_output
        if s == 1:
            return x
        if mask is not None:
            x = self._apply_mask(x, mask)
        n, length, f = x.shape
        chunks = -(-length // s)
        return nn.functional.pad(x, (0, 0, 0, chunks * s - length)).reshape(n, chunks, s * f)

    def _unfold(self, x: Tensor) -> Tensor:
        """``(N, ceil(L/S), S*F)`` -> ``(N, L, F)`` (the inverse of :meth:`_fold`, trimmed to ``seq_len``)."""
        s = self.steps_per_output
        if s == 1:
            return x
        return x.reshape(x.shape[0], x.shape[1] * s, -1)[:, : self.seq_len]

    # ----------------------------------------------------- GANModule hooks
    def split_batch(self, batch: Any) -> tuple[Tensor, Tensor | None]:
        x, cond = super().split_batch(batch)
        _, lengths, mask = self._unpack(cond, x.shape[0], x.device)
        x = self._apply_mask(x, mask)
        if self.mode == "timegan":
            self._cache["x"], self._cache["mask"] = x, mask
            with torch.no_grad():
                return self._embed(x, mask), cond
        return x, cond

    def generate(self, z: Tensor, cond: Tensor | None = None, network: nn.Module | None = None) -> Tensor:
        """Generator output: series (rcgan) or supervised latent ``S(G(z))`` (timegan)."""
        net = self.generator if network is None else network
        if z.dim() != 3 or z.shape[1] != self.n_chunks:
            raise ValueError(f"latents must have shape (N, *latent_shape) = (N, {self.n_chunks}, {self.noise_dim}), "
                             f"got {tuple(z.shape)}")
        labels, lengths, mask = self._unpack(cond, z.shape[0], z.device)
        attrs = self._attributes(cond)
        chunk_lengths = self._chunk_lengths(lengths)
        out = net(z, labels, chunk_lengths, attrs)
        if self.mode == "timegan":
            chunk_mask = self._chunk_mask(mask)
            out = self._apply_mask(out, chunk_mask)
            self._cache["e_hat"] = out
            return self._apply_mask(self.supervisor(out, labels, chunk_lengths, attrs), chunk_mask)
        return self._apply_mask(self._unfold(out), mask)

    def discriminate(self, x: Tensor, cond: Tensor | None = None) -> tuple[Tensor, dict]:
        """Logits per step ``(N, L)``, or per chunk ``(N, ceil(L/S))`` with ``steps_per_output=S > 1``.

        A constant 0 at padded steps (chunks); extras carry them too. In
        rcgan mode ``x`` is the series ``(N, L, C)``, folded here; in timegan
        mode it is already a latent sequence with one step per chunk.
        """
        labels, lengths, mask = self._unpack(cond, x.shape[0], x.device)
        if self.mode == "rcgan":
            x = self._fold(x, mask)
        logits = self.discriminator(x, labels, self._chunk_lengths(lengths), self._attributes(cond))[..., 0]
        logits = logits * self._chunk_mask(mask).to(x.dtype)
        return logits, {"logits": logits}

    def generator_parameters(self):
        if self.mode == "timegan":
            return [*self.generator.parameters(), *self.supervisor.parameters()]
        return self.generator.parameters()

    def discriminator_extra_loss(self, real, fake, cond, real_extras, fake_extras, z):
        if self.mode != "timegan" or self.gamma == 0:
            return None
        e_hat = self._cache["e_hat"].detach()
        e_logits, _ = self._logits(e_hat, cond)
        # the real term is detached: only the extra fake path adds gradient
        return self.gamma * self.adversarial_loss.discriminator_loss(real_extras["logits"].detach().reshape(-1),
                                                                     e_logits)

    def generator_extra_loss(self, real, fake, cond, fake_extras, z):
        if self.mode != "timegan":
            if not self.moment_weight:
                return None
            labels, _, mask = self._unpack(cond, real.shape[0], real.device)
            return self.moment_weight * self._moment_loss(real, fake, mask, labels)
        x, mask = self._cache["x"], self._cache["mask"]
        labels, lengths, _ = self._unpack(cond, x.shape[0], x.device)
        loss = torch.zeros((), device=x.device)
        if self.gamma:
            e_logits, _ = self._logits(self._cache["e_hat"], cond)
            loss = loss + self.gamma * self.adversarial_loss.generator_loss(e_logits)
        sup = self._supervised_loss(real, labels, lengths, mask, self._attributes(cond))
        loss = loss + self.supervised_weight * torch.sqrt(sup + 1e-12)
        x_hat = self._apply_mask(self._recover(fake), mask)
        loss = loss + self.moment_weight * self._moment_loss(x, x_hat, mask, labels)
        return loss

    # ---------------------------------------------------------- TimeGAN parts
    def _embed(self, x: Tensor, mask: Tensor) -> Tensor:
        """Series ``(N, L, C)`` -> latent ``(N, ceil(L/S), hidden_dim)`` (one latent step per chunk)."""
        return self._apply_mask(self.embedder(self._fold(x, mask)), self._chunk_mask(mask))

    def _recover(self, h: Tensor) -> Tensor:
        """Latent ``(N, ceil(L/S), hidden_dim)`` -> series ``(N, L, C)`` (unmasked)."""
        return self._unfold(self.recovery(h))

    def _supervised_loss(self, h: Tensor, labels, lengths, mask: Tensor, attrs: Tensor | None = None) -> Tensor:
        """Next-step loss: ``S(h)_t`` should match ``h_{t+1}`` at observed latent steps.

        ``lengths`` and ``mask`` are per step of the series; latent steps are chunks.
        """
        pred = self.supervisor(h, labels, self._chunk_lengths(lengths), attrs)
        return _masked_mean((pred[:, :-1] - h[:, 1:]) ** 2, self._chunk_mask(mask)[:, 1:])

    def _moment_loss(self, x: Tensor, x_hat: Tensor, mask: Tensor, labels: Tensor | None = None) -> Tensor:
        """Moment matching of values and of their one-step increments, class by class.

        For every (class, step, channel): ``|std - std_hat| + |mean - mean_hat|``
        over the batch, once for the values (TimeGAN's moment loss) and once
        for the increments ``x[t+1] - x[t]`` (how rough the series are), on
        observed entries only. Fakes carry the labels and lengths of the real
        batch, so the two sides are comparable.
        """
        dx, dx_hat = x[:, 1:] - x[:, :-1], x_hat[:, 1:] - x_hat[:, :-1]
        return (self._batch_moments_gap(x, x_hat, mask, labels)
                + self._batch_moments_gap(dx, dx_hat, mask[:, 1:], labels)
                + self._marginal_gap(x, x_hat, mask, labels)
                + self._marginal_gap(dx, dx_hat, mask[:, 1:], labels))

    @staticmethod
    def _marginal_gap(x: Tensor, x_hat: Tensor, mask: Tensor, labels: Tensor | None) -> Tensor:
        """1-D Wasserstein distance between the batch's real and fake values per (class, step, channel).

        Sorting a key ``class * 4 + value`` (values lie in [-1, 1]) groups the
        batch by class, and within a class orders the values; fakes carry the
        real batch's labels and lengths, so both sides have the same number of
        entries per group and sorted positions pair up quantiles. Padded
        entries get the same key on both sides and add nothing.
        """
        m = mask[..., None].expand_as(x)
        offset = torch.zeros_like(x) if labels is None else (labels.to(x.dtype) * 4.0)[:, None, None].expand_as(x)
        pad = torch.full_like(x, -8.0)
        real = torch.sort(torch.where(m, offset + x, pad), dim=0).values
        fake = torch.sort(torch.where(m, offset + x_hat, pad), dim=0).values
        return (real - fake).abs().sum() / m.sum().clamp_min(1)

    def _batch_moments_gap(self, x: Tensor, x_hat: Tensor, mask: Tensor, labels: Tensor | None) -> Tensor:
        if labels is None or self.n_classes < 2:
            w = mask.to(x.dtype)[:, None, :, None]  # (N, 1, L, 1)
        else:
            onehot = nn.functional.one_hot(labels.long(), self.n_classes).to(x.dtype)  # (N, K)
            w = onehot[:, :, None, None] * mask.to(x.dtype)[:, None, :, None]  # (N, K, L, 1)
        count = w.sum(0)  # (K, L, 1)
        denom = count.clamp_min(1.0)
        valid = (count > 1).to(x.dtype).expand(-1, -1, x.shape[2])

        def moments(v):
            v = v[:, None]  # (N, 1, L, C)
            mean = (v * w).sum(0) / denom
            var = (((v - mean) ** 2) * w).sum(0) / denom
            return mean, torch.sqrt(var + 1e-6)

        mean_r, std_r = moments(x)
        mean_f, std_f = moments(x_hat)
        diff = (std_f - std_r).abs() + (mean_f - mean_r).abs()
        return (diff * valid).sum() / valid.sum().clamp_min(1.0)

    def reconstruction_loss(self, x: Tensor, mask: Tensor) -> Tensor:
        """TimeGAN autoencoder loss: masked MSE between ``x`` and ``R(E(x))``."""
        return _masked_mean((self._recover(self._embed(x, mask)) - x) ** 2, mask)

    @property
    def phase(self) -> str:
        """Training phase of the current epoch: ``embedding``, ``supervised`` or ``joint``."""
        if self.mode != "timegan":
            return "joint"
        epoch = self.current_epoch if self._trainer is not None else self.embedding_epochs + self.supervised_epochs
        if epoch < self.embedding_epochs:
            return "embedding"
        if epoch < self.embedding_epochs + self.supervised_epochs:
            return "supervised"
        return "joint"

    def configure_optimizers(self):
        if self.mode != "timegan":
            return super().configure_optimizers()
        opt_g, opt_d = super().configure_optimizers()
        opt_e = torch.optim.Adam([*self.embedder.parameters(), *self.recovery.parameters()], lr=self.lr_e,
                                 betas=self.betas)
        return [opt_g, opt_d, opt_e]

    def _optimise(self, optimizer, closure, what: str) -> Tensor:
        """One step of ``optimizer`` on ``closure()`` with only its parameters trainable."""
        self.toggle_optimizer(optimizer)
        loss = closure()
        self._check_finite(loss, what)
        optimizer.zero_grad(set_to_none=True)
        self.manual_backward(loss)
        optimizer.step()
        self.untoggle_optimizer(optimizer)
        return loss

    def training_step(self, batch: Any, batch_idx: int) -> None:
        if self.mode != "timegan":
            return super().training_step(batch, batch_idx)
        opt_g, _, opt_e = self.optimizers()
        phase = self.phase
        if phase == "joint":
            super().training_step(batch, batch_idx)
        x, cond = GANModule.split_batch(self, batch)
        labels, lengths, mask = self._unpack(cond, x.shape[0], x.device)
        attrs = self._attributes(cond)
        x = self._apply_mask(x, mask)
        record: dict[str, float] = {"epoch": float(self.current_epoch)}
        if phase == "supervised":
            def supervised():
                with torch.no_grad():
                    h = self._embed(x, mask)
                return self._supervised_loss(h, labels, lengths, mask, attrs)

            record["supervised_loss"] = float(self._optimise(opt_g, supervised, "supervised loss").detach())
        else:
            parts = {}

            def embedding():
                h = self._embed(x, mask)
                parts["recon"] = _masked_mean((self._recover(h) - x) ** 2, mask)
                loss = 10.0 * torch.sqrt(parts["recon"] + 1e-12)
                if phase == "joint":
                    # TimeGAN: the embedder also serves the supervisor (frozen here)
                    loss = loss + 0.1 * self._supervised_loss(h, labels, lengths, mask, attrs)
                return loss

            self._optimise(opt_e, embedding, "reconstruction loss")
            record["reconstruction_loss"] = float(parts["recon"].detach())
        self._cache.clear()
        if phase != "joint":
            self._pretrain_steps += 1
            record["step"] = float(self._pretrain_steps)
            for key, value in record.items():
                if key not in ("epoch", "step"):
                    self.log(key, value, prog_bar=True, on_step=True, on_epoch=False, batch_size=x.shape[0])
            if self.record_history:
                self.history.append(record)
        elif self.record_history and self.history:
            self.history[-1]["reconstruction_loss"] = record["reconstruction_loss"]

    # --------------------------------------------------------------- sampling
    @torch.no_grad()
    def generate_samples(self, n: int, cond: Tensor | None = None, truncation: float | None = None,
                         generator: torch.Generator | None = None, batch_size: int = 4096,
                         use_ema: bool = True) -> Tensor:
        """``n`` series ``(n, seq_len, n_channels)`` in the scaled space, zeros after each length.

        See :meth:`ganaug.core.GANModule.generate_samples`; in TimeGAN mode the
        latent samples are decoded by the recovery network.
        """
        out = super().generate_samples(n, cond, truncation=truncation, generator=generator, batch_size=batch_size,
                                       use_ema=use_ema)
        self._cache.clear()
        if self.mode == "timegan":
            _, _, mask = self._unpack(None if cond is None else cond.to(self.device), n, self.device)
            was = self.recovery.training
            self.recovery.eval()
            out = self._apply_mask(self._recover(out), mask)
            self.recovery.train(was)
        return out

    def generate_windows(self, z: Tensor, cond: Tensor | None = None) -> Tensor:
        """Differentiable map from latents ``(N, *latent_shape)`` to series ``(N, seq_len, n_channels)``.

        Uses the current generator (not the EMA copy); pass it to
        :func:`ganaug.core.invert` as ``lambda z: gan.generate_windows(z, cond)``.
        """
        out = self.generate(z, cond)
        self._cache.clear()
        if self.mode == "timegan":
            _, _, mask = self._unpack(cond, z.shape[0], z.device)
            out = self._apply_mask(self._recover(out), mask)
        return out

    def step_logits(self, x: Tensor, cond: Tensor | None = None) -> Tensor:
        """Discriminator logits per step ``(N, L)`` for encoded series (0 at padding); higher = more real.

        With ``steps_per_output=S > 1`` the discriminator judges chunks of S
        steps: every step gets the logit of its chunk (repeated S times,
        trimmed to ``seq_len``, 0 at padded steps).
        """
        labels, lengths, mask = self._unpack(cond, x.shape[0], x.device)
        x = self._apply_mask(x, mask)
        if self.mode == "timegan":
            x = self._embed(x, mask)
        logits = self.discriminate(x, cond)[0]
        if self.steps_per_output > 1:
            logits = logits.repeat_interleave(self.steps_per_output, dim=1)[:, : mask.shape[1]] * mask.to(logits.dtype)
        return logits

    def window_scores(self, x: Tensor, cond: Tensor | None = None) -> Tensor:
        """Discriminator realness per series ``(N,)``: mean logit over observed steps.

        With ``steps_per_output > 1`` each chunk's logit is weighted by its observed steps.
        """
        _, lengths, _ = self._unpack(cond, x.shape[0], x.device)
        return self.step_logits(x, cond).sum(1) / lengths.to(x.dtype)

    def reconstruct(self, x: Tensor, cond: Tensor | None = None) -> Tensor:
        """TimeGAN autoencoder pass ``R(E(x))`` (masked); only in ``mode="timegan"``."""
        if self.mode != "timegan":
            raise ValueError("reconstruct needs mode='timegan' (rcgan has no embedder)")
        _, _, mask = self._unpack(cond, x.shape[0], x.device)
        x = self._apply_mask(x, mask)
        return self._apply_mask(self._recover(self._embed(x, mask)), mask)
