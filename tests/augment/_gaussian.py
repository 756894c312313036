"""A minimal augmenter for testing the BaseAugmenter template: per-class Gaussian, numpy only."""

from __future__ import annotations

import numpy as np
import torch

from ganaug.augment.base import BaseAugmenter, register_augmenter


@register_augmenter
class GaussianTestAugmenter(BaseAugmenter):
    def __init__(self, sampling_strategy="auto", random_state=None, epochs=1, batch_size=32, trainer=None):
        self.sampling_strategy = sampling_strategy
        self.random_state = random_state
        self.epochs = epochs
        self.batch_size = batch_size
        self.trainer = trainer

    def _validate_X(self, X, reset):
        arr = np.asarray(X, dtype=float)
        if arr.ndim != 2:
            raise ValueError(f"X must be 2-D, got shape {arr.shape}")
        if reset:
            self._dtype = np.asarray(X).dtype
        return arr

    def _fit_generator(self, X, codes, seed):
        k = int(codes.max()) + 1
        self.means_ = np.stack([X[codes == c].mean(0) for c in range(k)])
        self.stds_ = np.stack([X[codes == c].std(0) + 1e-6 for c in range(k)])

    def _generate(self, codes, seed):
        rng = np.random.default_rng(seed)
        out = self.means_[codes] + self.stds_[codes] * rng.standard_normal((len(codes), self.means_.shape[1]))
        return out.astype(self._dtype)

    def _concat(self, X, X_new):
        return np.concatenate([np.asarray(X), X_new])

    def _get_state(self):
        return {"dtype": str(self._dtype)}, {"means": torch.tensor(self.means_), "stds": torch.tensor(self.stds_)}

    def _set_state(self, state, tensors):
        self._dtype = np.dtype(state["dtype"])
        self.means_ = tensors["means"].numpy()
        self.stds_ = tensors["stds"].numpy()
