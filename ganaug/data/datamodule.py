"""``AugmentedDataModule``: train/val/test loaders with synthetic items only in train."""

from __future__ import annotations

import lightning.pytorch as pl
import numpy as np
import torch
from sklearn.model_selection import train_test_split
from torch.utils.data import DataLoader, Dataset, RandomSampler, Subset

from ganaug.data.dataset import AugmentedDataset
from ganaug.data.transforms import worker_init_fn
from ganaug.utils import seed_from_random_state

__all__ = ["AugmentedDataModule", "EpochShuffleSampler"]


class EpochShuffleSampler(RandomSampler):
    """Shuffles with a seed derived from ``(seed, epoch)``; ``set_epoch`` also refreshes the dataset.

    Lightning (and a plain loop) call ``set_epoch`` before each epoch in the
    main process, so an :class:`AugmentedDataset` draws its new synthetic
    items before the DataLoader's workers start.
    """

    def __init__(self, data_source, seed: int = 0) -> None:
        super().__init__(data_source, generator=torch.Generator())
        self.seed = int(seed)
        self.epoch = 0
        self.generator.manual_seed(self.seed)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)
        self.generator.manual_seed(self.seed * 1_000_003 + self.epoch)
        set_epoch = getattr(self.data_source, "set_epoch", None)
        if callable(set_epoch):
            set_epoch(self.epoch)


def _labels_of(data) -> np.ndarray:
    if isinstance(data, Dataset):
        targets = getattr(data, "targets", None)
        if targets is not None and len(targets) == len(data):
            return np.asarray(targets.cpu() if isinstance(targets, torch.Tensor) else targets)
        return np.asarray([np.asarray(data[i][1]).item() for i in range(len(data))])
    return np.asarray(data[1])


class _LabelledSubset(Subset):
    """A ``Subset`` that keeps the ``targets`` of its items (so no pass over images is needed)."""

    def __init__(self, dataset, indices, targets) -> None:
        super().__init__(dataset, indices)
        self.targets = np.asarray(targets)


