import albumentations as A
import numpy as np
import pytest
import torch
from albumentations.pytorch import ToTensorV2
from torch.utils.data import DataLoader, Dataset

from ganaug.data import AugmentedDataset, synthetic_counts


class TensorItems(Dataset):
    """A torchvision-style dataset: (C, H, W) float tensors in [0, 1] and int labels, no ``targets``."""

    def __init__(self, X, y):
        self.X, self.y = X, y

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return torch.from_numpy(self.X[i][None].astype(np.float32) / 255.0), int(self.y[i])


def test_length_balance_and_is_synthetic(imbalanced_mnist, fitted_augmenter):
    X, y = imbalanced_mnist
    ds = AugmentedDataset(X, fitted_augmenter, y=y, random_state=0)
    assert ds.synthetic_counts_ == {3: 0, 8: 48}
    assert len(ds) == 72 + 48 and ds.n_real == 72 and ds.n_synthetic == 48
    assert [ds.is_synthetic(i) for i in (0, 71, 72, 119, -1)] == [False, False, True, True, True]
    assert ds.synthetic_mask.sum() == 48
    counts = dict(zip(*np.unique(ds.targets, return_counts=True)))
    assert counts == {3: 60, 8: 60}
    image, label = ds[5]
    np.testing.assert_array_equal(image, X[5])  # real items untouched
    image, label = ds[100]
    assert image.shape == (28, 28) and image.dtype == np.uint8 and label == 8
    with pytest.raises(IndexError, match="out of range"):
        ds[120]


@pytest.mark.parametrize("ratio,balance,expected", [(1.0, True, {3: 12, 8: 60}), (0.5, False, {3: 30, 8: 6}),
                                                    (0.0, True, {3: 0, 8: 0})])
def test_mixing_ratio(imbalanced_mnist, fitted_augmenter, ratio, balance, expected):
    X, y = imbalanced_mnist
    ds = AugmentedDataset((X, y), fitted_augmenter, synthetic_ratio=ratio, balance=balance)
    assert ds.synthetic_counts_ == expected
    assert ds.n_synthetic == round(ratio * 72) == sum(expected.values())
    assert ds.synthetic_mask.mean() == pytest.approx(ds.n_synthetic / len(ds))


def test_synthetic_counts_water_filling():
    assert synthetic_counts([5, 1, 10], synthetic_ratio=None).tolist() == [5, 9, 0]
    assert synthetic_counts([5, 1, 10], synthetic_ratio=0.5).tolist() == [2, 6, 0]  # 8 items: lift 1 -> 7, 5 -> 7
    assert synthetic_counts([5, 1, 10], synthetic_ratio=2.0).tolist() == [11, 15, 6]  # 32: all to 16
    assert synthetic_counts([4, 4], synthetic_ratio=0.0).tolist() == [0, 0]
    with pytest.raises(ValueError, match="synthetic_ratio"):
        synthetic_counts([1, 2], synthetic_ratio=-1)


def test_transform_is_applied_to_real_and_synthetic_alike(imbalanced_mnist, fitted_augmenter):
    X, y = imbalanced_mnist
    transform = A.Compose([A.HorizontalFlip(p=1.0), A.ToFloat(max_value=255), ToTensorV2()])
    ds = AugmentedDataset(X, fitted_augmenter, y=y, transform=transform, random_state=0)
    plain = AugmentedDataset(X, fitted_augmenter, y=y, random_state=0)
    for i in (3, 90):  # one real, one synthetic
        image, _ = ds[i]
        raw, _ = plain[i]
        assert isinstance(image, torch.Tensor) and image.shape == (1, 28, 28) and image.dtype == torch.float32
        np.testing.assert_allclose(image[0].numpy(), raw[:, ::-1] / 255.0, atol=1e-6)


def test_synthetic_items_are_cached_per_epoch(imbalanced_mnist, fitted_augmenter, monkeypatch):
    X, y = imbalanced_mnist
    ds = AugmentedDataset(X, fitted_augmenter, y=y, random_state=0)
    calls = []
    original = fitted_augmenter.sample
    monkeypatch.setattr(fitted_augmenter, "sample", lambda *a, **k: calls.append(a) or original(*a, **k))
    first = np.stack([ds[i][0] for i in range(72, 120)])
    assert calls == []  # items come from the cache, no generator call per item
    ds.set_epoch(0)
    assert calls == []
    ds.set_epoch(1)
    assert len(calls) == 1  # one batched draw for the whole epoch
    second = np.stack([ds[i][0] for i in range(72, 120)])
    assert not np.array_equal(first, second)
    ds.set_epoch(0)
    np.testing.assert_array_equal(np.stack([ds[i][0] for i in range(72, 120)]), first)  # repeatable per epoch
    fixed = AugmentedDataset(X, fitted_augmenter, y=y, resample_each_epoch=False)
    before = fixed[100][0].copy()
    fixed.set_epoch(3)
    np.testing.assert_array_equal(fixed[100][0], before)


