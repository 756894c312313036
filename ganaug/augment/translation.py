"""``TranslationAugmenter``: pix2pix / CycleGAN translation as a scikit-learn-style estimator.

A translator learns a map between two image domains A and B and then
turns given images into the other domain; it does not draw images from
noise. It reuses :class:`~ganaug.augment.base.BaseAugmenter` for what is
shared (parameters, ``random_state`` seeding, thread limits, the ``trainer``
argument, ``history_``, ``save``/``load`` through :mod:`ganaug.io`, the
registry that :func:`ganaug.load` reads) and replaces the label-driven parts:

* ``fit(X_a, X_b)`` - aligned pairs (pix2pix) or two unpaired sets (CycleGAN);
* ``transform(X)`` (A to B) and ``inverse_transform(X)`` (B to A, CycleGAN);
* ``fit_resample(X, y)`` (CycleGAN) / ``resample(X, y)`` (either model) -
  enlarge one class by translating the images of another;
* ``sample`` does not apply (there is nothing to translate) and raises.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
import torch
from imblearn.utils import check_sampling_strategy
from sklearn.utils.validation import check_is_fitted

from ganaug._labels import encode_labels, label_repr, squeeze_labels
from ganaug.augment.base import BaseAugmenter, register_augmenter
from ganaug.core.data import tensor_loader
from ganaug.exceptions import ModelFormatError
from ganaug.image.encoding import ImageEncoder, check_images
from ganaug.utils import limit_threads

__all__ = ["TranslationAugmenter"]

_MODELS = ("pix2pix", "cyclegan")


class _Domains(NamedTuple):
    a: object
    b: object


def _plain(label):
    return label.item() if isinstance(label, np.generic) else label


@register_augmenter
class TranslationAugmenter(BaseAugmenter):
    """Image-to-image translation for augmentation: pix2pix (paired) or CycleGAN (unpaired).

    Parameters
    ----------
    model : {"pix2pix", "cyclegan"}, default="pix2pix"
        ``"pix2pix"`` learns A to B from aligned pairs (U-Net + PatchGAN,
        adversarial + ``lambda_l1`` * L1); ``"cyclegan"`` learns A to B and B
        to A from two unpaired sets (two generators, two PatchGANs, LSGAN,
        cycle consistency, history pool).
    source, target : label, optional
        Class labels of domains A and B in ``fit_resample`` / ``resample``.
        ``fit_resample`` defaults to the majority (A) and minority (B) class
        when ``y`` has two classes.
    sampling_strategy : str, float, dict or callable, default="auto"
        imbalanced-learn's meanings, applied to the two classes ``source`` and
        ``target``: how many translated images each should gain.
    epochs : int, default=20
    batch_size : int, default=32
    generator : {"unet", "resnet"}, optional
        Default ``"unet"`` for pix2pix, ``"resnet"`` for CycleGAN.
    base_channels : int, default=32
        Width of the first layer of every network.
    discriminator_layers : int or "auto", default="auto"
        Stride-2 layers of the PatchGAN; ``"auto"`` scales the 70x70-on-256
        receptive field to the image size (16 pixels for 28..90-pixel images).
    loss : str, optional
        Adversarial loss by name; default ``"nonsaturating"`` for pix2pix and
        ``"lsgan"`` for CycleGAN.
    lambda_l1 : float, default=100.0
        pix2pix L1 weight.
    lambda_cycle : float, default=10.0
        CycleGAN cycle-consistency weight.
    lambda_identity : float, default=0.0
        CycleGAN identity-loss weight relative to ``lambda_cycle`` (0.5 in the
        paper for photo/painting; keep 0 when the colours must change).
    pool_size : int, default=50
        CycleGAN history of generated images.
    lr : float, default=2e-4
        Adam learning rate of both networks (betas 0.5, 0.999).
    ema_decay : float, optional
        Keep an exponential moving average of the generator(s) and translate with it.
    value_range : (float, float), optional
        Pixel range of float images (default: inferred at fit; uint8 is 0..255).
    module_options : dict, optional
        Further keyword arguments of :class:`~ganaug.image.Pix2Pix` /
        :class:`~ganaug.image.CycleGAN` (``n_blocks``, ``depth``, ``norm``,
        ``dropout``, ``n_critic``, ``instance_noise``, ``real_label``, ...).
    random_state : int, optional
        Seeds numpy, torch and Lightning: same seed, same machine, same model.
    trainer : dict or lightning.pytorch.Trainer, optional
        Trainer arguments (accelerator, devices, precision, callbacks...).

    Attributes
    ----------
    module_ : Pix2Pix or CycleGAN
        The trained LightningModule.
    encoder_a_, encoder_b_ : ImageEncoder
        Layout, dtype, channels, size and value range of each domain at fit.
    history_ : list of dict
        Per-step losses and gradient norms (``l1``; ``cycle``, ``g_adv``...).

    Notes
    -----
    Images may be ``(N, H, W)``, ``(N, C, H, W)`` or ``(N, H, W, C)``, uint8
    or float, square with a side that is a multiple of 4, 1 or 3 channels.
    ``transform`` returns the layout and dtype of its input and the same
    height and width; the networks are fully convolutional, so images of
    another size than at fit are translated too (e.g. whole scenes with
    their boxes unchanged, by a model trained on crops).

    Enlarging a class by translation (``fit_resample``): with images of
    a common class ``source`` and a rare class ``target`` that look alike
    up to a change of style (stain, sensor, weather, stroke...), CycleGAN
    learns the style change from the two unpaired sets and translates
    source images into new target images until ``sampling_strategy`` is met;
    the originals come first, unchanged.

    Examples
    --------
    Paired translation (image negation) on a few MNIST digits:

    >>> import numpy as np
    >>> from ganaug.datasets import load_mnist
    >>> from ganaug.augment.translation import TranslationAugmenter
    >>> X, _ = load_mnist()
    >>> X_a, X_b = X[:64], 255 - X[:64]
    >>> aug = TranslationAugmenter("pix2pix", epochs=1, base_channels=8, random_state=0).fit(X_a, X_b)
    >>> out = aug.transform(X[100:105])
    >>> out.shape, out.dtype
    ((5, 28, 28), dtype('uint8'))
    """

    _unsaved_params = ("trainer",)

    def __init__(
        self,
        model: str = "pix2pix",
        *,
        source=None,
        target=None,
        sampling_strategy="auto",
        epochs: int = 20,
        batch_size: int = 32,
        generator: str | None = None,
        base_channels: int = 32,
        discriminator_layers="auto",
        loss: str | None = None,
        lambda_l1: float = 100.0,
        lambda_cycle: float = 10.0,
        lambda_identity: float = 0.0,
        pool_size: int = 50,
        lr: float = 2e-4,
        ema_decay: float | None = None,
        value_range=None,
        module_options: dict | None = None,
        random_state=None,
        trainer=None,
    ) -> None:
        self.model = model
        self.source = source
        self.target = target
        self.sampling_strategy = sampling_strategy
        self.epochs = epochs
        self.batch_size = batch_size
        self.generator = generator
        self.base_channels = base_channels
        self.discriminator_layers = discriminator_layers
        self.loss = loss
        self.lambda_l1 = lambda_l1
        self.lambda_cycle = lambda_cycle
        self.lambda_identity = lambda_identity
        self.pool_size = pool_size
        self.lr = lr
        self.ema_decay = ema_decay
        self.value_range = value_range
        self.module_options = module_options
        self.random_state = random_state
        self.trainer = trainer

    # ------------------------------------------------------------------- fit
    def _check_model(self) -> str:
        if self.model not in _MODELS:
            raise ValueError(f"model must be one of {list(_MODELS)}, got {self.model!r}")
        return self.model

    def fit(self, X_a, X_b=None):
        """Learn the translation from domain A to domain B (and back, for CycleGAN).

        Parameters
        ----------
        X_a, X_b : array-like of images
            pix2pix: aligned pairs, ``X_b[i]`` is the target of ``X_a[i]``
            (same count and size). CycleGAN: two unpaired sets of the same
            image size (counts may differ).

        Returns
        -------
        self
        """
        if X_b is None:
            raise TypeError("TranslationAugmenter.fit needs both image sets: fit(X_a, X_b)")
        return super().fit(_Domains(X_a, X_b))

    def _validate_X(self, X, reset: bool):
        if not isinstance(X, _Domains):  # pragma: no cover - only fit() calls this
            raise TypeError("TranslationAugmenter.fit takes two image sets: fit(X_a, X_b)")
        model = self._check_model()
        arr_a, _ = check_images(X.a, name="X_a")
        arr_b, _ = check_images(X.b, name="X_b")
        enc_a = ImageEncoder(value_range=self.value_range).fit(arr_a)
        enc_b = ImageEncoder(value_range=self.value_range).fit(arr_b)
        if enc_a.size_ != enc_b.size_:
            raise ValueError(
                f"X_a has {enc_a.size_}x{enc_a.size_} images (shape {arr_a.shape}) but X_b has "
                f"{enc_b.size_}x{enc_b.size_} (shape {arr_b.shape}); both domains need the same image size"
            )
        if model == "pix2pix" and len(arr_a) != len(arr_b):
            raise ValueError(
                f"pix2pix learns from aligned pairs: X_a has {len(arr_a)} images (shape {arr_a.shape}) but X_b has "
                f"{len(arr_b)} (shape {arr_b.shape}); use model='cyclegan' for unpaired sets"
            )
        if model == "cyclegan" and self.lambda_identity > 0 and enc_a.channels_ != enc_b.channels_:
            raise ValueError(
                f"lambda_identity > 0 needs the same channel count in both domains, got {enc_a.channels_} (X_a, shape "
                f"{arr_a.shape}) and {enc_b.channels_} (X_b, shape {arr_b.shape})"
            )
        self.encoder_a_, self.encoder_b_ = enc_a, enc_b
        return _Domains(enc_a.transform(arr_a), enc_b.transform(arr_b))

    def _n_rows(self, X_internal) -> int:
        return int(X_internal.a.shape[0] + X_internal.b.shape[0])

    def _module_config(self) -> dict:
        model = self._check_model()
        ea, eb = self.encoder_a_, self.encoder_b_
        common = {
            "image_size": int(ea.size_),
            "base_channels": int(self.base_channels),
            "discriminator_layers": self.discriminator_layers,
            "lr_g": float(self.lr),
            "lr_d": float(self.lr),
            "ema_decay": self.ema_decay,
        }
        if model == "pix2pix":
            cfg = {"in_channels": int(ea.channels_), "out_channels": int(eb.channels_),
                   "generator": self.generator or "unet", "lambda_l1": float(self.lambda_l1),
                   "loss": self.loss or "nonsaturating"}
        else:
            cfg = {"channels_a": int(ea.channels_), "channels_b": int(eb.channels_),
                   "generator": self.generator or "resnet", "lambda_cycle": float(self.lambda_cycle),
                   "lambda_identity": float(self.lambda_identity), "pool_size": int(self.pool_size),
                   "loss": self.loss or "lsgan"}
        cfg.update(common)
        options = dict(self.module_options or {})
        clash = sorted(set(options) & set(cfg))
        if clash:
            raise ValueError(f"module_options may not set {clash}: they are TranslationAugmenter parameters")
        cfg.update(options)
        return {"model": model, "kwargs": cfg}

    @staticmethod
    def _build_module(config: dict):
        from ganaug.image.translation import CycleGAN, Pix2Pix

        cls = Pix2Pix if config["model"] == "pix2pix" else CycleGAN
        try:
            return cls(**config["kwargs"])
        except TypeError as exc:
            raise TypeError(f"invalid module_options for {cls.__name__}: {exc}") from None

    def _fit_generator(self, X_internal, codes, seed: int) -> None:
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, (int, np.integer)) or self.batch_size < 1:
            raise ValueError(f"batch_size must be an int >= 1, got {self.batch_size!r}")
        config = self._module_config()
        module = self._build_module(config)
        a, b = X_internal
        if config["model"] == "cyclegan" and len(a) != len(b):
            # unpaired: the smaller domain is cycled so every image of the larger one is seen each epoch
            n = max(len(a), len(b))
            a, b = a[torch.arange(n) % len(a)], b[torch.arange(n) % len(b)]
        loader = tensor_loader(a, b, batch_size=int(self.batch_size), seed=seed)
        self._train(module, loader)
        module.eval()
        self.module_config_ = config
        self.module_ = module

    # ------------------------------------------------------------- translate
    def _translate(self, X, direction: str, name: str = "X") -> np.ndarray:
        check_is_fitted(self, "module_")
        src, dst = (self.encoder_a_, self.encoder_b_) if direction == "ab" else (self.encoder_b_, self.encoder_a_)
        arr, _ = check_images(X, name=name)
        enc_in = ImageEncoder(value_range=src.range_ if arr.dtype == src.dtype_ else None).fit(arr)
        if enc_in.channels_ != src.channels_:
            dom = "A" if direction == "ab" else "B"
            raise ValueError(
                f"{name} has {enc_in.channels_}-channel images (shape {arr.shape}) but domain {dom} was fitted on "
                f"{src.channels_}-channel images"
            )
        limit_threads()
        out = self.module_.translate(enc_in.transform(arr), direction=direction, batch_size=max(int(self.batch_size), 256))
        layout = "NHWC" if (enc_in.layout_ == "NHW" and dst.channels_ != 1) else enc_in.layout_
        out_range = dst.range_ if arr.dtype == dst.dtype_ else enc_in.range_
        out_enc = ImageEncoder.from_json({"layout": layout, "dtype": enc_in.dtype_.str, "channels": int(dst.channels_),
                                          "size": int(enc_in.size_), "range": [float(v) for v in out_range]})
        return out_enc.inverse_transform(out.cpu())

    def transform(self, X) -> np.ndarray:
        """Translate images of domain A into domain B.

        Parameters
        ----------
        X : array-like of images
            Any layout and dtype (see Notes); any square size that is a multiple of 4.

        Returns
        -------
        ndarray
            Same layout, dtype, height and width as ``X`` (domain B's channel
            count); an object array of numbers is read as, and returned as, float64.
        """
        return self._translate(X, "ab")

    def inverse_transform(self, X) -> np.ndarray:
        """Translate images of domain B into domain A (CycleGAN only).

        Returns
        -------
        ndarray
            Same layout, dtype, height and width as ``X``.
        """
        check_is_fitted(self, "module_")
        if self.module_config_["model"] != "cyclegan":
            raise ValueError(
                "inverse_transform needs model='cyclegan': pix2pix learns one direction (A to B) only; "
                "fit a second pix2pix with the domains swapped for B to A"
            )
        return self._translate(X, "ba")

    # -------------------------------------------------------------- resample
    def _domain_labels(self, classes: np.ndarray, counts: np.ndarray, fitting: bool):
        known = {_plain(c): i for i, c in enumerate(classes)}
        src, tgt = self.source, self.target
        if src is None and tgt is None and not fitting and getattr(self, "domain_classes_", None) is not None:
            src, tgt = self.domain_classes_
        for role, label in (("source", src), ("target", tgt)):
            if label is not None and _plain(label) not in known:
                raise ValueError(f"{role} class {label_repr(label)} is not in y; classes in y: {[_plain(c) for c in classes]}")
        if src is None or tgt is None:
            if not fitting:
                raise ValueError(
                    "resample needs to know which classes are domains A and B: set source= and target= "
                    "(or learn them with fit_resample)"
                )
            if len(classes) != 2 and (src is None and tgt is None):
                raise ValueError(
                    f"y has {len(classes)} classes {[_plain(c) for c in classes]}; set source= and target= to the "
                    "two classes to translate between"
                )
            order = np.argsort(-counts, kind="stable")  # majority first
            if src is None and tgt is None:
                src, tgt = classes[order[0]], classes[order[1]]
            else:
                given = _plain(src if src is not None else tgt)
                others = [c for c in classes[order] if _plain(c) != given]
                if src is None:
                    src = others[0]
                else:
                    tgt = others[-1]
        if _plain(src) == _plain(tgt):
            raise ValueError(f"source and target must be different classes, got {label_repr(src)} for both")
        return _plain(src), _plain(tgt)

    def fit_resample(self, X, y):
        """Learn ``source`` -> ``target`` translation from labelled images (CycleGAN), then :meth:`resample`.

        Parameters
        ----------
        X : array-like of images
        y : array-like of shape (n_samples,)
            Class labels; images of classes other than ``source`` and
            ``target`` are kept but not used.

        Returns
        -------
        X_resampled, y_resampled
            The original images first, unchanged, then translated ones; same
            containers, layout and dtype as the input.
        """
        if self._check_model() != "cyclegan":
            raise ValueError(
                "fit_resample learns from class-labelled images, which are unpaired: it needs model='cyclegan'. "
                "For pix2pix, call fit(X_a, X_b) with aligned pairs, then resample(X, y)."
            )
        if y is None:
            raise ValueError("fit_resample needs class labels y")
        arr, _ = check_images(X, name="X")
        classes, codes, _ = encode_labels(y, len(arr))
        if len(classes) < 2:
            raise ValueError(f"y has only one class ({label_repr(classes[0])}); fit_resample needs two to translate between")
        src, tgt = self._domain_labels(classes, np.bincount(codes), fitting=True)
        labels = np.array([_plain(c) for c in classes], dtype=object)[codes]
        self.fit(arr[labels == src], arr[labels == tgt])
        self.domain_classes_ = (src, tgt)
        return self.resample(X, y)

    def resample(self, X, y):
        """Enlarge ``source`` or ``target`` by translating images of the other, with a fitted model.

        ``target`` gains ``transform`` ed source images; ``source`` gains
        ``inverse_transform`` ed target images (CycleGAN only). Images are drawn
        without replacement (each translation is deterministic), so a class can
        gain at most as many images as the other class has; a larger request
        is cut to that with a warning.

        Parameters
        ----------
        X : array-like of images
        y : array-like of shape (n_samples,)

        Returns
        -------
        X_resampled, y_resampled
        """
        check_is_fitted(self, "module_")
        arr, _ = check_images(X, name="X")
        classes, codes, fmt = encode_labels(y, len(arr))
        src, tgt = self._domain_labels(classes, np.bincount(codes, minlength=len(classes)), fitting=False)
        labels = np.array([_plain(c) for c in classes], dtype=object)[codes]
        in_pair = (labels == src) | (labels == tgt)
        y_pair = classes[codes][in_pair]
        if len(np.unique(y_pair)) < 2:
            raise ValueError(f"y needs images of both {label_repr(src)} and {label_repr(tgt)} to resample")
        strategy = check_sampling_strategy(self.sampling_strategy, y_pair, self._sampling_type)
        self.sampling_strategy_ = strategy
        rng = np.random.default_rng(self.seed_)
        new_X, new_y = [], []
        for label, n_new in strategy.items():
            n_new = int(n_new)
            if n_new <= 0:
                continue
            if _plain(label) == tgt:
                direction, pool = "ab", np.flatnonzero(labels == src)
            else:
                if self.module_config_["model"] != "cyclegan":
                    raise ValueError(
                        f"sampling_strategy asks for more images of the source class {label_repr(label)}; pix2pix "
                        "translates source to target only"
                    )
                direction, pool = "ba", np.flatnonzero(labels == tgt)
            if n_new > len(pool):
                warnings.warn(
                    f"class {label_repr(label)} would need {n_new} new images but only {len(pool)} images can be "
                    f"translated into it; adding {len(pool)}", UserWarning, stacklevel=2,
                )
                n_new = len(pool)
            pick = np.sort(rng.choice(pool, size=n_new, replace=False))
            new_X.append(self._translate(arr[pick], direction))
            new_y.append(np.repeat(np.asarray([label], dtype=classes.dtype), n_new))
        y_original = squeeze_labels(y)
        if fmt.kind != "series":
            y_original = np.asarray(y_original)
        original = np.asarray(X)  # the caller's dtype (an object array stays object), values unchanged
        base = original if original.shape == arr.shape else arr
        if not new_X:
            return base.copy(), fmt.concat(y_original, fmt.build(classes[codes[:0]]))
        X_res = np.concatenate([base, *[x.astype(base.dtype, copy=False) for x in new_X]])
        y_new = fmt.build(np.concatenate(new_y))
        return X_res, fmt.concat(y_original, y_new)

    def _fit_resample(self, X, y):
        return self.fit_resample(X, y)

    def sample(self, n_samples, random_state=None):
        """Not available: a translator turns given images into another domain.

        Use :meth:`transform`, :meth:`inverse_transform` or :meth:`resample`.
        """
        raise TypeError(
            "TranslationAugmenter translates given images and draws none from noise: use transform(X), "
            "inverse_transform(X) or resample(X, y)"
        )

    # ------------------------------------------------------------ persistence
    def _get_state(self) -> tuple[dict, dict]:
        check_is_fitted(self, "module_")
        state = {
            "module": self.module_config_,
            "encoders": {"a": self.encoder_a_.to_json(), "b": self.encoder_b_.to_json()},
            "domain_classes": None if getattr(self, "domain_classes_", None) is None else list(self.domain_classes_),
        }
        tensors = {k: v for k, v in self.module_.state_dict().items()
                   if k.startswith(("generator.", "generator_ema."))}
        return state, tensors

    def _set_state(self, state: dict, tensors: dict) -> None:
        self.encoder_a_ = ImageEncoder.from_json(state["encoders"]["a"])
        self.encoder_b_ = ImageEncoder.from_json(state["encoders"]["b"])
        self.module_config_ = state["module"]
        module = self._build_module(self.module_config_)
        missing, unexpected = module.load_state_dict(tensors, strict=False)
        missing = [k for k in missing if not k.startswith("discriminator.")]
        if missing or unexpected:
            raise ModelFormatError(
                f"saved weights do not match the translation model: missing {missing[:3]}, unexpected {unexpected[:3]}"
            )
        module.eval()
        self.module_ = module
        dc = state.get("domain_classes")
        self.domain_classes_ = None if dc is None else tuple(dc)
