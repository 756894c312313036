"""Fixtures of the image tests: small slices of the bundled MNIST and a tiny fitted augmenter."""

from __future__ import annotations

import numpy as np
import pytest

from ganaug.datasets import load_mnist

TINY = dict(epochs=1, batch_size=16, width=8, latent_dim=4, random_state=0)


@pytest.fixture(scope="session")
def mnist():
    return load_mnist()


@pytest.fixture(scope="session")
def mnist_small(mnist):
    """40 zeros, 40 ones and 12 sevens (uint8, 28x28)."""
    X, y = mnist
    idx = np.concatenate([np.flatnonzero(y == 0)[:40], np.flatnonzero(y == 1)[:40], np.flatnonzero(y == 7)[:12]])
    return X[idx], y[idx]


@pytest.fixture(scope="session")
def rgb32(mnist):
    """Real digits as 32x32 RGB (N, H, W, C) uint8: padded by 2 and tinted per class."""
    X, y = mnist
    idx = np.concatenate([np.flatnonzero(y == 3)[:30], np.flatnonzero(y == 8)[:10]])
    grey = np.pad(X[idx], ((0, 0), (2, 2), (2, 2)))
    tint = np.where((y[idx] == 3)[:, None], [1.0, 0.4, 0.2], [0.2, 0.6, 1.0])
    rgb = (grey[..., None] * tint[:, None, None, :]).astype(np.uint8)
    return rgb, y[idx]


@pytest.fixture(scope="session")
def tiny_augmenter(mnist_small):
    from ganaug.augment.image import ImageAugmenter

    X, y = mnist_small
    return ImageAugmenter(**TINY).fit(X, y)
