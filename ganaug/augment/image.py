"""``ImageAugmenter``: fill the rare classes of an image set with a conditional GAN."""

from __future__ import annotations

import warnings

import numpy as np
import torch
from imblearn.over_sampling import RandomOverSampler
from torch.utils.data import BatchSampler, DataLoader, WeightedRandomSampler

from ganaug.augment.base import BaseAugmenter, register_augmenter
from ganaug.core.data import TensorBatchDataset, tensor_loader
from ganaug.image.classifier import CNNClassifier, SmallCNN
from ganaug.image.encoding import ImageEncoder, check_images
from ganaug.image.model import ConditionalImageGAN
from ganaug.privacy.encoding import PrivacyEncoder
from ganaug.privacy.metrics import COPY_TOLERANCE
from ganaug.privacy.neighbors import nearest_distances

__all__ = ["ImageAugmenter"]

_MODULE_PREFIX = "module."
_FILTER_PREFIX = "filter_classifier."
_FILTER_REFERENCE = "filter_reference"
#: width of the filter's classifier (:class:`~ganaug.image.classifier.SmallCNN`)
_FILTER_WIDTH = 16


def balanced_indices(codes: np.ndarray, seed: int) -> np.ndarray:
    """Indices that hold every class as often as the largest one: all of its own, then random repeats.

    imbalanced-learn's ``RandomOverSampler`` on the indices (its ``sample_indices_``).

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.augment.image import balanced_indices
    >>> idx = balanced_indices(np.array([0, 0, 0, 0, 1, 2, 2]), seed=0)
    >>> np.bincount(np.array([0, 0, 0, 0, 1, 2, 2])[idx]).tolist()
    [4, 4, 4]
    """
    codes = np.asarray(codes)
    sampler = RandomOverSampler(random_state=int(seed))
    sampler.fit_resample(np.arange(len(codes))[:, None], codes)
    return np.asarray(sampler.sample_indices_)


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
    diversity_weight : float, default=0.1
        Mode-seeking term against a generator that ignores its noise
        (MSGAN). Without it (0) the generator drew nearly one image per
        class; 0.1 was chosen on development data (docs/image.md), 1.0
        wrecks the images.
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
    style_dim : int, default=64
        Split class and style in the generator: a mapping network turns the
        noise into a style vector of this width that modulates every layer
        through weights shared by all classes, so rare classes are drawn in
        the variation learned from common ones (0: no split, the generator
        before issue 21; see :class:`~ganaug.image.ConditionalImageGAN`).
    conditional_bn : bool, default=True
        Class-conditional batch norm in the generator; ``False`` leaves the
        class only the embedding at the generator's input.
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
    lecam_weight : float, default=0.0
        LeCam regularisation of the discriminator for little data (see
        :class:`~ganaug.image.ConditionalImageGAN`); 0 turns it off.
    ada_target : float, optional
        Adaptive discriminator augmentation (ADA): target of the overfitting
        signal ``E[sign(D(real))]`` (0.6 in the paper); None turns it off.
    ada_interval : int, default=4
        Discriminator steps between two adjustments of the ADA probability.
    ada_speed : float, default=10000
        Real images seen while the ADA probability can go from 0 to 1.
    filter_synthetic : bool, default=False
        Keep a generated image only if (a) a classifier trained on the real
        training images, class-balanced by random repeats so that rarity
        alone does not lower a class's probability
        (:class:`~ganaug.image.classifier.CNNClassifier`), gives the requested class at least ``filter_threshold``, and (b) it
        is not a near-copy of a training image: its pixel distance to the
        closest training image is at least the ``filter_copy_quantile``
        quantile of the leave-one-out distances among the real images of
        its class, as in :func:`ganaug.privacy.filter_copies`. Rejected
        images are replaced by new draws; ``acceptance_rate_`` reports the
        share that passed, per class. Applies to :meth:`sample`,
        :meth:`fit_resample` and :meth:`iter_samples`. A model fitted with it
        also saves the classifier and the training images (the copy check
        needs them).
    filter_threshold : float, default=0.5
        Least classifier probability of the requested class.
    filter_copy_quantile : float, default=0.05
        Share of fresh real images the copy check would remove (0 removes
        only exact copies).
    filter_max_tries : int, default=10
        Rounds of drawing; a class still short after them raises a
        ``ValueError`` naming it and its acceptance rate.
    filter_classifier_steps : int, default=600
        Training steps of the filter's classifier.
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
    filter_classifier_ : CNNClassifier
        With ``filter_synthetic``: the classifier of the filter (its classes
        are the class codes ``0..k-1``, in the order of ``classes_``).
    copy_thresholds_ : ndarray
        With ``filter_synthetic``: least distance to a training image, per class code.
    acceptance_rate_ : dict
        After a filtered draw: class -> share of the drawn images that
        passed both checks (classes drawn in that call only).

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
    # models saved before the style split had a plain generator
    _params_added_later = {"style_dim": 0, "conditional_bn": True}

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
        diversity_weight: float = 0.1,
        lr_g: float = 5e-4,
        lr_d: float = 5e-4,
        betas=(0.5, 0.999),
        n_critic: int = 1,
        ema_decay: float | None = 0.999,
        diffaugment: str | None = "color,translation,cutout",
        info_categorical: int = 0,
        info_continuous: int = 0,
        progressive=False,
        style_dim: int = 64,
        conditional_bn: bool = True,
        minibatch_std: bool = True,
        truncation: float | None = None,
        class_balance: float = 0.0,
        lecam_weight: float = 0.0,
        ada_target: float | None = None,
        ada_interval: int = 4,
        ada_speed: float = 10_000,
        filter_synthetic: bool = False,
        filter_threshold: float = 0.5,
        filter_copy_quantile: float = 0.05,
        filter_max_tries: int = 10,
        filter_classifier_steps: int = 600,
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
        self.style_dim = style_dim
        self.conditional_bn = conditional_bn
        self.minibatch_std = minibatch_std
        self.truncation = truncation
        self.class_balance = class_balance
        self.lecam_weight = lecam_weight
        self.ada_target = ada_target
        self.ada_interval = ada_interval
        self.ada_speed = ada_speed
        self.filter_synthetic = filter_synthetic
        self.filter_threshold = filter_threshold
        self.filter_copy_quantile = filter_copy_quantile
        self.filter_max_tries = filter_max_tries
        self.filter_classifier_steps = filter_classifier_steps
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
        if isinstance(self.style_dim, bool) or not isinstance(self.style_dim, (int, np.integer)) or self.style_dim < 0:
            raise ValueError(f"style_dim must be an int >= 0 (0: no style split), got {self.style_dim!r}")
        if not isinstance(self.conditional_bn, (bool, np.bool_)):
            raise ValueError(f"conditional_bn must be True or False, got {self.conditional_bn!r}")
        if not 0.0 <= float(self.class_balance) <= 1.0:
            raise ValueError(f"class_balance must be in [0, 1], got {self.class_balance!r}")
        if self.truncation is not None and not float(self.truncation) > 0:
            raise ValueError(f"truncation must be > 0 or None, got {self.truncation!r}")
        self._check_filter_params()

    def _check_filter_params(self) -> None:
        if not isinstance(self.filter_synthetic, (bool, np.bool_)):
            raise ValueError(f"filter_synthetic must be True or False, got {self.filter_synthetic!r}")
        if isinstance(self.filter_threshold, bool) or not 0.0 <= float(self.filter_threshold) <= 1.0:
            raise ValueError(f"filter_threshold must be a probability in [0, 1], got {self.filter_threshold!r}")
        q = self.filter_copy_quantile
        if isinstance(q, bool) or not 0.0 <= float(q) < 0.5:
            raise ValueError(f"filter_copy_quantile must be in [0, 0.5), got {q!r}")
        for name in ("filter_max_tries", "filter_classifier_steps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")

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
            style_dim=self.style_dim,
            conditional_bn=self.conditional_bn,
            lr_g=self.lr_g,
            lr_d=self.lr_d,
            betas=tuple(self.betas),
            n_critic=self.n_critic,
            ema_decay=self.ema_decay,
            lecam_weight=self.lecam_weight,
            ada_target=self.ada_target,
            ada_interval=self.ada_interval,
            ada_speed=self.ada_speed,
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
        if self.filter_synthetic and n_classes < 2:
            raise ValueError("filter_synthetic=True needs class labels y with at least two classes (its classifier "
                             "checks the requested class); fit with y or set filter_synthetic=False")
        for name in ("filter_classifier_", "copy_thresholds_", "acceptance_rate_", "_filter_reference",
                     "_filter_space"):
            self.__dict__.pop(name, None)
        self.module_ = self._build_module(n_classes)
        self.module_.init_output_bias(X_internal.mean(dim=(0, 2, 3)))
        with warnings.catch_warnings():
            # the EMA copy of the generator stays in eval mode on purpose
            warnings.filterwarnings("ignore", message=r".*module\(s\) in eval mode.*")
            self._train(self.module_, self._loader(X_internal, codes, seed))
        self.module_.cpu().eval()
        if self.filter_synthetic:
            self._fit_filter(X_internal, codes, seed)

    # ------------------------------------------------------------------ filter
    def _fit_filter(self, X_internal, codes: np.ndarray, seed: int) -> None:
        """Train the filter's classifier on the real images and calibrate the copy thresholds."""
        reference = self.encoder_.inverse_transform(X_internal)  # the training images, in the caller's layout
        # class-balanced: trained on the imbalanced images, the classifier would give a rare class low
        # probabilities just for being rare, and the filter would reject its generated images for that
        balanced = balanced_indices(codes, seed)
        self.filter_classifier_ = CNNClassifier(
            width=_FILTER_WIDTH, max_steps=int(self.filter_classifier_steps), layout=self.encoder_.layout_,
            random_state=seed,
        ).fit(reference[balanced], codes[balanced])
        self._filter_reference = reference
        space = self._filter_encoded_reference()
        loo = nearest_distances(space, space, exclude_self=True)[0][:, 0]
        q = float(self.filter_copy_quantile)
        self.copy_thresholds_ = np.array([np.quantile(loo[codes == c], q) for c in range(len(self.classes_))])

    def _filter_encoded_reference(self) -> np.ndarray:
        """Training images in the copy filter's space (pixels, as :func:`ganaug.privacy.filter_copies`), cached."""
        cached = getattr(self, "_filter_space", None)
        if cached is None:
            enc = PrivacyEncoder(kind="image").fit(self._filter_reference)
            cached = (enc, enc.transform(self._filter_reference))
            self._filter_space = cached
        return cached[1]

    def filter_mask(self, X_new, codes) -> np.ndarray:
        """Which generated images pass the filter (``codes``: the class code requested for each image).

        An image passes when the filter's classifier gives its class at
        least ``filter_threshold`` and it is not a near-copy of a training
        image (see ``filter_synthetic``). Needs a model fitted with
        ``filter_synthetic=True``.
        """
        if not hasattr(self, "filter_classifier_"):
            raise ValueError("this ImageAugmenter was fitted with filter_synthetic=False: it has no filter "
                             "classifier; refit with filter_synthetic=True")
        codes = np.asarray(codes, dtype=np.int64)
        if len(codes) == 0:
            return np.zeros(0, dtype=bool)
        proba = self.filter_classifier_.predict_proba(X_new)
        keep = proba[np.arange(len(codes)), codes] >= float(self.filter_threshold)
        idx = np.flatnonzero(keep)
        if idx.size:  # distances only for the images the classifier accepted
            reference = self._filter_encoded_reference()
            enc = self._filter_space[0]
            d = nearest_distances(enc.transform(np.asarray(X_new)[idx]), reference)[0][:, 0]
            keep[idx] = (d >= self.copy_thresholds_[codes[idx]]) & (d > COPY_TOLERANCE)
        return keep

    def _filtered(self, codes: np.ndarray, seed: int):
        """Draw, check and top up until every class has its images (or ``filter_max_tries`` rounds)."""
        k = len(self.class_counts_)
        need = np.bincount(codes, minlength=k)
        drawn = np.zeros(k, dtype=np.int64)
        passed = np.zeros(k, dtype=np.int64)
        kept: list[list[np.ndarray]] = [[] for _ in range(k)]
        have = np.zeros(k, dtype=np.int64)
        share = np.full(k, 0.8)  # first guess of the acceptance rate
        rng = np.random.default_rng(seed)
        template = None
        for _ in range(int(self.filter_max_tries)):
            missing = need - have
            if not missing.any():
                break
            ask = np.where(missing > 0, np.ceil(missing / np.clip(share, 0.05, 1.0)).astype(np.int64) + 1, 0)
            cand_codes = np.repeat(np.arange(k), ask)
            X_c = self._draw(cand_codes, int(rng.integers(2**31 - 1)))
            template = X_c
            ok = self.filter_mask(X_c, cand_codes)
            drawn += ask
            passed += np.bincount(cand_codes[ok], minlength=k)
            for c in np.flatnonzero(missing):  # a loop over classes
                idx = np.flatnonzero(ok & (cand_codes == c))[: missing[c]]
                kept[c].append(X_c[idx])
                have[c] += len(idx)
            share = np.where(drawn > 0, passed / np.maximum(drawn, 1), share)
        asked = np.flatnonzero(need)
        self.acceptance_rate_ = {self._class_key(c): float(passed[c] / max(drawn[c], 1)) for c in asked}
        short = [c for c in asked if have[c] < need[c]]
        if short:
            c = short[0]
            rate = self.acceptance_rate_[self._class_key(c)]
            raise ValueError(
                f"filter_synthetic: class {self._class_key(c)!r} got {have[c]} of {need[c]} images that pass the "
                f"filter after {self.filter_max_tries} rounds (acceptance rate {rate:.2%}); lower filter_threshold "
                f"(now {self.filter_threshold}) or filter_copy_quantile, raise filter_max_tries, or train longer"
            )
        out = np.empty((len(codes),) + template.shape[1:], dtype=template.dtype)
        for c in asked:  # a loop over classes
            out[codes == c] = np.concatenate(kept[c])[: need[c]]
        return out

    def _class_key(self, code: int):
        label = self.classes_[code]
        return label.item() if isinstance(label, np.generic) else label

    def _generate(self, codes: np.ndarray, seed: int):
        if self.filter_synthetic and len(codes):
            return self._filtered(np.asarray(codes, dtype=np.int64), seed)
        return self._draw(codes, seed)

    def _draw(self, codes: np.ndarray, seed: int):
        """One generated image per entry of ``codes``, unfiltered."""
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
        if hasattr(self, "filter_classifier_"):
            clf = self.filter_classifier_
            state["filter"] = {
                "encoder": clf.encoder_.to_json(),
                "width": int(clf.width),
                "dropout": float(clf.dropout),
                "steps": int(clf.n_steps_),
                "copy_thresholds": [float(t) for t in self.copy_thresholds_],
            }
            tensors.update({_FILTER_PREFIX + k: v for k, v in clf.model_.state_dict().items()})
            tensors[_FILTER_REFERENCE] = torch.from_numpy(np.ascontiguousarray(self._filter_reference))
        return state, tensors

    def _set_state(self, state: dict, tensors: dict) -> None:
        self.encoder_ = ImageEncoder.from_json(state["encoder"])
        module = self._build_module(int(state["n_classes"]))
        weights = {k[len(_MODULE_PREFIX):]: v for k, v in tensors.items() if k.startswith(_MODULE_PREFIX)}
        module.load_state_dict(weights)
        module.grow_stage, module.grow_alpha = int(state["grow"][0]), float(state["grow"][1])
        self.module_ = module.eval()
        if "filter" in state:
            self._set_filter_state(state["filter"], tensors)

    def _set_filter_state(self, state: dict, tensors: dict) -> None:
        n_classes = len(self.class_counts_)
        clf = CNNClassifier(width=int(state["width"]), max_steps=int(state["steps"]), dropout=float(state["dropout"]),
                            layout=state["encoder"]["layout"])
        clf.classes_ = np.arange(n_classes)
        clf.encoder_ = ImageEncoder.from_json(state["encoder"])
        clf.model_ = SmallCNN(n_classes, clf.encoder_.channels_, clf.width, clf.dropout)
        clf.model_.load_state_dict(
            {k[len(_FILTER_PREFIX):]: v for k, v in tensors.items() if k.startswith(_FILTER_PREFIX)})
        clf.model_.eval()
        clf.n_steps_ = int(state["steps"])
        self.filter_classifier_ = clf
        self.copy_thresholds_ = np.asarray(state["copy_thresholds"], dtype=np.float64)
        self._filter_reference = np.asarray(tensors[_FILTER_REFERENCE])
