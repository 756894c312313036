"""A small CNN image classifier written in ganaug (no torchvision needed).

Used to measure what augmentation buys (same network for every arm of a
benchmark), to judge generated images (conditional accuracy) and as the
feature space of the Fréchet distance (:mod:`ganaug.metrics.fidelity`).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset, RandomSampler

from ganaug._labels import encode_labels
from ganaug.image.encoding import ImageEncoder, check_images
from ganaug.utils import limit_threads, seed_from_random_state

__all__ = ["CNNClassifier", "SmallCNN"]


class SmallCNN(nn.Module):
    """Four conv-BN-ReLU stages (width, 2, 4, 4 x width), 2x2 max pooling after the first
    three, global average pooling, dropout and a linear layer.

    Works for any image size; ``features`` returns the pooled ``4 * width``
    vector (the feature space of the Fréchet distance).

    Examples
    --------
    >>> import torch
    >>> from ganaug.image.classifier import SmallCNN
    >>> net = SmallCNN(n_classes=10, channels=1, width=8)
    >>> net(torch.randn(2, 1, 28, 28)).shape, net.features(torch.randn(2, 1, 28, 28)).shape
    (torch.Size([2, 10]), torch.Size([2, 32]))
    """

    def __init__(self, n_classes: int, channels: int = 1, width: int = 16, dropout: float = 0.2) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in = channels
        for i, c_out in enumerate((width, 2 * width, 4 * width, 4 * width)):
            layers += [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]
            if i < 3:
                layers.append(nn.MaxPool2d(2, ceil_mode=True))
            c_in = c_out
        self.body = nn.Sequential(*layers)
        self.feature_dim = c_in
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(c_in, n_classes)

    def features(self, x: Tensor) -> Tensor:
        return self.body(x).mean(dim=(2, 3))

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.dropout(self.features(x)))


def _batches_forever(loader: DataLoader):
    epoch = 0
    while True:
        sampler = getattr(loader, "sampler", None)
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)
        dataset = loader.dataset
        if hasattr(dataset, "set_epoch"):
            dataset.set_epoch(epoch)
        yield from loader
        epoch += 1


def _dataset_labels(dataset) -> np.ndarray:
    """All labels of a map-style dataset: its ``targets`` when it has them, else one pass over the items."""
    targets = getattr(dataset, "targets", None)
    if targets is not None:
        return np.asarray(targets)
    return np.asarray([np.asarray(dataset[i][1]).item() for i in range(len(dataset))])


class _EpochSampler(RandomSampler):
    """Random order that is a function of (seed, epoch)."""

    def __init__(self, data_source, seed: int) -> None:
        super().__init__(data_source, generator=torch.Generator())
        self.seed = seed
        self.set_epoch(0)

    def set_epoch(self, epoch: int) -> None:
        self.generator.manual_seed(self.seed * 1_000_003 + epoch)


class CNNClassifier(ClassifierMixin, BaseEstimator):
    """scikit-learn classifier around :class:`SmallCNN` for image arrays or a torch ``Dataset``.

    Parameters
    ----------
    width : int, default=16
        Channels of the first stage (features have ``4 * width`` dimensions).
    max_steps : int, default=600
        Optimiser steps (batches) of training, whatever the data size, so
        that data sets of different sizes get the same training budget.
    batch_size : int, default=64
    lr : float, default=5e-3
        Adam learning rate, decayed to 0 along a cosine.
    weight_decay : float, default=1e-4
    dropout : float, default=0.2
    num_workers : int, default=0
        DataLoader workers when fitting on a ``Dataset`` (e.g. one with
        albumentations transforms).
    layout : {"NHW", "NCHW", "NHWC"}, optional
        Force the image layout.
    random_state : int, optional
    device : str, optional
        Torch device (default CPU).

    Attributes
    ----------
    classes_ : ndarray
    encoder_ : ImageEncoder
    model_ : SmallCNN

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.datasets import load_mnist
    >>> from ganaug.image.classifier import CNNClassifier
    >>> X, y = load_mnist()
    >>> clf = CNNClassifier(width=8, max_steps=100, random_state=0).fit(X[:1000], y[:1000])
    >>> clf.score(X[3000:3500], y[3000:3500]) > 0.7
    True
    >>> clf.transform(X[:3]).shape
    (3, 32)
    """

    def __init__(self, width: int = 16, max_steps: int = 600, batch_size: int = 64, lr: float = 5e-3,
                 weight_decay: float = 1e-4, dropout: float = 0.2, num_workers: int = 0, layout: str | None = None,
                 random_state=None, device: str | None = None):
        self.width = width
        self.max_steps = max_steps
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.num_workers = num_workers
        self.layout = layout
        self.random_state = random_state
        self.device = device

    # ---------------------------------------------------------------- fitting
    def fit(self, X, y=None):
        """Train on image arrays ``X`` with labels ``y``, or on a map-style ``Dataset`` of ``(image, label)``.

        A dataset's images may be numpy arrays or tensors in any supported
        layout (uint8 images are read as 0..255, float images as [0, 1]
        unless their first batch says otherwise).
        """
        if int(self.max_steps) < 1:
            raise ValueError(f"max_steps must be >= 1, got {self.max_steps}")
        seed = seed_from_random_state(self.random_state)
        limit_threads()
        device = torch.device(self.device or "cpu")
        if isinstance(X, Dataset):
            if y is not None:
                raise ValueError("pass labels inside the Dataset's items, not as y, when X is a Dataset")
            labels = _dataset_labels(X)
            self.classes_ = np.unique(labels)
            loader = DataLoader(X, batch_size=int(self.batch_size), sampler=_EpochSampler(X, seed),
                                num_workers=int(self.num_workers), drop_last=len(X) > int(self.batch_size))
            first_x, _ = next(iter(DataLoader(X, batch_size=min(len(X), 256), shuffle=False)))
            self.encoder_ = ImageEncoder(layout=self.layout).fit(first_x)
            batches = ((self.encoder_.transform(xb), torch.from_numpy(self._codes(yb)))
                       for xb, yb in _batches_forever(loader))
        else:
            arr, _ = check_images(X, self.layout)
            if y is None:
                raise ValueError("y is required when X is an array of images")
            self.classes_, codes, _ = encode_labels(y, len(arr))
            self.encoder_ = ImageEncoder(layout=self.layout).fit(arr)
            batches = self._tensor_batches(self.encoder_.transform(arr), torch.from_numpy(codes), seed)
        n_classes = len(self.classes_)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.model_ = SmallCNN(n_classes, self.encoder_.channels_, int(self.width), float(self.dropout)).to(device)
            opt = torch.optim.Adam(self.model_.parameters(), lr=float(self.lr), weight_decay=float(self.weight_decay))
            total = int(self.max_steps)
            sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total) / total)))
            self.model_.train()
            for _ in range(total):
                xb, yb = next(batches)
                loss = F.cross_entropy(self.model_(xb.to(device)), yb.to(device))
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
        self.model_.eval()
        self.n_steps_ = total
        return self

    def _codes(self, labels) -> np.ndarray:
        arr = np.asarray(labels.cpu() if isinstance(labels, Tensor) else labels)
        idx = np.clip(np.searchsorted(self.classes_, arr), 0, len(self.classes_) - 1)
        bad = self.classes_[idx] != arr
        if np.any(bad):
            raise ValueError(f"label {arr[bad][0]!r} is not one of the classes {self.classes_.tolist()}")
        return idx.astype(np.int64)

    def _tensor_batches(self, x: Tensor, y: Tensor, seed: int):
        gen = torch.Generator().manual_seed(seed)
        bs = int(self.batch_size)
        n = len(x)
        while True:
            perm = torch.randperm(n, generator=gen)
            stop = n - bs + 1 if n >= bs else 1
            for start in range(0, stop, bs):
                idx = perm[start:start + bs]
                yield x[idx], y[idx]

    # ------------------------------------------------------------- inference
    @torch.no_grad()
    def _apply(self, X, fn, batch_size: int = 1024) -> np.ndarray:
        check_is_fitted(self, "model_")
        xt = self.encoder_.transform(X)
        device = next(self.model_.parameters()).device
        self.model_.eval()
        outs = [fn(xt[i:i + batch_size].to(device)).cpu() for i in range(0, len(xt), batch_size)]
        if not outs:
            return np.zeros((0, 0), dtype=np.float32)
        return torch.cat(outs).numpy()

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``."""
        return self._apply(X, lambda b: torch.softmax(self.model_(b), dim=1))

    def predict(self, X) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def transform(self, X) -> np.ndarray:
        """Penultimate features (N, 4 * width): the space of the Fréchet distance."""
        return self._apply(X, self.model_.features)
