"""One backend per modality: which GAN, which encoder network, and how a batch is scored.

Every backend trains a ganaug GAN on normal data (``TabularGAN`` for tables,
``ConditionalImageGAN`` for images, ``RecurrentGAN`` for series windows),
then an encoder ``E`` that maps data to the generator's latent space with
``G`` and ``D`` frozen (f-AnoGAN's izi_f training, Schlegl et al. 2019):
``||x - G(E(x))||^2 + kappa ||f(x) - f(G(E(x)))||^2`` with ``f`` the
discriminator's last hidden features. Scoring is one forward pass per batch
(``E``, ``G``, ``D``), optionally refined by a few steps of the batched latent
inversion of :func:`ganaug.core.latent.invert` started at ``E(x)``: no
per-sample optimisation loop.

A backend's ``parts(x)`` returns, per sample (or per window step for
series), three raw anomaly components, higher = more abnormal:

``residual``      ``||x - G(z*)||`` (per step for series: squared error summed over channels)
``feature``       ``||f(x) - f(G(z*))||`` (discriminator feature matching; not for series)
``discriminator`` ``-D(x)`` (the discriminator's logit, negated)
``neighbor``      distance to the nearest generated samples: the mean, over the ``k`` nearest of a bank of
                  samples drawn from ``G`` once after training, of the residual to each (a non-parametric
                  inversion: no encoder, no optimisation; per step for series)
"""

from __future__ import annotations

import math

import lightning.pytorch as pl
import numpy as np
import torch
from torch import Tensor, nn

from ganaug.core.data import tensor_loader
from ganaug.core.latent import invert
from ganaug.core.trainer import build_trainer, quiet_lightning

__all__ = ["TabularBackend", "ImageBackend", "SeriesBackend", "BACKENDS"]


class _EncoderModule(pl.LightningModule):
    """Trains ``encoder`` so that ``G(E(x))`` reconstructs ``x`` (pixels and D features); ``G`` and ``D`` frozen."""

    def __init__(self, backend: "_Backend", lr: float = 1e-3) -> None:
        super().__init__()
        self.gan = backend.gan
        self.encoder = backend.encoder
        self.backend = [backend]  # not a submodule
        self.lr = lr
        for p in self.gan.parameters():
            p.requires_grad_(False)

    def train(self, mode: bool = True):
        super().train(mode)
        self.gan.eval()  # batch-norm statistics and dropout of G and D stay frozen
        return self

    def configure_optimizers(self):
        return torch.optim.Adam(self.encoder.parameters(), lr=self.lr, betas=(0.5, 0.999))

    def training_step(self, batch, batch_idx):
        x = batch[0] if isinstance(batch, (tuple, list)) else batch
        be = self.backend[0]
        x_hat = be.decode(self.encoder(x))
        loss = (x_hat - x).pow(2).flatten(1).mean(1).mean()
        if be.kappa > 0 and be.has_features:
            loss = loss + be.kappa * (be.features(x_hat) - be.features(x)).pow(2).flatten(1).mean(1).mean()
        return loss


