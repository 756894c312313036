"""A small, reusable series classifier (1-D CNN or GRU), scikit-learn style.

Used by the time-series benchmark and by anyone who needs a quick
downstream model for ``(N, channels, length)`` data: ``SeriesClassifier`` is a
scikit-learn classifier (``fit`` / ``predict`` / ``predict_proba``, works with
``clone``), and :func:`fit_predict_proba` is the callable form that
:func:`ganaug.evaluate.utility_report` accepts.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted
from torch import nn
from torch.nn import functional as F

from ganaug.timeseries.encoding import check_series_array
from ganaug.utils import limit_threads, seed_from_random_state

__all__ = ["SeriesClassifier", "fit_predict_proba"]


class _CNN(nn.Module):
    """Fully convolutional net (Wang et al., 2017), narrowed: conv-BN-ReLU x3, masked average pooling.

    Activations at padded steps are zeroed after every block, so padding acts
    exactly like the convolutions' own zero padding: a series gives the same
    output whatever padding follows it.
    """

    def __init__(self, in_ch: int, n_classes: int, width: int) -> None:
        super().__init__()
        chans = (width, 2 * width, width)
        blocks, prev = [], in_ch
        for ch, k in zip(chans, (7, 5, 3)):
            blocks.append(nn.Sequential(nn.Conv1d(prev, ch, k, padding=k // 2), nn.BatchNorm1d(ch), nn.ReLU()))
            prev = ch
        self.blocks = nn.ModuleList(blocks)
        self.head = nn.Linear(prev, n_classes)

    def forward(self, x, mask):  # x (N, C, L), mask (N, L) float
        h = x
        for block in self.blocks:
            h = block(h) * mask[:, None, :]
        pooled = h.sum(2) / mask.sum(1, keepdim=True).clamp_min(1.0)
        return self.head(pooled)


class _GRU(nn.Module):
    def __init__(self, in_ch: int, n_classes: int, width: int) -> None:
        super().__init__()
        self.rnn = nn.GRU(in_ch, width, batch_first=True)
        self.head = nn.Linear(width, n_classes)

    def forward(self, x, mask):
        out, _ = self.rnn(x.transpose(1, 2))
        last = (mask.sum(1).long() - 1).clamp_min(0)
        return self.head(out[torch.arange(x.shape[0]), last])


_ARCHS = {"cnn": _CNN, "gru": _GRU}


class SeriesClassifier(ClassifierMixin, BaseEstimator):
    """Small 1-D CNN or GRU classifier for ``(N, channels, length)`` series.

    Channels are standardised with statistics of the training series; NaN
    padding at the end (variable length) is masked out of the pooling (CNN) or
    skipped by reading the last observed step (GRU). Test series may have
    another length than training series.

    Parameters
    ----------
    arch : {"cnn", "gru"}, default="cnn"
    width : int, default=32
        CNN filters of the first layer (then 2x, 1x) or GRU hidden size.
    epochs : int, default=150
    batch_size : int, default=32
    lr : float, default=1e-3
    weight_decay : float, default=0.0
    random_state : int, optional

    Attributes
    ----------
    classes_ : ndarray
    n_channels_ : int
    model_ : torch.nn.Module

    Examples
    --------
    >>> from sklearn.metrics import balanced_accuracy_score
    >>> from ganaug.datasets import load_gunpoint
    >>> from ganaug.timeseries.classifier import SeriesClassifier
    >>> X_train, y_train, X_test, y_test = load_gunpoint()
    >>> clf = SeriesClassifier(epochs=30, random_state=0).fit(X_train, y_train)
    >>> balanced_accuracy_score(y_test, clf.predict(X_test)) > 0.7
    True
    """

    def __init__(self, arch: str = "cnn", width: int = 32, epochs: int = 150, batch_size: int = 32,
                 lr: float = 1e-3, weight_decay: float = 0.0, random_state=None) -> None:
        self.arch = arch
        self.width = width
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.random_state = random_state

    def _tensors(self, X, what: str) -> tuple[torch.Tensor, torch.Tensor]:
        X3, lengths, _ = check_series_array(X, what=what, min_length=1)
        if hasattr(self, "n_channels_") and X3.shape[1] != self.n_channels_:
            raise ValueError(f"{what} has {X3.shape[1]} channel(s); the classifier was fitted on {self.n_channels_}")
        mask = np.arange(X3.shape[2])[None, :] < lengths[:, None]
        return torch.from_numpy(np.ascontiguousarray(X3, dtype=np.float32)), torch.from_numpy(mask.astype(np.float32))

    def _scale(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = (x - self._mean[None, :, None]) / self._std[None, :, None]
        return torch.nan_to_num(x, nan=0.0) * mask[:, None, :]

    def fit(self, X, y, sample_weight=None):
        """Train on series ``X`` and labels ``y`` (optional per-series ``sample_weight``)."""
        if self.arch not in _ARCHS:
            raise ValueError(f"arch must be one of {sorted(_ARCHS)}, got {self.arch!r}")
        for name in ("width", "epochs", "batch_size"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        if hasattr(self, "n_channels_"):
            del self.n_channels_
        x, mask = self._tensors(X, "X")
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != len(x):
            raise ValueError(f"y must be 1-D with one label per series: X has {len(x)} series, y has shape {y.shape}")
        self.classes_, codes = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"y has only one class ({self.classes_[0]!r}); a classifier needs at least two")
        self.n_channels_ = int(x.shape[1])
        obs = x.transpose(0, 1).reshape(x.shape[1], -1)  # (C, N*L)
        obs_mask = mask.reshape(1, -1).expand_as(obs) > 0
        vals = torch.where(obs_mask, obs, torch.zeros(()))
        count = obs_mask.sum(1).clamp_min(1)
        self._mean = vals.sum(1) / count
        var = (torch.where(obs_mask, obs - self._mean[:, None], torch.zeros(())) ** 2).sum(1) / count
        self._std = var.sqrt().clamp_min(1e-6)
        xs = self._scale(x, mask)
        target = torch.from_numpy(codes.astype(np.int64).ravel())
        weight = None if sample_weight is None else torch.as_tensor(np.asarray(sample_weight, dtype=np.float32))
        if weight is not None and weight.shape != (len(x),):
            raise ValueError(f"sample_weight must have shape ({len(x)},), got {tuple(weight.shape)}")
        seed = seed_from_random_state(self.random_state)
        limit_threads()
        gen = torch.Generator().manual_seed(seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = _ARCHS[self.arch](self.n_channels_, len(self.classes_), self.width)
        opt = torch.optim.Adam(model.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        n = len(xs)
        bs = min(self.batch_size, n)
        model.train()
        with torch.enable_grad():
            for _ in range(self.epochs):
                perm = torch.randperm(n, generator=gen)
                for start in range(0, n, bs):
                    idx = perm[start : start + bs]
                    if len(idx) < 2 and n >= 2:  # BatchNorm needs two items
                        continue
                    logits = model(xs[idx], mask[idx])
                    if weight is None:
                        loss = F.cross_entropy(logits, target[idx])
                    else:
                        w = weight[idx]
                        loss = (F.cross_entropy(logits, target[idx], reduction="none") * w).sum() / w.sum()
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
        model.eval()
        self.model_ = model
        return self

    @torch.no_grad()
    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities ``(N, n_classes)`` in the order of ``classes_``."""
        check_is_fitted(self, "model_")
        x, mask = self._tensors(X, "X")
        limit_threads()
        out = [torch.softmax(self.model_(self._scale(x[s : s + 512], mask[s : s + 512]), mask[s : s + 512]), dim=1)
               for s in range(0, len(x), 512)]
        return torch.cat(out).numpy().astype(np.float64)

    def predict(self, X) -> np.ndarray:
        """Most probable class per series."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def fit_predict_proba(X_train, y_train, X_test, sample_weight=None, random_state=None, **params) -> np.ndarray:
    """Fit a :class:`SeriesClassifier` and return test probabilities (classes in sorted order).

    The callable form for :func:`ganaug.evaluate.utility_report`; ``params``
    go to :class:`SeriesClassifier`.

    Examples
    --------
    >>> from ganaug.datasets import load_gunpoint
    >>> from ganaug.timeseries.classifier import fit_predict_proba
    >>> X_train, y_train, X_test, _ = load_gunpoint()
    >>> fit_predict_proba(X_train, y_train, X_test[:5], epochs=2, random_state=0).shape
    (5, 2)
    """
    clf = SeriesClassifier(random_state=random_state, **params)
    return clf.fit(X_train, y_train, sample_weight=sample_weight).predict_proba(X_test)
