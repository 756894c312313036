"""``ImageAugmenter``: fill the rare classes of an image set with a conditional GAN."""

from __future__ import annotations

import warnings

import numpy as np
import torch
from torch.utils.data import BatchSampler, DataLoader, WeightedRandomSampler

from ganaug.augment.base import BaseAugmenter, register_augmenter
from ganaug.core.data import TensorBatchDataset, tensor_loader
from ganaug.image.encoding import ImageEncoder, check_images
from ganaug.image.model import ConditionalImageGAN

__all__ = ["ImageAugmenter"]

_MODULE_PREFIX = "module."


@register_augmenter
class ImageAugmenter(BaseAugmenter):
    """Balance an image data set with a class-conditional GAN (imbalanced-learn sampler API).

    ``X`` is an array of images (N, H, W), (N, C, H, W) or (N, H, W, C) with
    C in {1, 3}, square, any size that is a multiple of 4, uint8 or float;
    generated images keep the input's layout, dtype and value range.

    Parameters
    ----------
    sampling_strategy : str, float, dict or callable, default="auto"
        As in imbalanced-learn: which classes to fill and to what count.
    random_state : int, RandomState or Generator, optional
        One seed for everything (weights, batches, augmentation, samples).
    epochs : int, default=30
        Training epochs; one epoch draws as many images as the training set holds.
    batch_size : int, default=64
    trainer : None, dict or lightning.pytorch.Trainer, optional
        Lightning ``Trainer`` arguments (``accelerator``, ``devices``,
        ``precision``, ``callbacks``...) or a ready ``Trainer``.
    latent_dim : int, default=64
    width : int, default=64
        Channels at the generator's lowest resolution (capacity; time grows
        about quadratically with it).
    d_width : int, optional
        The same for the discriminator; default ``1.5 * width``.
    conditioning : {"projection", "acgan"}, default="projection"
    loss : str, optional
        Adversarial loss; default ``"hinge"`` (projection) or
        ``"nonsaturating"`` (ACGAN). ``"wgan-gp"`` etc. also work.
    aux_weight : float, default=1.0
        Auxiliary classification loss (see :class:`~ganaug.image.ConditionalImageGAN`).
        With ``conditioning="projection"`` it adds a classifier trained on
        real images next to the projection head, which anchors classes that
        have only a handful of images; 0 turns it off.
    diversity_weight : float, default=0.0
        Mode-seeking term against a generator that ignores its noise (MSGAN).
    lr_g, lr_d : float, default=5e-4
    betas : tuple of float, default=(0.5, 0.999)
    n_critic : int, default=1
    ema_decay : float or None, default=0.999
        Samples come from an exponential moving average of the generator.
    diffaugment : str or None, default="color,translation,cutout"
        DiffAugment policy for the discriminator (small data needs it).
    info_categorical, info_continuous : int, default=0
        InfoGAN codes (unsupervised factors within a class).
    progressive : bool or float, default=False
        Progressive growing with fade-in (see :class:`~ganaug.image.ConditionalImageGAN`).
    minibatch_std : bool, default=True
        Minibatch standard deviation feature in the discriminator (against
        a generator that draws one image per class).
    truncation : float, optional
        Truncation trick at sampling: latents resampled until ``|z| <= truncation``
        (smaller = cleaner but less varied images).
    class_balance : float, default=0.0
        How often the GAN sees each class while training: class ``c`` is
        drawn with probability proportional to ``n_c ** class_balance``
        (0 = all classes equally often, 1 = as in the data).
    layout : {"NHW", "NCHW", "NHWC"}, optional
        Force the layout of ``X`` instead of guessing it.

    Attributes
    ----------
    classes_ : ndarray
    class_counts_ : ndarray
    encoder_ : ImageEncoder
        Layout, dtype and value range of the training images.
    module_ : ConditionalImageGAN
        The trained Lightning module.
    history_ : list of dict
        Per-step losses and gradient norms.

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.augment.image import ImageAugmenter
    >>> from ganaug.datasets import load_mnist
    >>> X, y = load_mnist()
    >>> keep = np.flatnonzero(y < 2)[:60]
    >>> aug = ImageAugmenter(epochs=1, width=16, latent_dim=16, random_state=0)
    >>> X_new, y_new = aug.fit(X[keep], y[keep]).sample({0: 3, 1: 2})
    >>> X_new.shape, X_new.dtype, y_new.tolist()
    ((5, 28, 28), dtype('uint8'), [0, 0, 0, 1, 1])
    """

    _min_class_size = 2

    def __init__(
        self,
        sampling_strategy="auto",
        random_state=None,
        epochs: int = 30,
        batch_size: int = 64,
        trainer=None,
        latent_dim: int = 64,
        width: int = 64,
        d_width: int | None = None,
        conditioning: str = "projection",
        loss: str | None = None,
        aux_weight: float | None = 1.0,
        diversity_weight: float = 0.0,
        lr_g: float = 5e-4,
        lr_d: float = 5e-4,
        betas=(0.5, 0.999),
        n_critic: int = 1,
        ema_decay: float | None = 0.999,
        diffaugment: str | None = "color,translation,cutout",
        info_categorical: int = 0,
        info_continuous: int = 0,
        progressive=False,
        minibatch_std: bool = True,
        truncation: float | None = None,
        class_balance: float = 0.0,
        layout: str | None = None,
    ):
        self.sampling_strategy = sampling_strategy
        self.random_state = random_state
        self.epochs = epochs
        self.batch_size = batch_size
        self.trainer = trainer
        self.latent_dim = latent_dim
        self.width = width
        self.d_width = d_width
        self.conditioning = conditioning
        self.loss = loss
        self.aux_weight = aux_weight
        self.diversity_weight = diversity_weight
        self.lr_g = lr_g
        self.lr_d = lr_d
        self.betas = betas
        self.n_critic = n_critic
        self.ema_decay = ema_decay
        self.diffaugment = diffaugment
        self.info_categorical = info_categorical
        self.info_continuous = info_continuous
        self.progressive = progressive
        self.minibatch_std = minibatch_std
        self.truncation = truncation
        self.class_balance = class_balance
        self.layout = layout

    # ------------------------------------------------------------------ hooks
    def _validate_X(self, X, reset: bool):
        if reset:
            self._check_params()
            arr, _ = check_images(X, self.layout)
            self.encoder_ = ImageEncoder(layout=self.layout).fit(arr)
            return self.encoder_.transform(arr)
        return self.encoder_.transform(X)

    def _check_params(self) -> None:
        for name in ("epochs", "batch_size", "latent_dim", "width"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if not 0.0 <= float(self.class_balance) <= 1.0:
            raise ValueError(f"class_balance must be in [0, 1], got {self.class_balance!r}")
        if self.truncation is not None and not float(self.truncation) > 0:
            raise ValueError(f"truncation must be > 0 or None, got {self.truncation!r}")

    def _build_module(self, n_classes: int) -> ConditionalImageGAN:
        return ConditionalImageGAN(
            n_classes=n_classes,
            channels=self.encoder_.channels_,
            image_size=self.encoder_.size_,
            latent_dim=self.latent_dim,
            width=self.width,
            d_width=self.d_width,
            conditioning=self.conditioning,
            loss=self.loss,
            aux_weight=self.aux_weight,
            diversity_weight=self.diversity_weight,
            info_categorical=self.info_categorical,
            info_continuous=self.info_continuous,
            progressive=self.progressive,
            diffaugment=self.diffaugment,
            minibatch_std=self.minibatch_std,
            lr_g=self.lr_g,
            lr_d=self.lr_d,
            betas=tuple(self.betas),
            n_critic=self.n_critic,
            ema_decay=self.ema_decay,
        )

    def _loader(self, X: torch.Tensor, codes: np.ndarray, seed: int) -> DataLoader:
        y = torch.from_numpy(codes)
        bs = int(self.batch_size)
        counts = np.bincount(codes)
        if float(self.class_balance) == 1.0 or len(counts) < 2:
            return tensor_loader(X, y, batch_size=bs, shuffle=True, drop_last=True, seed=seed)
        weights = (counts.astype(np.float64) ** (float(self.class_balance) - 1.0))[codes]
        gen = torch.Generator().manual_seed(seed)
        sampler = WeightedRandomSampler(torch.from_numpy(weights), num_samples=len(codes), replacement=True,
                                        generator=gen)
        batches = BatchSampler(sampler, batch_size=bs, drop_last=len(codes) >= bs)
        return DataLoader(TensorBatchDataset(X, y), sampler=batches, batch_size=None)

    def _fit_generator(self, X_internal, codes: np.ndarray, seed: int) -> None:
        n_classes = 1 if self.classes_ is None else len(self.classes_)
        self.module_ = self._build_module(n_classes)
        self.module_.init_output_bias(X_internal.mean(dim=(0, 2, 3)))
        with warnings.catch_warnings():
            # the EMA copy of the generator stays in eval mode on purpose
            warnings.filterwarnings("ignore", message=r".*module\(s\) in eval mode.*")
            self._train(self.module_, self._loader(X_internal, codes, seed))
        self.module_.cpu().eval()

    def _generate(self, codes: np.ndarray, seed: int):
        enc = self.encoder_
        if len(codes) == 0:
            return enc.inverse_transform(torch.zeros(0, enc.channels_, enc.size_, enc.size_))
        gen = torch.Generator().manual_seed(int(seed))
        images = self.module_.generate_samples(
            len(codes), cond=torch.as_tensor(codes, dtype=torch.long), truncation=self.truncation,
            generator=gen, batch_size=512,
        )
        return enc.inverse_transform(images)

    def _concat(self, X, X_new):
        original = X.detach().cpu().numpy() if isinstance(X, torch.Tensor) else np.asarray(X)
        return np.concatenate([original, X_new.astype(original.dtype, copy=False)])

    def _get_state(self) -> tuple[dict, dict]:
        state = {
            "encoder": self.encoder_.to_json(),
            "n_classes": int(self.module_.n_classes),
            "grow": [int(self.module_.grow_stage), float(self.module_.grow_alpha)],
        }
        tensors = {_MODULE_PREFIX + k: v for k, v in self.module_.state_dict().items()}
        return state, tensors

    def _set_state(self, state: dict, tensors: dict) -> None:
        self.encoder_ = ImageEncoder.from_json(state["encoder"])
        module = self._build_module(int(state["n_classes"]))
        weights = {k[len(_MODULE_PREFIX):]: v for k, v in tensors.items() if k.startswith(_MODULE_PREFIX)}
        module.load_state_dict(weights)
        module.grow_stage, module.grow_alpha = int(state["grow"][0]), float(state["grow"][1])
        self.module_ = module.eval()
