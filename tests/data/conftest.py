"""Fixtures of the data tests: a small imbalanced MNIST slice and a tiny fitted image augmenter."""

from __future__ import annotations

import numpy as np
import pytest

from ganaug.datasets import load_mnist

TINY = dict(epochs=1, batch_size=16, width=8, latent_dim=4, random_state=0)


@pytest.fixture(scope="session")
def imbalanced_mnist():
    """60 threes and 12 eights (uint8, 28x28): class 8 is rare."""
    X, y = load_mnist()
    idx = np.concatenate([np.flatnonzero(y == 3)[:60], np.flatnonzero(y == 8)[:12]])
    return X[idx], y[idx]


@pytest.fixture(scope="session")
def fitted_augmenter(imbalanced_mnist):
    from ganaug.augment.image import ImageAugmenter

    X, y = imbalanced_mnist
    return ImageAugmenter(**TINY).fit(X, y)
