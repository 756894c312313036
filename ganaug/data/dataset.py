"""``AugmentedDataset``: real items plus synthetic items of the rare classes, one torch Dataset."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from ganaug._labels import allocate_counts, label_repr
from ganaug.data.transforms import apply_transform, limit_worker_threads
from ganaug.utils import seed_from_random_state

__all__ = ["AugmentedDataset", "synthetic_counts"]


def synthetic_counts(class_counts, synthetic_ratio: float | None = None, balance: bool = True) -> np.ndarray:
    """How many synthetic items each class gets.

    Parameters
    ----------
    class_counts : array-like of int
        Real items per class.
    synthetic_ratio : float, optional
        Synthetic items per real item (``round(ratio * n_real)`` in all).
        ``None``: with ``balance`` exactly enough to bring every class up to
        the largest one; without ``balance``, 1.0.
    balance : bool, default=True
        Fill the smallest classes first (water filling), then share any rest
        equally; ``False`` shares the total in proportion to the real counts.

    Examples
    --------
    >>> from ganaug.data.dataset import synthetic_counts
    >>> synthetic_counts([10, 100]).tolist()
    [90, 0]
    >>> synthetic_counts([10, 100], synthetic_ratio=1.0).tolist()
    [100, 10]
    >>> synthetic_counts([10, 100], synthetic_ratio=0.5, balance=False).tolist()
    [5, 50]
    """
    counts = np.asarray(class_counts, dtype=np.int64)
    if counts.ndim != 1 or len(counts) == 0 or (counts < 0).any():
        raise ValueError(f"class_counts must be a non-empty 1-D array of counts, got {class_counts!r}")
    n_real = int(counts.sum())
    if synthetic_ratio is None:
        if balance:
            return counts.max() - counts
        synthetic_ratio = 1.0
    try:
        ratio = float(synthetic_ratio)
    except (TypeError, ValueError):
        raise TypeError(f"synthetic_ratio must be a number or None, got {synthetic_ratio!r}") from None
    if not np.isfinite(ratio) or ratio < 0:
        raise ValueError(f"synthetic_ratio must be a finite number >= 0, got {synthetic_ratio!r}")
    total = int(round(ratio * n_real))
    if not balance:
        return allocate_counts(total, counts) if total else np.zeros_like(counts)
    # water filling: raise the lowest classes to a common level L, then split what is left
    order = np.sort(counts)
    level, rest = order[0], total
    for i in range(1, len(order) + 1):  # loop over classes, not items
        nxt = order[i] if i < len(order) else None
        need = (nxt - level) * i if nxt is not None else None
        if need is None or need > rest:
            level = level + rest // i
            rest = rest % i
            break
        level, rest = nxt, rest - need
    out = np.maximum(level - counts, 0)
    if rest:
        below = np.flatnonzero(counts <= level)
        out[below[:rest]] += 1
    return out


def _label_like(value, example):
    if isinstance(example, torch.Tensor):
        return torch.as_tensor(value, dtype=example.dtype)
    if isinstance(example, np.generic):
        return np.asarray(value, dtype=example.dtype)[()]
    if isinstance(example, bool):
        return bool(value)
    if isinstance(example, int):
        return int(value)
    if isinstance(example, float):
        return float(value)
    if isinstance(example, str):
        return str(value)
    return value.item() if isinstance(value, np.generic) else value


def _item_image(image) -> np.ndarray:
    """A dataset item's image as a numpy array (PIL images and tensors included)."""
    if isinstance(image, torch.Tensor):
        return image.detach().cpu().numpy()
    return np.asarray(image)


def _is_detection_base(base, y) -> bool:
    """Whether ``base`` holds detection items (targets are dicts with boxes)."""
    if isinstance(base, Dataset):
        return len(base) > 0 and isinstance(base[0][1], dict)
    if isinstance(base, (tuple, list)) and len(base) == 2 and y is None:
        second = base[1]
        return isinstance(second, (list, tuple)) and len(second) > 0 and isinstance(second[0], dict)
    return isinstance(y, (list, tuple)) and len(y) > 0 and isinstance(y[0], dict)