def test_dataset_base_keeps_item_types_and_fits_an_unfitted_augmenter(imbalanced_mnist):
    from ganaug.augment.image import ImageAugmenter

    from .conftest import TINY

    X, y = imbalanced_mnist
    base = TensorItems(X, y)
    aug = ImageAugmenter(**TINY)
    ds = AugmentedDataset(base, aug)
    assert hasattr(aug, "module_") and aug.class_counts_.tolist() == [60, 12]
    real, real_label = ds[0]
    syn, syn_label = ds[len(ds) - 1]
    assert isinstance(syn, torch.Tensor) and syn.shape == real.shape == (1, 28, 28)
    assert syn.dtype == real.dtype and type(syn_label) is int and syn_label == 8
    assert 0.0 <= float(syn.min()) and float(syn.max()) <= 1.0


def test_dataloader_with_two_workers(imbalanced_mnist, fitted_augmenter):
    X, y = imbalanced_mnist
    transform = A.Compose([A.Affine(translate_px=(-2, 2), p=1.0), ToTensorV2()], seed=0)
    ds = AugmentedDataset(X, fitted_augmenter, y=y, transform=transform, random_state=0)
    loader = DataLoader(ds, batch_size=16, shuffle=True, num_workers=2, generator=torch.Generator().manual_seed(0))
    images, labels = [], []
    for xb, yb in loader:
        images.append(xb)
        labels.append(yb)
    images, labels = torch.cat(images), torch.cat(labels)
    assert images.shape == (120, 1, 28, 28) and images.dtype == torch.uint8
    assert sorted(torch.bincount(labels).nonzero().flatten().tolist()) == [3, 8]
    assert int((labels == 8).sum()) == 60


def test_bad_input(imbalanced_mnist, fitted_augmenter):
    X, y = imbalanced_mnist
    with pytest.raises(ValueError, match="72 images but y has 71 labels"):
        AugmentedDataset(X, fitted_augmenter, y=y[:-1])
    with pytest.raises(ValueError, match="y \\(labels\\) is required"):
        AugmentedDataset(X, fitted_augmenter)
    with pytest.raises(ValueError, match="class 5 of base is unknown"):
        AugmentedDataset(X, fitted_augmenter, y=np.where(y == 8, 5, y))
    with pytest.raises(TypeError, match="sample"):
        AugmentedDataset(X, object(), y=y)
    with pytest.raises(ValueError, match="needs an augmenter"):
        AugmentedDataset(X, None, y=y, synthetic_ratio=0.5)
    with pytest.raises(ValueError, match="same layout"):
        AugmentedDataset(X[:, None], fitted_augmenter, y=y)


def test_synthetic_share_mixes_repeated_real_items_and_synthetic_ones(imbalanced_mnist, fitted_augmenter):
    X, y = imbalanced_mnist
    ds = AugmentedDataset(X, fitted_augmenter, y=y, synthetic_share=0.25, random_state=0)
    assert ds.synthetic_counts_ == {3: 0, 8: 12} and ds.repeat_counts_ == {8: 36}
    assert (ds.n_real, ds.n_repeated, ds.n_synthetic, len(ds)) == (72, 36, 12, 120)
    assert dict(zip(*np.unique(ds.targets, return_counts=True))) == {3: 60, 8: 60}
    assert not ds.is_synthetic(107) and ds.is_synthetic(108) and ds.synthetic_mask.sum() == 12
    eights = {X[i].tobytes() for i in np.flatnonzero(y == 8)}
    repeated = [ds[i][0] for i in range(72, 108)]
    assert all(img.tobytes() in eights for img in repeated)  # repeats are real images of the class
    ds.set_epoch(1)
    assert [ds[i][0].tobytes() for i in range(72, 108)] != [img.tobytes() for img in repeated]
    ros = AugmentedDataset(X, fitted_augmenter, y=y, synthetic_share=0.0)
    assert ros.n_synthetic == 0 and ros.n_repeated == 48
    with pytest.raises(ValueError, match="synthetic_share"):
        AugmentedDataset(X, fitted_augmenter, y=y, synthetic_share=1.5)