class _Backend:
    """Shared training and scoring; a subclass supplies networks, ``decode``, ``features`` and ``critic``."""

    has_features = True
    modality = ""

    def __init__(self, params: dict) -> None:
        self.params = dict(params)
        self.kappa = float(params.get("kappa", 1.0))
        self.gan = None
        self.encoder = None
        self.bank = None

    # ------------------------------------------------------------ networks
    @property
    def latent_shape(self) -> tuple[int, ...]:
        raise NotImplementedError

    def build(self, x: Tensor) -> None:
        raise NotImplementedError

    def gan_loader(self, x: Tensor, batch_size: int, seed: int):
        return tensor_loader(x, batch_size=batch_size, seed=seed)

    def generator_network(self) -> nn.Module:
        ema = getattr(self.gan, "generator_ema", None)
        return ema.module if ema is not None else self.gan.generator

    def decode(self, z: Tensor) -> Tensor:
        raise NotImplementedError

    def features(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def critic(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    # ------------------------------------------------------------ training
    def fit(self, x: Tensor, *, epochs: int, encoder_epochs: int, batch_size: int, seed: int, trainer) -> None:
        self.build(x)
        t = build_trainer(trainer, max_epochs=epochs)
        with quiet_lightning():
            t.fit(self.gan, train_dataloaders=self.gan_loader(x, batch_size, seed))
        self.gan.eval()
        self.history = list(getattr(self.gan, "history", []))
        if encoder_epochs <= 0:
            self.encoder = None
        else:
            module = _EncoderModule(self, lr=float(self.params.get("encoder_lr", 1e-3)))
            t = build_trainer(trainer, max_epochs=encoder_epochs)
            with quiet_lightning():
                t.fit(module, train_dataloaders=tensor_loader(x, batch_size=batch_size, seed=seed + 1))
        for p in self.gan.parameters():
            p.requires_grad_(False)
        self.gan.eval()
        if self.encoder is not None:
            self.encoder.eval()

    # ------------------------------------------------------------- scoring
    def _device(self):
        return next(self.gan.parameters()).device

    def latents(self, x: Tensor, inversion_steps: int, inversion_lr: float, seed: int,
                use_encoder: bool = True) -> Tensor:
        """``z*`` for a batch: the encoder's guess, refined by ``inversion_steps`` of batched Adam."""
        with torch.no_grad():
            if use_encoder:
                z0 = self.encoder(x)
            else:
                gen = torch.Generator().manual_seed(seed)
                z0 = torch.randn((x.shape[0], *self.latent_shape), generator=gen).to(x.device, x.dtype)
        if inversion_steps <= 0:
            return z0
        z, _ = invert(self.decode, x, self.latent_shape, steps=inversion_steps, lr=inversion_lr, z0=z0,
                      batch_size=x.shape[0])
        return z

    def parts(self, x_np: np.ndarray, *, batch_size: int, inversion_steps: int, inversion_lr: float, seed: int,
              use_encoder: bool = True, k_neighbors: int = 5) -> dict[str, np.ndarray]:
        """Raw anomaly components for encoded data, in batches (one network pass per batch)."""
        dev = self._device()
        out: dict[str, list] = {"residual": [], "feature": [], "discriminator": [], "neighbor": []}
        for lo in range(0, len(x_np), batch_size):
            x = torch.as_tensor(x_np[lo : lo + batch_size], device=dev)
            if self.bank is not None:
                with torch.no_grad():
                    out["neighbor"].append(self.neighbor(x, k_neighbors).cpu().numpy())
            if self.encoder is None and inversion_steps == 0:
                with torch.no_grad():
                    out["discriminator"].append((-self.critic(x)).float().cpu().numpy())
                continue
            z = self.latents(x, inversion_steps, inversion_lr, seed + lo, use_encoder and self.encoder is not None)
            with torch.no_grad():
                x_hat = self.decode(z)
                out["residual"].append(self.residual(x, x_hat).cpu().numpy())
                out["discriminator"].append((-self.critic(x)).float().cpu().numpy())
                if self.has_features:
                    f = (self.features(x) - self.features(x_hat)).flatten(1).norm(dim=1)
                    out["feature"].append(f.cpu().numpy())
        return {k: np.concatenate(v).astype(np.float64) for k, v in out.items() if v}

    def residual(self, x: Tensor, x_hat: Tensor) -> Tensor:
        return (x - x_hat).flatten(1).norm(dim=1)

    def make_bank(self, n: int, seed: int) -> None:
        """Draw the bank of ``n`` generated samples used by the ``neighbor`` component (deterministic in ``seed``)."""
        if n <= 0:
            self.bank = None
            return
        gen = torch.Generator().manual_seed(int(seed))
        z = torch.randn((n, *self.latent_shape), generator=gen).to(self._device())
        with torch.no_grad():
            self.bank = torch.cat([self.decode(z[lo : lo + 4096]) for lo in range(0, n, 4096)])

    def neighbor(self, x: Tensor, k: int, chunk: int = 1024) -> Tensor:
        """Mean residual to the ``k`` nearest bank samples (Euclidean on the flattened item).

        The distances go in blocks of ``chunk`` items so that each block stays in cache (1024 x 1024 floats:
        the top-k of a 4096-row block took twice as long per row on 2 cores); the numbers do not depend on it.
        """
        bank = self.bank
        k = min(int(k), bank.shape[0])
        flat = bank.flatten(1).float()
        xf = x.flatten(1).float()
        idx = torch.cat([torch.cdist(xf[lo : lo + chunk], flat).topk(k, dim=1, largest=False).indices
                         for lo in range(0, len(xf), chunk)])  # (B, k)
        near = bank[idx]  # (B, k, ...)
        xs = x.unsqueeze(1).expand_as(near)
        r = self.residual(xs.reshape(-1, *x.shape[1:]), near.reshape(-1, *x.shape[1:]))
        return r.reshape(x.shape[0], k, *r.shape[1:]).mean(1)

    # --------------------------------------------------------- persistence
    def gan_config(self) -> dict:
        return dict(self._gan_kwargs)

    def tensors(self) -> dict[str, Tensor]:
        out = {f"gan.{k}": v for k, v in self.gan.state_dict().items()}
        if self.encoder is not None:
            out.update({f"encoder.{k}": v for k, v in self.encoder.state_dict().items()})
        return out

    def restore(self, gan_kwargs: dict, tensors: dict[str, Tensor]) -> None:
        self._make(gan_kwargs)
        self.gan.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("gan.")})
        enc = {k[8:]: v for k, v in tensors.items() if k.startswith("encoder.")}
        if enc:
            self.encoder.load_state_dict(enc)
            self.encoder.eval()
        else:
            self.encoder = None
        for p in self.gan.parameters():
            p.requires_grad_(False)
        self.gan.eval()

    def _make(self, gan_kwargs: dict) -> None:
        raise NotImplementedError


