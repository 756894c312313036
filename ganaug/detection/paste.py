"""``ObjectPasteAugmenter``: more instances of rare classes for a detector, pasted into real scenes.

Objects are cropped from their boxes (with a little context around them),
either reused as they are (``source="real"``: copy-paste) or learnt by the
conditional image GAN of :class:`~ganaug.augment.image.ImageAugmenter`
(``source="gan"``), which then generates new objects of the rare classes.
Each new object gets a size drawn from the real boxes of its class, a place
where it hides no existing box by more than ``max_overlap``, and is blended
in (feathered alpha or Poisson). The result is new images with their boxes.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from imblearn.utils import check_sampling_strategy

from ganaug.detection.boxes import box_ioa, check_target

__all__ = ["ObjectPasteAugmenter", "check_detection_data"]

_BLENDS = ("alpha", "poisson", "replace")
_SOURCES = ("gan", "real", "mixed")


def check_detection_data(images, targets, fmt: str = "pascal_voc", name: str = "images"):
    """Validate a detection data set; return images as a list of (H, W[, C]) arrays and pascal_voc targets.

    ``images`` is an array (N, H, W) or (N, H, W, C) (C in 1, 3, 4) or a
    list of such (H, W[, C]) arrays of any sizes; ``targets`` a list of
    ``{"boxes", "labels"}`` dicts of the same length, boxes in ``fmt``.
    """
    from ganaug.detection.boxes import convert_boxes

    if isinstance(images, np.ndarray):
        if images.ndim not in (3, 4):
            raise ValueError(f"{name} must be an array (N, H, W) or (N, H, W, C), got shape {images.shape}")
        if images.ndim == 4 and images.shape[-1] not in (1, 3, 4):
            raise ValueError(f"{name} must be channels-last (N, H, W, C) with C in 1, 3 or 4, got shape {images.shape}")
        imgs = list(images)
    elif isinstance(images, (list, tuple)):
        imgs = [np.asarray(im) for im in images]
    else:
        raise TypeError(f"{name} must be a numpy array or a list of arrays, got {type(images).__name__}")
    if not isinstance(targets, (list, tuple)):
        raise TypeError(f"targets must be a list of dicts {{'boxes', 'labels'}}, got {type(targets).__name__}")
    if len(imgs) != len(targets):
        raise ValueError(f"{name} has {len(imgs)} images but targets has {len(targets)} entries; they must match")
    if len(imgs) == 0:
        raise ValueError(f"{name} is empty")
    out = []
    for i, (im, t) in enumerate(zip(imgs, targets)):  # one check per image, each vectorised over its boxes
        if im.ndim not in (2, 3) or (im.ndim == 3 and im.shape[-1] not in (1, 3, 4)):
            raise ValueError(f"{name}[{i}] must be (H, W) or (H, W, C) with C in 1, 3, 4, got shape {im.shape}")
        if im.dtype == bool or not np.issubdtype(im.dtype, np.number):
            raise TypeError(f"{name}[{i}] must be numeric, got dtype {im.dtype}")
        checked = check_target(t, im.shape[:2], fmt, name=f"targets[{i}]")
        if fmt != "pascal_voc":
            checked["boxes"] = convert_boxes(checked["boxes"], fmt, "pascal_voc", im.shape[:2]).astype(np.float32)
        out.append(checked)
    return imgs, out


def _resize(img: np.ndarray, w: int, h: int) -> np.ndarray:
    import cv2

    squeeze = img.ndim == 3 and img.shape[-1] == 1
    src = img[..., 0] if squeeze else img
    interp = cv2.INTER_AREA if w * h < src.shape[0] * src.shape[1] else cv2.INTER_LINEAR
    res = cv2.resize(np.ascontiguousarray(src), (int(w), int(h)), interpolation=interp)
    return res[..., None] if squeeze else res


def _crop_with_context(image: np.ndarray, box: np.ndarray, margin: float) -> np.ndarray:
    """The box enlarged by ``margin`` of its size on each side; the part outside the image repeats the edge."""
    x0, y0, x1, y1 = box
    mx, my = margin * (x1 - x0), margin * (y1 - y0)
    X0, Y0 = int(np.floor(x0 - mx)), int(np.floor(y0 - my))
    X1, Y1 = int(np.ceil(x1 + mx)), int(np.ceil(y1 + my))
    h, w = image.shape[:2]
    cx0, cy0, cx1, cy1 = max(X0, 0), max(Y0, 0), min(X1, w), min(Y1, h)
    crop = image[cy0:cy1, cx0:cx1]
    pad = [(cy0 - Y0, Y1 - cy1), (cx0 - X0, X1 - cx1)] + [(0, 0)] * (image.ndim - 2)
    return np.pad(crop, pad, mode="edge")


def _feather_mask(h: int, w: int, ramp_y: float, ramp_x: float) -> np.ndarray:
    """Alpha 1 in the middle, falling linearly to 0 over ``ramp`` pixels at the edges."""
    yy = np.minimum(np.arange(h) + 0.5, h - np.arange(h) - 0.5)
    xx = np.minimum(np.arange(w) + 0.5, w - np.arange(w) - 0.5)
    ay = np.clip(yy / max(ramp_y, 1e-6), 0, 1)
    ax = np.clip(xx / max(ramp_x, 1e-6), 0, 1)
    return np.minimum(ay[:, None], ax[None, :])


class ObjectPasteAugmenter:
    """Paste generated (or real) objects of rare classes into training images, with their boxes.

    Parameters
    ----------
    source : {"gan", "real", "mixed"}, default="gan"
        ``"gan"``: train a class-conditional GAN
        (:class:`~ganaug.augment.image.ImageAugmenter`) on the object crops
        of all classes and paste newly generated objects; ``"real"``:
        copy-paste the real crops (the baseline to measure the GAN against);
        ``"mixed"``: a share ``real_share`` of the pasted objects are real
        crops, the rest generated.
    real_share : float, default=0.5
        With ``source="mixed"``: share of pasted objects (per class) that are real crops.
    sampling_strategy : str, float, dict or callable, default="auto"
        imbalanced-learn's meanings, applied to **instance** (box) counts per
        class: ``"auto"`` adds instances to every class but the most common
        until all have as many boxes as it.
    objects_per_image : (int, int), default=(1, 3)
        Fewest and most objects pasted into one new image.
    max_overlap : float, default=0.1
        A pasted object's region (box plus context) covers at most this share
        of any existing box's area (existing and earlier pasted boxes).
    context : float, default=0.15
        Crops include this share of the box's width/height as background on
        each side; the feathered alpha fades over this margin.
    blend : {"alpha", "poisson", "replace"}, default="alpha"
        Feathered alpha blending, Poisson blending (OpenCV ``seamlessClone``,
        uint8 images only) or a hard paste.
    scale_jitter : float, default=0.1
        A pasted object's width and height are those of a random real box of
        its class (relative to its image), times ``1 +- scale_jitter``.
    object_size : int, default=28
        Side (multiple of 4) to which crops are resized for the GAN.
    gan : ImageAugmenter, optional
        The (unfitted) GAN to train on the crops; default
        ``ImageAugmenter(epochs=epochs, random_state=random_state)``. A GAN
        given without a ``random_state`` gets a seed drawn from this
        augmenter's, so one ``random_state`` repeats the whole fit.
    epochs : int, default=30
        Epochs of the default GAN.
    gan_max_per_class : int, optional
        Train the GAN on at most this many crops per class (speed).
    box_format : str, default="pascal_voc"
        Format of the boxes given to ``fit`` / ``fit_resample`` and returned.
    random_state : int, optional

    Attributes
    ----------
    classes_ : ndarray
        Class ids of the instances seen in ``fit``.
    instance_counts_ : dict
        Boxes per class.
    sampling_strategy_ : dict
        Instances to add per class.
    gan_ : ImageAugmenter
        The fitted GAN (``source="gan"``).
    n_failed_ : int
        Objects of the last :meth:`paste` that found no place (a warning says so).

    Examples
    --------
    >>> from ganaug.datasets import load_mnist
    >>> from ganaug.detection import ObjectPasteAugmenter, make_digit_scenes
    >>> X, y = load_mnist()
    >>> images, targets, _ = make_digit_scenes(X, y, 40, class_weights={3: 1.0, 8: 0.2}, random_state=0)
    >>> aug = ObjectPasteAugmenter(source="real", random_state=0)
    >>> new_images, new_targets = aug.fit(images, targets).paste(images, targets)
    >>> import numpy as np
    >>> aug.instance_counts_, aug.sampling_strategy_
    ({3: 121, 8: 26}, {8: 95})
    >>> pasted = np.concatenate([t["labels"][t["pasted"]] for t in new_targets])
    >>> len(pasted), set(pasted.tolist()), len(new_images) < 95
    (95, {8}, True)
    """

    def __init__(self, source: str = "gan", sampling_strategy="auto", objects_per_image=(1, 3),
                 max_overlap: float = 0.1, context: float = 0.15, blend: str = "alpha", scale_jitter: float = 0.1,
                 object_size: int = 28, gan=None, epochs: int = 30, gan_max_per_class: int | None = None,
                 box_format: str = "pascal_voc", real_share: float = 0.5, random_state=None):
        self.source = source
        self.real_share = real_share
        self.sampling_strategy = sampling_strategy
        self.objects_per_image = objects_per_image
        self.max_overlap = max_overlap
        self.context = context
        self.blend = blend
        self.scale_jitter = scale_jitter
        self.object_size = object_size
        self.gan = gan
        self.epochs = epochs
        self.gan_max_per_class = gan_max_per_class
        self.box_format = box_format
        self.random_state = random_state

    # ----------------------------------------------------------------- fitting
    def _check_params(self) -> None:
        if self.source not in _SOURCES:
            raise ValueError(f"source must be one of {_SOURCES}, got {self.source!r}")
        if not 0.0 <= float(self.real_share) <= 1.0:
            raise ValueError(f"real_share must be in [0, 1], got {self.real_share!r}")
        if self.blend not in _BLENDS:
            raise ValueError(f"blend must be one of {_BLENDS}, got {self.blend!r}")
        lo, hi = self.objects_per_image
        if not 1 <= int(lo) <= int(hi):
            raise ValueError(f"objects_per_image must be (min, max) with 1 <= min <= max, got {self.objects_per_image!r}")
        if not 0.0 <= float(self.max_overlap) <= 1.0:
            raise ValueError(f"max_overlap must be in [0, 1], got {self.max_overlap!r}")
        if not 0.0 <= float(self.context) <= 1.0:
            raise ValueError(f"context must be in [0, 1], got {self.context!r}")
        if not 0.0 <= float(self.scale_jitter) < 1.0:
            raise ValueError(f"scale_jitter must be in [0, 1), got {self.scale_jitter!r}")
        if int(self.object_size) < 4 or int(self.object_size) % 4:
            raise ValueError(f"object_size must be a multiple of 4 (>= 4), got {self.object_size!r}")

    def fit(self, images, targets):
        """Crop the objects, record their sizes and (``source="gan"``) train the GAN on the crops.

        Parameters
        ----------
        images : ndarray (N, H, W[, C]) or list of (H, W[, C]) arrays
        targets : list of dict
            ``{"boxes": (K, 4), "labels": (K,)}`` per image, boxes in ``box_format``.

        Returns
        -------
        self
        """
        self._check_params()
        imgs, tgts = check_detection_data(images, targets, self.box_format)
        seed = int(np.random.default_rng(self.random_state).integers(2**31 - 1))
        self.seed_ = seed
        self._ndim, self._channels = imgs[0].ndim, (imgs[0].shape[-1] if imgs[0].ndim == 3 else 0)
        labels = np.concatenate([t["labels"] for t in tgts])
        if len(labels) == 0:
            raise ValueError("targets hold no boxes at all; there is nothing to learn objects from")
        self.classes_, counts = np.unique(labels, return_counts=True)
        self.instance_counts_ = {int(c): int(n) for c, n in zip(self.classes_, counts)}
        if len(self.classes_) < 2 and self.sampling_strategy == "auto":
            raise ValueError("only one class has boxes; sampling_strategy='auto' needs at least two")
        self.sampling_strategy_ = {int(k): int(v) for k, v in
                                   check_sampling_strategy(self.sampling_strategy, labels, "over-sampling").items()}
        # crops with context and relative box sizes, per class
        crops, rel = [], []
        for im, t in zip(imgs, tgts):  # per box: crops of different sizes
            h, w = im.shape[:2]
            for b in t["boxes"]:
                crops.append(_crop_with_context(im, b, float(self.context)))
            rel.append((t["boxes"][:, 2:] - t["boxes"][:, :2]) / np.array([w, h], np.float32))
        self.crop_labels_ = labels.astype(np.int64)
        self._crops = crops
        self.box_sizes_ = np.concatenate(rel).astype(np.float64)  # (n_instances, 2): width, height relative
        self.dtype_ = imgs[0].dtype
        if self.source in ("gan", "mixed"):
            self._fit_gan(seed)
        return self

    def _crop_array(self, index: np.ndarray) -> np.ndarray:
        s = int(self.object_size)
        return np.stack([_resize(self._crops[i], s, s) for i in index])

    def _fit_gan(self, seed: int) -> None:
        from sklearn.base import clone

        from ganaug.augment.image import ImageAugmenter

        rng = np.random.default_rng(seed)
        index = np.arange(len(self.crop_labels_))
        if self.gan_max_per_class is not None:
            cap = int(self.gan_max_per_class)
            index = np.concatenate([rng.permutation(np.flatnonzero(self.crop_labels_ == c))[:cap]
                                    for c in self.classes_])
        if self.gan is None:
            gan = ImageAugmenter(epochs=int(self.epochs), random_state=seed)
        else:
            gan = clone(self.gan)
            if gan.get_params().get("random_state") is None:  # unseeded: this augmenter's seed makes it repeatable
                gan.set_params(random_state=seed)
        X = self._crop_array(index)
        self.gan_ = gan.fit(X, self.crop_labels_[index])

    # -------------------------------------------------------------- generation
    def sample_objects(self, counts: dict, random_state=None):
        """Objects to paste: ``counts[c]`` crops of class ``c`` (generated, or real crops drawn with replacement).

        Returns a list of (h, w[, C]) arrays (each with its context margin) and their labels.
        """
        self._check_fitted()
        rng = np.random.default_rng(random_state)
        wanted = {int(c): int(n) for c, n in counts.items() if int(n) > 0}
        unknown = [c for c in wanted if c not in self.instance_counts_]
        if unknown:
            raise ValueError(f"class {unknown[0]} has no boxes in the data the augmenter was fitted on")
        if not wanted:
            return [], np.zeros(0, np.int64)
        if self.source == "mixed":
            n_real = {c: int(round(float(self.real_share) * n)) for c, n in wanted.items()}
            real_objs, real_labels = self._real_objects(n_real, rng)
            gan_objs, gan_labels = self._gan_objects({c: n - n_real[c] for c, n in wanted.items()}, rng)
            return real_objs + gan_objs, np.concatenate([real_labels, gan_labels])
        if self.source == "gan":
            return self._gan_objects(wanted, rng)
        return self._real_objects(wanted, rng)

    def _gan_objects(self, wanted: dict, rng):
        wanted = {c: n for c, n in wanted.items() if n > 0}
        if not wanted:
            return [], np.zeros(0, np.int64)
        X, y = self.gan_.sample(wanted, random_state=int(rng.integers(2**31 - 1)))
        X = np.asarray(X)
        if self._ndim == 3 and X.ndim == 3:
            X = X[..., None]
        return list(X), np.asarray(y, dtype=np.int64)

    def _real_objects(self, wanted: dict, rng):
        objs, labels = [], [np.zeros(0, np.int64)]
        for c, n in wanted.items():  # a loop over classes
            if n <= 0:
                continue
            pick = rng.choice(np.flatnonzero(self.crop_labels_ == c), n, replace=True)
            objs.extend(self._crops[i] for i in pick)
            labels.append(np.full(n, c, np.int64))
        return objs, np.concatenate(labels)

    def _check_fitted(self) -> None:
        if not hasattr(self, "classes_"):
            raise ValueError("this ObjectPasteAugmenter is not fitted yet; call fit(images, targets) first")

    def _draw_size(self, c: int, h: int, w: int, rng) -> tuple[int, int]:
        sizes = self.box_sizes_[self.crop_labels_ == c]
        rw, rh = sizes[rng.integers(len(sizes))] * (1 + rng.uniform(-1, 1, 2) * float(self.scale_jitter))
        m = 1 + 2 * float(self.context)
        bw = int(np.clip(round(rw * w), 2, max(2, int(w / m))))
        bh = int(np.clip(round(rh * h), 2, max(2, int(h / m))))
        return bw, bh

    def _paste_one(self, canvas: np.ndarray, boxes: np.ndarray, obj: np.ndarray, bw: int, bh: int, rng):
        """Paste ``obj`` as a ``bw x bh`` box into ``canvas`` (in place); the new box or None when no place is free."""
        h, w = canvas.shape[:2]
        c = float(self.context)
        mx, my = int(round(c * bw)), int(round(c * bh))
        rw, rh = bw + 2 * mx, bh + 2 * my
        if rw > w or rh > h:
            return None
        n_try = 32
        x0 = rng.integers(0, w - rw + 1, n_try)
        y0 = rng.integers(0, h - rh + 1, n_try)
        regions = np.stack([x0, y0, x0 + rw, y0 + rh], axis=1).astype(np.float64)
        if len(boxes):
            ok = box_ioa(regions, boxes).max(axis=1) <= float(self.max_overlap) + 1e-9
        else:
            ok = np.ones(n_try, bool)
        if not ok.any():
            return None
        k = int(np.argmax(ok))
        X0, Y0 = int(x0[k]), int(y0[k])
        patch = _resize(obj, rw, rh)
        if patch.ndim == 2 and canvas.ndim == 3:
            patch = patch[..., None]
        dst = canvas[Y0:Y0 + rh, X0:X0 + rw]
        if self.blend == "replace":
            dst[...] = patch.astype(canvas.dtype)
        elif self.blend == "alpha":
            alpha = _feather_mask(rh, rw, max(my, 1), max(mx, 1))
            if canvas.ndim == 3:
                alpha = alpha[..., None]
            mixed = alpha * patch.astype(np.float64) + (1 - alpha) * dst.astype(np.float64)
            if np.issubdtype(canvas.dtype, np.integer):
                mixed = np.clip(np.rint(mixed), np.iinfo(canvas.dtype).min, np.iinfo(canvas.dtype).max)
            dst[...] = mixed.astype(canvas.dtype)
        else:
            self._poisson(canvas, patch, X0, Y0)
        return np.array([X0 + mx, Y0 + my, X0 + mx + bw, Y0 + my + bh], np.float32)

    @staticmethod
    def _poisson(canvas: np.ndarray, patch: np.ndarray, X0: int, Y0: int) -> None:
        import cv2

        if canvas.dtype != np.uint8:
            raise ValueError("blend='poisson' needs uint8 images")
        grey = canvas.ndim == 2 or canvas.shape[-1] == 1
        to3 = (lambda a: np.repeat(a.reshape(a.shape[0], a.shape[1], 1), 3, axis=2)) if grey else (lambda a: a[..., :3])
        src, dst = np.ascontiguousarray(to3(patch.astype(np.uint8))), np.ascontiguousarray(to3(canvas))
        rh, rw = src.shape[:2]
        mask = np.zeros((rh, rw), np.uint8)
        mask[1:-1, 1:-1] = 255
        if rh < 3 or rw < 3:
            return
        center = (X0 + rw // 2, Y0 + rh // 2)
        out = cv2.seamlessClone(src, dst, mask, center, cv2.NORMAL_CLONE)
        region = out[Y0:Y0 + rh, X0:X0 + rw]
        if grey:
            value = region[..., 0]
            if canvas.ndim == 3:
                value = value[..., None]
        else:
            value = region if canvas.shape[-1] == 3 else np.concatenate([region, canvas[Y0:Y0 + rh, X0:X0 + rw, 3:]], -1)
        canvas[Y0:Y0 + rh, X0:X0 + rw] = value

    def paste(self, images, targets, counts: dict | None = None, random_state=None):
        """New images: copies of random ``images`` with objects pasted in, and their targets.

        Parameters
        ----------
        images, targets
            The scenes to paste into (usually the training set).
        counts : dict, optional
            Instances to add per class; default ``sampling_strategy_``.
        random_state : int, optional
            Seed of this draw (default: derived from the augmenter's).

        Returns
        -------
        new_images : list of arrays, or an array when all images share one shape
        new_targets : list of dict
            The image's original boxes followed by the pasted ones
            (``box_format``); ``"pasted"`` marks the pasted boxes.
        """
        from ganaug.detection.boxes import convert_boxes

        self._check_fitted()
        imgs, tgts = check_detection_data(images, targets, self.box_format)
        seed = self.seed_ + 1 if random_state is None else random_state
        rng = np.random.default_rng(seed)
        counts = self.sampling_strategy_ if counts is None else counts
        objs, labels = self.sample_objects(counts, random_state=int(rng.integers(2**31 - 1)))
        order = rng.permutation(len(labels))
        lo, hi = int(self.objects_per_image[0]), int(self.objects_per_image[1])
        new_images, new_targets = [], []
        pos, failed = 0, 0
        while pos < len(order):  # a loop over new images, a few objects each
            k = int(rng.integers(lo, hi + 1))
            chunk = order[pos:pos + k]
            pos += len(chunk)
            leftover = list(chunk)
            for _attempt in range(5):
                i = int(rng.integers(len(imgs)))
                canvas = imgs[i].copy()
                boxes = tgts[i]["boxes"].astype(np.float64)
                added, add_labels, rest = [], [], []
                for j in leftover:
                    c = int(labels[j])
                    bw, bh = self._draw_size(c, canvas.shape[0], canvas.shape[1], rng)
                    box = self._paste_one(canvas, boxes, objs[j], bw, bh, rng)
                    if box is None:
                        rest.append(j)
                        continue
                    boxes = np.concatenate([boxes, box[None].astype(np.float64)])
                    added.append(box)
                    add_labels.append(c)
                if added:
                    n_old = len(tgts[i]["labels"])
                    out_boxes = boxes.astype(np.float32)
                    if self.box_format != "pascal_voc":
                        out_boxes = convert_boxes(out_boxes, "pascal_voc", self.box_format,
                                                  canvas.shape[:2]).astype(np.float32)
                    new_images.append(canvas)
                    new_targets.append({
                        "boxes": out_boxes,
                        "labels": np.concatenate([tgts[i]["labels"], np.array(add_labels, np.int64)]),
                        "pasted": np.arange(len(boxes)) >= n_old,
                    })
                leftover = rest
                if not leftover:
                    break
            failed += len(leftover)
        self.n_failed_ = failed
        if failed:
            warnings.warn(f"{failed} of {len(labels)} objects found no place with max_overlap={self.max_overlap} "
                          "after 5 images x 32 positions each; they were not pasted", RuntimeWarning, stacklevel=2)
        if new_images and len({im.shape for im in new_images}) == 1 and isinstance(images, np.ndarray):
            new_images = np.stack(new_images)
        return new_images, new_targets

    def fit_resample(self, images, targets):
        """``fit`` then return the original images and targets followed by the new ones."""
        new_images, new_targets = self.fit(images, targets).paste(images, targets)
        return self._concat(images, targets, new_images, new_targets)

    def resample(self, images, targets, random_state=None):
        """Originals followed by a fresh draw of pasted images (the augmenter stays as fitted)."""
        new_images, new_targets = self.paste(images, targets, random_state=random_state)
        return self._concat(images, targets, new_images, new_targets)

    @staticmethod
    def _concat(images, targets, new_images, new_targets):
        all_targets = [dict(t) for t in targets] + list(new_targets)
        if isinstance(images, np.ndarray) and isinstance(new_images, np.ndarray):
            return np.concatenate([images, new_images.astype(images.dtype, copy=False)]), all_targets
        if isinstance(images, np.ndarray) and len(new_images) == 0:
            return images.copy(), all_targets
        return list(images) + list(new_images), all_targets

    # ------------------------------------------------------------- persistence
    _SAVED_PARAMS = ("source", "sampling_strategy", "objects_per_image", "max_overlap", "context", "blend",
                     "scale_jitter", "object_size", "epochs", "gan_max_per_class", "box_format", "real_share",
                     "random_state")

    def save(self, path) -> Path:
        """Save the fitted augmenter to a directory (JSON + safetensors, no pickle; the GAN in ``path/gan``)."""
        from ganaug.io import save_model_dir

        self._check_fitted()
        params = {}
        for name in self._SAVED_PARAMS:
            value = getattr(self, name)
            if name == "sampling_strategy" and callable(value):
                value = self.sampling_strategy_  # a callable is stored as what it resolved to
            if name == "random_state" and not (value is None or isinstance(value, (int, np.integer))):
                value = None
            params[name] = list(value) if isinstance(value, tuple) else value
        if isinstance(params["sampling_strategy"], dict):
            params["sampling_strategy"] = {str(k): int(v) for k, v in params["sampling_strategy"].items()}
        config = {
            "kind": "ObjectPasteAugmenter",
            "params": params,
            "instance_counts": {str(k): v for k, v in self.instance_counts_.items()},
            "sampling_strategy_": {str(k): v for k, v in self.sampling_strategy_.items()},
            "seed": int(self.seed_),
            "ndim": int(self._ndim),
            "channels": int(self._channels),
            "dtype": np.dtype(self.dtype_).str,
            "crop_shapes": [list(c.shape) for c in self._crops],
        }
        flat = np.concatenate([c.reshape(-1) for c in self._crops]) if self._crops else np.zeros(0)
        tensors = {"crops": np.ascontiguousarray(flat), "crop_labels": self.crop_labels_,
                   "box_sizes": self.box_sizes_, "classes": np.asarray(self.classes_, np.int64)}
        out = save_model_dir(path, config, tensors)
        if hasattr(self, "gan_"):
            self.gan_.save(Path(path) / "gan")
        return out

    @classmethod
    def load(cls, path) -> "ObjectPasteAugmenter":
        """Load an augmenter written by :meth:`save` (hashes checked; no pickle)."""
        from ganaug.exceptions import ModelFormatError
        from ganaug.io import load_model_dir

        config, tensors = load_model_dir(path)
        if config.get("kind") != "ObjectPasteAugmenter":
            raise ModelFormatError(f"{str(path)!r} does not hold an ObjectPasteAugmenter")
        params = dict(config["params"])
        if isinstance(params.get("sampling_strategy"), dict):
            params["sampling_strategy"] = {int(k): int(v) for k, v in params["sampling_strategy"].items()}
        params["objects_per_image"] = tuple(params["objects_per_image"])
        aug = cls(**params)
        aug.instance_counts_ = {int(k): int(v) for k, v in config["instance_counts"].items()}
        aug.sampling_strategy_ = {int(k): int(v) for k, v in config["sampling_strategy_"].items()}
        aug.seed_ = int(config["seed"])
        aug._ndim, aug._channels = int(config["ndim"]), int(config["channels"])
        aug.dtype_ = np.dtype(config["dtype"])
        flat = tensors["crops"].numpy()
        crops, pos = [], 0
        for shape in config["crop_shapes"]:
            n = int(np.prod(shape))
            crops.append(flat[pos:pos + n].reshape(shape).astype(aug.dtype_))
            pos += n
        aug._crops = crops
        aug.crop_labels_ = tensors["crop_labels"].numpy().astype(np.int64)
        aug.box_sizes_ = tensors["box_sizes"].numpy().astype(np.float64)
        aug.classes_ = tensors["classes"].numpy().astype(np.int64)
        if aug.source in ("gan", "mixed"):
            from ganaug.augment.image import ImageAugmenter

            aug.gan_ = ImageAugmenter.load(Path(path) / "gan")
        return aug
