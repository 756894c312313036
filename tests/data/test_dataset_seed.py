"""A seeded AugmentedDataset gives the same transformed items without set_epoch."""

import albumentations as A
import numpy as np

from ganaug.data import AugmentedDataset
from ganaug.datasets import load_mnist


def _items(seed):
    X, y = load_mnist()
    X, y = X[:40], y[:40]
    ds = AugmentedDataset(X, None, y=y, transform=A.Compose([A.Affine(rotate=(-30, 30), p=1.0)]), random_state=seed)
    return np.stack([np.asarray(ds[i][0]) for i in range(10)])


def test_seeded_dataset_is_repeatable_without_set_epoch():
    assert np.array_equal(_items(0), _items(0))
    assert not np.array_equal(_items(0), _items(1))