# ---------------------------------------------------------------- tables
class _MLPEncoder(nn.Module):
    def __init__(self, d_in: int, d_out: int, hidden: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d_in, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden),
                                 nn.LeakyReLU(0.2), nn.Linear(hidden, d_out))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class TabularBackend(_Backend):
    """``TabularGAN`` with one row per critic input (``pac=1``) on the :class:`TableCodec` encoding."""

    modality = "tabular"

    @property
    def latent_shape(self) -> tuple[int, ...]:
        return (self.gan.embedding_dim,)

    def build(self, x: Tensor) -> None:
        p = self.params
        hidden = int(p["hidden_dim"])
        kwargs = {"spans": [list(s) for s in p["spans"]], "embedding_dim": int(p["latent_dim"]),
                  "generator_dim": [hidden, hidden], "discriminator_dim": [hidden, hidden],
                  "dropout": float(p.get("dropout", 0.25)), "lr_g": float(p.get("lr", 2e-4)),
                  "lr_d": float(p.get("lr", 2e-4)), "loss": "hinge", **dict(p.get("gan_options") or {})}
        self._make(kwargs)

    def _make(self, kwargs: dict) -> None:
        from ganaug.tabular.model import TabularGAN

        self._gan_kwargs = dict(kwargs)
        kw = dict(kwargs)
        spans = [tuple(s) for s in kw.pop("spans")]
        if "betas" in kw:
            kw["betas"] = tuple(kw["betas"])
        self.gan = TabularGAN(spans, n_classes=1, category_positions=(), pac=1, **kw)
        width = self.gan.data_dim
        self.encoder = _MLPEncoder(width, self.gan.embedding_dim, int(self.params["hidden_dim"]))

    def gan_loader(self, x: Tensor, batch_size: int, seed: int):
        n = x.shape[0]
        # the GAN learns the clipped rows (the generator's tanh range); scoring sees them unclipped
        return tensor_loader(x.clamp(-1.0, 1.0), torch.zeros(n, dtype=torch.long), torch.full((n,), -1),
                             batch_size=batch_size, seed=seed)

    def decode(self, z: Tensor) -> Tensor:
        net = self.generator_network()
        return net.activation(net.raw(z), gumbel=False)

    def features(self, x: Tensor) -> Tensor:
        d = self.gan.discriminator
        return d.net[:-1](d.input(x))

    def critic(self, x: Tensor) -> Tensor:
        return self.gan.discriminator(x.unsqueeze(1))


