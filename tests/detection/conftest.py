"""Fixtures of the detection tests: small scenes of real MNIST digits (digits 8 rare)."""

from __future__ import annotations

import numpy as np
import pytest

from ganaug.datasets import load_mnist
from ganaug.detection import make_digit_scenes


@pytest.fixture(scope="session")
def mnist():
    return load_mnist()


@pytest.fixture(scope="session")
def scenes(mnist):
    """60 scenes of threes, sevens and a few eights, 64x64 uint8, pascal_voc boxes."""
    X, y = mnist
    keep = np.flatnonzero(np.isin(y, [3, 7, 8]))[:600]
    images, targets, _ = make_digit_scenes(X[keep], y[keep], 60, class_weights={3: 1.0, 7: 1.0, 8: 0.15},
                                           random_state=0)
    return images, targets