class AugmentedDataset(Dataset):
    """A map-style dataset of real items followed by synthetic items from an augmenter.

    Items are ``(image, label)`` like the base's, or ``(image, target)``
    for detection data, ``target = {"boxes": (K, 4), "labels": (K,)}`` (see
    *Detection* below). Real items keep indices
    ``0 .. n_real - 1``; repeated real items (``synthetic_share < 1``) and
    then synthetic ones follow (use a shuffling sampler to mix them). The same ``transform`` (an albumentations ``Compose`` or any
    callable) is applied to real and synthetic images alike. Synthetic images
    are generated in batches for a whole epoch at once and cached; call
    :meth:`set_epoch` (the :class:`AugmentedDataModule` loader does) to draw a
    fresh set for each epoch.

    Parameters
    ----------
    base : Dataset, array or tuple ``(X, y)``
        A map-style dataset of ``(image, label)`` items, or an image array
        ``X`` (N, H, W), (N, C, H, W) or (N, H, W, C) with labels given as ``y``.
    augmenter : fitted augmenter, optional
        Anything with ``sample({class: n}, random_state=...)`` and
        ``classes_``, e.g. :class:`~ganaug.augment.image.ImageAugmenter`. An
        unfitted one is fitted on ``base`` first. ``None``: real items only.
    synthetic_ratio : float, optional
        Synthetic items per real item; ``None`` = exactly enough to balance
        the classes (with ``balance``). See :func:`synthetic_counts`.
    balance : bool, default=True
        Give synthetic items to the smallest classes first.
    synthetic_share : float, default=1.0
        Share of the added items that are synthetic; the rest repeat real
        items of the same class (random oversampling, redrawn each epoch).
        1.0 = all added items come from the augmenter, 0.0 = plain random
        oversampling. A mix keeps the few real images of a rare class as
        visible as the synthetic ones.
    transform : albumentations transform or callable, optional
    y : array-like, optional
        Labels when ``base`` is an image array.
    resample_each_epoch : bool, default=True
        :meth:`set_epoch` draws new synthetic items (else one fixed set).
    random_state : int, optional
        Seed of the synthetic draws (epoch ``e`` uses a seed derived from
        ``(random_state, e)``) and of the transform's stream.

    Attributes
    ----------
    n_real, n_repeated, n_synthetic : int
    synthetic_counts_, repeat_counts_ : dict
        Synthetic and repeated real items per class.
    targets : ndarray
        Labels of all items, in index order.

    Notes
    -----
    Detection data: with ``base = (images, targets)`` (a list of target dicts) or a Dataset
    whose items carry dict targets, the dataset holds detection items. The
    ``augmenter`` is then an object-level one
    (:class:`~ganaug.detection.ObjectPasteAugmenter`): each epoch it pastes
    new objects into copies of the real images (how many per class is its
    ``sampling_strategy``; ``synthetic_ratio``, ``balance`` and
    ``synthetic_share`` do not apply). The ``transform`` must be box-aware
    (an albumentations ``Compose`` with ``bbox_params``, e.g.
    :func:`~ganaug.data.detection_compose`); batch with
    :func:`~ganaug.data.detection_collate`. ``targets`` is then the list of
    target dicts.

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.augment.image import ImageAugmenter
    >>> from ganaug.data import AugmentedDataset
    >>> X = np.random.default_rng(0).integers(0, 256, (30, 8, 8), dtype=np.uint8)
    >>> y = np.array([0] * 24 + [1] * 6)
    >>> aug = ImageAugmenter(epochs=1, width=8, latent_dim=4, random_state=0).fit(X, y)
    >>> ds = AugmentedDataset(X, aug, y=y, random_state=0)
    >>> len(ds), ds.n_synthetic, ds.synthetic_counts_, ds.is_synthetic(29), ds.is_synthetic(30)
    (48, 18, {0: 0, 1: 18}, False, True)
    >>> image, label = ds[40]
    >>> image.shape, image.dtype, int(label)
    ((8, 8), dtype('uint8'), 1)
    """

    def __init__(self, base, augmenter=None, synthetic_ratio: float | None = None, balance: bool = True,
                 transform=None, *, y=None, synthetic_share: float = 1.0, resample_each_epoch: bool = True,
                 random_state=None) -> None:
        share = float(synthetic_share)
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"synthetic_share must be in [0, 1], got {synthetic_share!r}")
        self.synthetic_share = share
        self.transform = transform
        self.augmenter = augmenter
        self.synthetic_ratio = synthetic_ratio
        self.balance = bool(balance)
        self.resample_each_epoch = bool(resample_each_epoch)
        self.seed = seed_from_random_state(random_state)
        self._fixed_seed = random_state is not None
        self._worker_seed: int | None = None
        if self._fixed_seed and transform is not None:
            # seed the transform's stream now, as set_epoch(0) would: repeatable without set_epoch
            self._reseed_transform(self._epoch_seed(0) + 1)
        self.detection = _is_detection_base(base, y)
        if self.detection:
            self._init_detection(base, y, augmenter, synthetic_ratio, balance, share)
            return
        self._read_base(base, y)
        self.epoch = 0
        self._syn_X: np.ndarray | None = None
        self._syn_y = np.zeros(0, dtype=self._real_labels.dtype)
        self._rep_idx = np.zeros(0, dtype=np.int64)
        self.repeat_counts_: dict = {}
        if augmenter is None:
            if synthetic_ratio not in (None, 0, 0.0):
                raise ValueError("synthetic_ratio needs an augmenter to make synthetic items")
            self.synthetic_counts_: dict = {}
        else:
            self._prepare_augmenter()
            self._draw()

    # ------------------------------------------------------------ detection
    def _init_detection(self, base, y, augmenter, synthetic_ratio, balance, share) -> None:
        from ganaug.detection.paste import check_detection_data

        if synthetic_ratio is not None or not balance or share != 1.0:
            raise ValueError("synthetic_ratio, balance and synthetic_share are for class labels; with detection "
                             "targets the augmenter's sampling_strategy sets how many objects each class gains")
        if isinstance(base, Dataset):
            self._dataset = base
            images = [_item_image(base[i][0]) for i in range(len(base))]
            targets = [base[i][1] for i in range(len(base))]
            self._image_is_tensor = isinstance(base[0][0], torch.Tensor)
        else:
            images, targets = (base, y) if y is not None else base
            self._dataset = None
            self._image_is_tensor = isinstance(images, torch.Tensor)
            if isinstance(images, torch.Tensor):
                images = images.detach().cpu().numpy()
        self._det_images, self._det_targets = check_detection_data(images, targets, name="base images")
        self._raw_targets = list(targets)
        self._syn_images: list = []
        self._syn_targets: list = []
        self._rep_idx = np.zeros(0, dtype=np.int64)
        self.repeat_counts_ = {}
        self.epoch = 0
        self._X = None
        if augmenter is not None:
            if not callable(getattr(augmenter, "paste", None)):
                raise TypeError("with detection targets the augmenter must paste objects into images "
                                f"(e.g. ganaug.detection.ObjectPasteAugmenter), got {type(augmenter).__name__}")
            if not hasattr(augmenter, "classes_"):
                augmenter.fit(self._det_images, self._det_targets)
            self.synthetic_counts_ = {int(k): int(v) for k, v in augmenter.sampling_strategy_.items()}
            self._draw_detection()
        else:
            self.synthetic_counts_ = {}

    def _draw_detection(self) -> None:
        images, targets = self.augmenter.paste(self._det_images, self._det_targets,
                                               random_state=self._epoch_seed(self.epoch))
        self._syn_images, self._syn_targets = list(images), list(targets)

    # ------------------------------------------------------------ base data
    def _read_base(self, base, y) -> None:
        if isinstance(base, (tuple, list)) and len(base) == 2 and y is None and not isinstance(base[0], Dataset):
            base, y = base
        if isinstance(base, Dataset):
            if y is not None:
                raise ValueError("y is only for array input; a Dataset's items carry their own labels")
            self._dataset, self._X = base, None
            targets = getattr(base, "targets", None)
            if targets is not None and len(targets) == len(base):
                labels = np.asarray(targets.cpu() if isinstance(targets, torch.Tensor) else targets)
            else:  # one pass over the items at construction, never per epoch
                labels = np.asarray([np.asarray(base[i][1]).item() for i in range(len(base))])
            first_image, self._label_example = base[0] if len(base) else (None, None)
            self._image_is_tensor = isinstance(first_image, torch.Tensor)
            self._image_shape = _item_image(first_image).shape if len(base) else None
        else:
            if y is None:
                raise ValueError("y (labels) is required when base is an array of images")
            X = base.detach().cpu().numpy() if isinstance(base, torch.Tensor) else np.asarray(base)
            labels = np.asarray(y.cpu() if isinstance(y, torch.Tensor) else y)
            if labels.ndim != 1:
                raise ValueError(f"y must be 1-dimensional, got shape {labels.shape}")
            if len(X) != len(labels):
                raise ValueError(f"base has {len(X)} images but y has {len(labels)} labels; they must match")
            self._dataset, self._X = None, X
            self._label_example = labels[0] if len(labels) else None
            self._image_is_tensor = False
            self._image_shape = X.shape[1:]
        if len(labels) == 0:
            raise ValueError("base is empty")
        self._real_labels = labels

    def _real_arrays(self) -> np.ndarray:
        if self._X is not None:
            return self._X
        return np.stack([_item_image(self._dataset[i][0]) for i in range(len(self._dataset))])

    def _prepare_augmenter(self) -> None:
        aug = self.augmenter
        if not callable(getattr(aug, "sample", None)):
            raise TypeError(f"augmenter must have a sample() method (e.g. an ImageAugmenter), got {type(aug).__name__}")
        if not hasattr(aug, "seed_"):
            aug.fit(self._real_arrays(), self._real_labels)
        classes = getattr(aug, "classes_", None)
        if classes is None:
            raise ValueError("the augmenter was fitted without labels; AugmentedDataset needs a class-conditional one")
        known = set(np.asarray(classes).tolist())
        present, counts = np.unique(self._real_labels, return_counts=True)
        unknown = [c for c in present.tolist() if c not in known]
        if unknown:
            raise ValueError(
                f"class {label_repr(unknown[0])} of base is unknown to the augmenter (fitted on {sorted(known)})"
            )
        all_counts = np.array([counts[present.tolist().index(c)] if c in present.tolist() else 0
                               for c in np.asarray(classes).tolist()])
        n_add = synthetic_counts(all_counts, self.synthetic_ratio, self.balance)
        n_syn = np.rint(self.synthetic_share * n_add).astype(np.int64)
        n_rep = np.where(all_counts > 0, n_add - n_syn, 0)
        keys = [(c.item() if isinstance(c, np.generic) else c) for c in np.asarray(classes)]
        self.synthetic_counts_ = {k: int(n) for k, n in zip(keys, n_syn)}
        self.repeat_counts_ = {k: int(n) for k, n in zip(keys, n_rep) if n > 0}

    # --------------------------------------------------------- synthetic cache
    def _epoch_seed(self, epoch: int) -> int:
        return int(np.random.SeedSequence([self.seed, int(epoch)]).generate_state(1)[0] % (2**31 - 1))

    def _draw(self) -> None:
        if self.repeat_counts_:
            rng = np.random.default_rng(self._epoch_seed(self.epoch) + 7)
            self._rep_idx = np.concatenate([  # a loop over classes, not items
                rng.choice(np.flatnonzero(self._real_labels == c), n, replace=True)
                for c, n in self.repeat_counts_.items()
            ]).astype(np.int64)
        wanted = {c: n for c, n in self.synthetic_counts_.items() if n > 0}
        if not wanted:
            self._syn_X, self._syn_y = None, np.zeros(0, dtype=self._real_labels.dtype)
            return
        X_new, y_new = self.augmenter.sample(wanted, random_state=self._epoch_seed(self.epoch))
        self._syn_X = np.asarray(X_new)
        self._syn_y = np.asarray(y_new)
        expect = self._image_shape
        if self._syn_X.shape[1:] != tuple(expect):
            raise ValueError(
                f"the augmenter makes images of shape {self._syn_X.shape[1:]} but base items are {tuple(expect)}; "
                "fit the augmenter on images in the same layout"
            )

    def set_epoch(self, epoch: int) -> None:
        """Start epoch ``epoch``: new synthetic items (when ``resample_each_epoch``) and transform seed.

        Call it in the main process before iterating the DataLoader, so that
        its workers start from the new cache.
        """
        epoch = int(epoch)
        changed = epoch != self.epoch
        self.epoch = epoch
        if self._fixed_seed and self.transform is not None:
            self._reseed_transform(self._epoch_seed(epoch) + 1)
        if changed and self.augmenter is not None and self.resample_each_epoch:
            self._draw_detection() if self.detection else self._draw()

    def _reseed_transform(self, seed: int) -> None:
        set_seed = getattr(self.transform, "set_random_seed", None)
        if callable(set_seed):
            set_seed(int(seed) % (2**32))

    # ------------------------------------------------------------ Dataset API
    @property
    def n_real(self) -> int:
        return len(self._det_images) if self.detection else len(self._real_labels)

    @property
    def n_repeated(self) -> int:
        return len(self._rep_idx)

    @property
    def n_synthetic(self) -> int:
        return len(self._syn_targets) if self.detection else len(self._syn_y)

    def __len__(self) -> int:
        return self.n_real + self.n_repeated + self.n_synthetic

    def is_synthetic(self, index: int) -> bool:
        """Whether item ``index`` is synthetic."""
        i = self._check_index(index)
        return i >= self.n_real + self.n_repeated

    @property
    def synthetic_mask(self) -> np.ndarray:
        """Boolean array, True for synthetic items."""
        return np.arange(len(self)) >= self.n_real + self.n_repeated

    @property
    def targets(self) -> np.ndarray:
        """Labels of all items in index order, without loading any image (detection: the target dicts)."""
        if self.detection:
            return list(self._det_targets) + list(self._syn_targets)
        return np.concatenate([self._real_labels, self._real_labels[self._rep_idx],
                               self._syn_y.astype(self._real_labels.dtype, copy=False)])

    @property
    def classes(self) -> np.ndarray:
        if self.detection:
            return np.unique(np.concatenate([np.asarray(t["labels"]).reshape(-1) for t in self.targets]))
        return np.unique(self.targets)

    def _check_index(self, index) -> int:
        if isinstance(index, torch.Tensor):
            index = int(index)
        if not isinstance(index, (int, np.integer)) or isinstance(index, bool):
            raise TypeError(f"index must be an int, got {type(index).__name__}")
        n = len(self)
        i = int(index) + n if index < 0 else int(index)
        if not 0 <= i < n:
            raise IndexError(f"index {index} out of range for AugmentedDataset of length {n}")
        return i

    def __getitem__(self, index) -> tuple[Any, Any]:
        i = self._check_index(index)
        info = torch.utils.data.get_worker_info()
        if info is not None and self._worker_seed != info.seed:
            self._worker_seed = info.seed
            limit_worker_threads()
            self._reseed_transform(info.seed)
        if self.detection:
            return self._detection_item(i)
        if i >= self.n_real and i < self.n_real + self.n_repeated:
            i = int(self._rep_idx[i - self.n_real])
        if i < self.n_real:
            if self._X is not None:
                image, label = self._X[i], self._real_labels[i]
            else:
                image, label = self._dataset[i]
        else:
            j = i - self.n_real - self.n_repeated
            image = self._syn_X[j]
            label = _label_like(self._syn_y[j], self._label_example)
            if self._image_is_tensor:
                image = torch.from_numpy(np.ascontiguousarray(image))
        return apply_transform(self.transform, image, label)

    def _detection_item(self, i: int):
        if i < self.n_real:
            if self._dataset is not None:
                image, target = self._dataset[i]
            else:
                image, target = self._det_images[i], self._raw_targets[i]
        else:
            image, target = self._syn_images[i - self.n_real], self._syn_targets[i - self.n_real]
            if self._image_is_tensor:
                image = torch.from_numpy(np.ascontiguousarray(image))
        return apply_transform(self.transform, image, target)