class AugmentedDataModule(pl.LightningDataModule):
    """A LightningDataModule whose train loader mixes real and synthetic items.

    Synthetic items go into the training split only; validation and test
    items are always real. An unfitted augmenter is fitted on the training
    split only (never on validation or test data).

    Parameters
    ----------
    train : Dataset, array or tuple ``(X, y)``
        Training data (a Dataset of ``(image, label)`` items, or images with
        ``y``).
    augmenter : augmenter, optional
        E.g. :class:`~ganaug.augment.image.ImageAugmenter`; ``None`` = real data only.
    y : array-like, optional
        Labels when ``train`` is an image array.
    val, test : Dataset or tuple ``(X, y)``, optional
        Held-out data. Without ``val``, a stratified ``val_size`` share of
        ``train`` is held out (set ``val_size=0`` for none).
    val_size : float, default=0.2
    synthetic_ratio, balance, synthetic_share, resample_each_epoch
        As in :class:`AugmentedDataset`.
    transform : albumentations Compose or callable, optional
        Training transform, for real and synthetic items alike.
    eval_transform : optional
        Transform of validation and test items (e.g. only normalisation).
    batch_size : int, default=64
    num_workers : int, default=0
        DataLoader workers; each runs one torch thread and reseeds the
        transform (see :func:`~ganaug.data.worker_init_fn`).
    random_state : int, optional
        Seeds the split, the shuffling and the synthetic draws.

    Notes
    -----
    New synthetic items are drawn at each epoch when the loader's sampler
    gets ``set_epoch`` (Lightning calls it; in a plain loop call
    ``loader.sampler.set_epoch(epoch)``). Under DDP, Lightning wraps the
    sampler, so keep one synthetic set (``resample_each_epoch=False``) or use
    ``reload_dataloaders_every_n_epochs=1``.

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.augment.image import ImageAugmenter
    >>> from ganaug.data import AugmentedDataModule
    >>> X = np.random.default_rng(0).integers(0, 256, (60, 8, 8), dtype=np.uint8)
    >>> y = np.array([0] * 45 + [1] * 15)
    >>> dm = AugmentedDataModule(X, ImageAugmenter(epochs=1, width=8, latent_dim=4, random_state=0),
    ...                          y=y, val_size=0.2, batch_size=16, random_state=0)
    >>> dm.setup("fit")
    >>> len(dm.train_dataset), dm.train_dataset.n_synthetic, len(dm.val_dataset)
    (72, 24, 12)
    >>> images, labels = next(iter(dm.train_dataloader()))
    >>> tuple(images.shape)
    (16, 8, 8)
    """

    def __init__(self, train, augmenter=None, *, y=None, val=None, test=None, val_size: float = 0.2,
                 synthetic_ratio: float | None = None, balance: bool = True, synthetic_share: float = 1.0,
                 transform=None, eval_transform=None,
                 batch_size: int = 64, num_workers: int = 0, resample_each_epoch: bool = True,
                 random_state=None) -> None:
        super().__init__()
        from ganaug.data.dataset import _is_detection_base

        if _is_detection_base(train, y):
            raise ValueError("AugmentedDataModule takes class labels; for detection items (image, {'boxes', 'labels'}) "
                             "use AugmentedDataset with DataLoader(collate_fn=ganaug.data.detection_collate)")
        self.train = train
        self.augmenter = augmenter
        self.y = y
        self.val = val
        self.test = test
        self.val_size = val_size
        self.synthetic_ratio = synthetic_ratio
        self.balance = balance
        self.synthetic_share = synthetic_share
        self.transform = transform
        self.eval_transform = eval_transform
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.resample_each_epoch = resample_each_epoch
        self.random_state = random_state
        self.train_dataset: AugmentedDataset | None = None
        self.val_dataset: AugmentedDataset | None = None
        self.test_dataset: AugmentedDataset | None = None

    def _as_pair(self, data, y):
        if isinstance(data, Dataset):
            return data
        if isinstance(data, (tuple, list)) and len(data) == 2 and y is None:
            return data
        if y is None:
            raise ValueError("labels are required: pass y= with an image array, or (X, y), or a Dataset")
        return (data, y)

    def _split(self, data, seed: int):
        if self.val is not None or not self.val_size:
            return data, None
        size = float(self.val_size)
        if not 0.0 < size < 1.0:
            raise ValueError(f"val_size must be in (0, 1) or 0, got {self.val_size!r}")
        labels = _labels_of(data)
        idx = np.arange(len(labels))
        try:
            tr, va = train_test_split(idx, test_size=size, stratify=labels, random_state=seed)
        except ValueError as exc:
            raise ValueError(f"cannot hold out a stratified validation split ({exc}); pass val= or val_size=0") from None
        tr, va = np.sort(tr), np.sort(va)
        if isinstance(data, Dataset):
            return _LabelledSubset(data, tr.tolist(), labels[tr]), _LabelledSubset(data, va.tolist(), labels[va])
        X, yv = data
        return (X[tr], np.asarray(yv)[tr]), (X[va], np.asarray(yv)[va])

    def _eval_dataset(self, data):
        if data is None:
            return None
        return AugmentedDataset(self._as_pair(data, None), None, transform=self.eval_transform)

    def setup(self, stage: str | None = None) -> None:
        seed = seed_from_random_state(self.random_state)
        self._seed = seed
        if self.train_dataset is None:
            train, held_out = self._split(self._as_pair(self.train, self.y), seed)
            self.train_dataset = AugmentedDataset(
                train, self.augmenter, synthetic_ratio=self.synthetic_ratio, balance=self.balance,
                synthetic_share=self.synthetic_share, transform=self.transform, resample_each_epoch=self.resample_each_epoch, random_state=seed,
            )
            self.val_dataset = self._eval_dataset(self.val if self.val is not None else held_out)
            self.test_dataset = self._eval_dataset(self.test)

    def _loader(self, dataset, sampler=None) -> DataLoader:
        workers = int(self.num_workers)
        return DataLoader(
            dataset, batch_size=int(self.batch_size), sampler=sampler, shuffle=False, num_workers=workers,
            worker_init_fn=worker_init_fn if workers else None, persistent_workers=False,
        )

    def train_dataloader(self) -> DataLoader:
        if self.train_dataset is None:
            self.setup("fit")
        return self._loader(self.train_dataset, EpochShuffleSampler(self.train_dataset, self._seed))

    def val_dataloader(self):
        if self.train_dataset is None:
            self.setup("fit")
        return [] if self.val_dataset is None else self._loader(self.val_dataset)

    def test_dataloader(self):
        if self.train_dataset is None:
            self.setup("test")
        if self.test_dataset is None:
            raise ValueError("no test data: pass test= to AugmentedDataModule")
        return self._loader(self.test_dataset)