# ---------------------------------------------------------------- images
class _ConvEncoder(nn.Module):
    def __init__(self, channels: int, size: int, d_out: int, width: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(2 * width * (size // 4) ** 2, d_out),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class ImageBackend(_Backend):
    """Unconditional ``ConditionalImageGAN`` (one class) on images scaled to [-1, 1]."""

    modality = "image"

    @property
    def latent_shape(self) -> tuple[int, ...]:
        return (self.gan.input_dim,)

    def build(self, x: Tensor) -> None:
        p = self.params
        kwargs = {"channels": int(x.shape[1]), "image_size": int(x.shape[-1]), "latent_dim": int(p["latent_dim"]),
                  "width": int(p["hidden_dim"]), **dict(p.get("gan_options") or {})}
        self._make(kwargs)

    def _make(self, kwargs: dict) -> None:
        from ganaug.image.model import ConditionalImageGAN

        self._gan_kwargs = dict(kwargs)
        kw = dict(kwargs)
        if "betas" in kw:
            kw["betas"] = tuple(kw["betas"])
        self.gan = ConditionalImageGAN(n_classes=1, **kw)
        self.gan._ensure_ema()
        self.encoder = _ConvEncoder(self.gan.channels, self.gan.image_size, self.gan.input_dim,
                                    max(8, int(self.params["hidden_dim"]) // 2))

    def _labels(self, x: Tensor) -> Tensor:
        return torch.zeros(x.shape[0], dtype=torch.long, device=x.device)

    def decode(self, z: Tensor) -> Tensor:
        return self.gan.generate(z, self._labels(z), network=self.generator_network())

    def features(self, x: Tensor) -> Tensor:
        return self.gan.discriminator.features(x)

    def critic(self, x: Tensor) -> Tensor:
        return self.gan.discriminator(x, self._labels(x))[0].reshape(-1)


# ---------------------------------------------------------------- series
class _SequenceEncoder(nn.Module):
    """Bidirectional GRU from a window ``(N, L, C)`` to a noise sequence ``(N, L, noise_dim)``."""

    def __init__(self, channels: int, noise_dim: int, hidden: int) -> None:
        super().__init__()
        self.rnn = nn.GRU(channels, hidden, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * hidden, noise_dim)

    def forward(self, x: Tensor) -> Tensor:
        h, _ = self.rnn(x)
        return self.head(h)


class SeriesBackend(_Backend):
    """``RecurrentGAN`` (RCGAN mode, unconditional) on sliding windows; components per window step."""

    modality = "series"
    has_features = False

    @property
    def latent_shape(self) -> tuple[int, ...]:
        return tuple(self.gan.latent_shape)

    def build(self, x: Tensor) -> None:
        p = self.params
        kwargs = {"n_channels": int(x.shape[2]), "seq_len": int(x.shape[1]), "hidden_dim": int(p["hidden_dim"]),
                  "num_layers": 1, **dict(p.get("gan_options") or {})}
        self._make(kwargs)

    def _make(self, kwargs: dict) -> None:
        from ganaug.timeseries.model import RecurrentGAN

        self._gan_kwargs = dict(kwargs)
        kw = dict(kwargs)
        if "betas" in kw:
            kw["betas"] = tuple(kw["betas"])
        self.gan = RecurrentGAN(n_classes=1, **kw)
        self.encoder = _SequenceEncoder(self.gan.n_channels, self.gan.noise_dim, int(self.params["hidden_dim"]))

    def gan_loader(self, x: Tensor, batch_size: int, seed: int):
        return tensor_loader(x.clamp(0.0, 1.0), batch_size=batch_size, seed=seed)

    def decode(self, z: Tensor) -> Tensor:
        return self.gan.generate_windows(z)

    def critic(self, x: Tensor) -> Tensor:
        return self.gan.step_logits(x)  # (N, L): per step

    def residual(self, x: Tensor, x_hat: Tensor) -> Tensor:
        return (x - x_hat).pow(2).sum(-1)  # (N, L): per step


BACKENDS = {"tabular": TabularBackend, "image": ImageBackend, "series": SeriesBackend}


def auto_epochs(n_items: int, batch_size: int, steps: int) -> int:
    """Epochs that give about ``steps`` optimiser steps over ``n_items`` in batches of ``batch_size``."""
    per_epoch = max(1, n_items // batch_size)
    return int(max(1, math.ceil(steps / per_epoch)))
