import albumentations as A
import lightning.pytorch as pl
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from albumentations.pytorch import ToTensorV2

from ganaug.augment.image import ImageAugmenter
from ganaug.data import AugmentedDataModule

from .conftest import TINY


def test_splits_and_synthetic_only_in_train(imbalanced_mnist):
    X, y = imbalanced_mnist
    test = (X[:10], y[:10])
    aug = ImageAugmenter(**TINY)
    dm = AugmentedDataModule(X, aug, y=y, test=test, val_size=0.25, batch_size=8, random_state=0)
    dm.setup("fit")
    tr, va, te = dm.train_dataset, dm.val_dataset, dm.test_dataset
    assert (tr.n_real, len(va), len(te)) == (54, 18, 10)
    # the augmenter was fitted on the training split only: 45 threes, 9 eights
    assert aug.class_counts_.tolist() == [45, 9]
    assert tr.n_synthetic == 36 and va.n_synthetic == 0 and te.n_synthetic == 0
    assert not va.synthetic_mask.any() and not te.synthetic_mask.any()
    assert dict(zip(*np.unique(va.targets, return_counts=True))) == {3: 15, 8: 3}  # stratified
    batches = list(dm.train_dataloader())
    assert sum(len(b[1]) for b in batches) == 90
    assert sum(len(b[1]) for b in dm.val_dataloader()) == 18


def test_set_epoch_refreshes_synthetic_items_through_the_sampler(imbalanced_mnist, fitted_augmenter):
    X, y = imbalanced_mnist
    dm = AugmentedDataModule(X, fitted_augmenter, y=y, val_size=0, batch_size=120, random_state=0)
    loader = dm.train_dataloader()
    ds = dm.train_dataset
    first = ds[100][0].copy()
    order0 = list(iter(loader.sampler))
    loader.sampler.set_epoch(1)
    assert not np.array_equal(ds[100][0], first)
    assert list(iter(loader.sampler)) != order0
    loader.sampler.set_epoch(0)
    assert list(iter(loader.sampler)) == order0


class _TinyClassifier(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10))
        self.seen_val = 0

    def training_step(self, batch, _):
        x, y = batch
        return F.cross_entropy(self.net(x.float()), y)

    def validation_step(self, batch, _):
        self.seen_val += len(batch[1])

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)


def test_lightning_fit_with_two_workers_and_albumentations(imbalanced_mnist, fitted_augmenter):
    X, y = imbalanced_mnist
    transform = A.Compose([A.Affine(rotate=(-10, 10), p=0.5), A.ToFloat(max_value=255), ToTensorV2()])
    dm = AugmentedDataModule(X, fitted_augmenter, y=y, val_size=0.2, transform=transform,
                             eval_transform=A.Compose([A.ToFloat(max_value=255), ToTensorV2()]),
                             batch_size=16, num_workers=2, random_state=0)
    model = _TinyClassifier()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_progress_bar=False, enable_checkpointing=False,
                         enable_model_summary=False, accelerator="cpu", num_sanity_val_steps=0)
    trainer.fit(model, datamodule=dm)
    assert model.seen_val == 2 * 15
    assert dm.train_dataset.epoch == 1  # Lightning called set_epoch through the sampler


def test_datamodule_bad_input(imbalanced_mnist, fitted_augmenter):
    X, y = imbalanced_mnist
    with pytest.raises(ValueError, match="labels are required"):
        AugmentedDataModule(X, fitted_augmenter).setup("fit")
    with pytest.raises(ValueError, match="val_size"):
        AugmentedDataModule(X, fitted_augmenter, y=y, val_size=1.5).setup("fit")
    with pytest.raises(ValueError, match="no test data"):
        AugmentedDataModule(X, fitted_augmenter, y=y).test_dataloader()
