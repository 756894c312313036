"""Images: ``AugmentedDataset`` feeding a small CNN trained by a Lightning ``Trainer``.

What it shows
-------------
* ``ImageAugmenter`` learns every digit with one class-conditional GAN from an
  imbalanced training set (digits 0-4 made rare: 20 images each against
  about 280 for digits 5-9).
* ``AugmentedDataset`` wraps the real images and adds items for the rare
  digits so every class is as large as the largest; the *same* albumentations
  transform (random affine + ``ToTensorV2``) is applied to real and synthetic
  images. ``synthetic_share=0.25``: a quarter of the added items are
  synthetic, the rest repeat the real rare images (this mix beat pure
  synthetic filling in ganaug's image benchmark, docs/image.md).
* A plain ``torch.utils.data.DataLoader`` and a ``lightning.Trainer`` train a
  small CNN on it; a callback calls ``set_epoch`` so every epoch gets fresh synthetic images.
* The same CNN is also trained on the real imbalanced images and on plain
  random oversampling (``synthetic_share=0``: the added items all repeat real
  images), the strongest simple alternative; all arms are scored on held-out
  real test digits (balanced accuracy, recall of the rare digits).

Run
---
    python examples/image_dataset_lightning.py            # realistic: 30 GAN epochs, 10 CNN epochs
    python examples/image_dataset_lightning.py --fast     # 2 GAN epochs, 2 CNN epochs (the images are still noise)

Writes ``results.csv`` and ``samples.png`` (synthetic rare digits) to ``--out``.
To train on a GPU, pass ``accelerator="gpu"`` to both trainers (the
augmenter's ``trainer={"accelerator": "gpu"}`` and ``L.Trainer``).
"""

from __future__ import annotations

import argparse
import logging
import time
import warnings
from pathlib import Path

import albumentations as A
import lightning as L
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from albumentations.pytorch import ToTensorV2
from sklearn.metrics import balanced_accuracy_score, recall_score
from sklearn.model_selection import train_test_split
from torch import nn
from torch.utils.data import DataLoader

from ganaug import AugmentedDataset, ImageAugmenter
from ganaug.datasets import load_mnist

# Quieter Lightning output (GPU/TPU banners, tips, a torch deprecation warning).
logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
warnings.filterwarnings("ignore", message=".*LeafSpec.*")
warnings.filterwarnings("ignore", message=".*does not have many workers.*")

SEED = 0
RARE = [0, 1, 2, 3, 4]      # digits made rare in the training split
KEEP_RARE = 20              # training images kept per rare digit


class SmallCNN(L.LightningModule):
    """Two conv blocks and a linear head: a typical small image classifier."""

    def __init__(self, n_classes: int = 10, lr: float = 2e-3):
        super().__init__()
        self.lr = lr
        self.net = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(32 * 7 * 7, 64), nn.ReLU(), nn.Linear(64, n_classes),
        )

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = nn.functional.cross_entropy(self(x), y)
        self.log("train_loss", loss, prog_bar=True)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


class SetEpoch(L.Callback):
    """Call ``dataset.set_epoch(e)`` at the start of every epoch.

    ``AugmentedDataset.set_epoch`` draws a fresh set of synthetic images and
    reseeds the albumentations transform from ``random_state`` (without it,
    with a plain DataLoader, the transform's random stream is not repeatable).
    ``AugmentedDataModule`` does this for you; with your own DataLoader, add
    this callback.
    """

    def __init__(self, dataset: AugmentedDataset):
        self.dataset = dataset

    def on_train_epoch_start(self, trainer, pl_module):
        self.dataset.set_epoch(trainer.current_epoch)


def train_cnn(dataset, epochs: int, callbacks=()) -> SmallCNN:
    L.seed_everything(SEED, verbose=False)
    model = SmallCNN()
    loader = DataLoader(dataset, batch_size=64, shuffle=True, num_workers=0)
    trainer = L.Trainer(max_epochs=epochs, accelerator="cpu", logger=False, enable_checkpointing=False,
                        enable_model_summary=False, enable_progress_bar=False, callbacks=list(callbacks))
    trainer.fit(model, loader)
    return model


@torch.no_grad()
def predict(model: SmallCNN, X: np.ndarray) -> np.ndarray:
    model.eval()
    x = torch.from_numpy(X).float().div(255).unsqueeze(1)   # (N, 1, 28, 28) in [0, 1], as ToFloat + ToTensorV2
    return model(x).argmax(1).numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fast", action="store_true", help="tiny GAN and CNN training, about a minute")
    parser.add_argument("--out", default="results/examples/image_dataset_lightning", help="output folder")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    gan_epochs, cnn_epochs = (2, 2) if args.fast else (30, 10)

    # 1. Bundled MNIST-4k (uint8, (N, 28, 28)); a held-out test split that nothing trains on.
    X, y = load_mnist()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=SEED)
    # Make digits 0-4 rare in the training split.
    rng = np.random.default_rng(SEED)
    keep = np.concatenate([
        rng.choice(np.flatnonzero(y_train == c), KEEP_RARE, replace=False) if c in RARE else np.flatnonzero(y_train == c)
        for c in range(10)
    ])
    X_train, y_train = X_train[keep], y_train[keep]
    print("training images per digit:", np.bincount(y_train).tolist())

    # 2. The GAN: one conditional model for all digits, trained on the imbalanced training split.
    t0 = time.perf_counter()
    # (--fast also halves the networks' width.)
    aug = ImageAugmenter(epochs=gan_epochs, width=32 if args.fast else 64, random_state=SEED).fit(X_train, y_train)
    gan_seconds = time.perf_counter() - t0
    print(f"ImageAugmenter fitted in {gan_seconds:.0f} s")

    # 3. The same albumentations pipeline for real and synthetic images.
    transform = A.Compose([
        A.Affine(scale=(0.9, 1.1), translate_percent=(-0.08, 0.08), rotate=(-12, 12), shear=(-8, 8), p=1.0),
        A.ToFloat(max_value=255),
        ToTensorV2(),                                   # (28, 28) uint8 -> (1, 28, 28) float tensor
    ])
    real_only = AugmentedDataset(X_train, None, y=y_train, transform=transform, random_state=SEED)
    oversampled = AugmentedDataset(X_train, aug, y=y_train, transform=transform, synthetic_share=0.0,
                                   random_state=SEED)
    augmented = AugmentedDataset(X_train, aug, y=y_train, transform=transform, synthetic_share=0.25,
                                 random_state=SEED)
    print(f"AugmentedDataset: {augmented.n_real} real + {augmented.n_repeated} repeated real + "
          f"{augmented.n_synthetic} synthetic items; synthetic per class {augmented.synthetic_counts_}")

    # 4. Train the same CNN on both, score on the real test digits.
    rows = []
    for name, dataset, callbacks in [
        ("real only", real_only, (SetEpoch(real_only),)),
        ("random oversampling", oversampled, (SetEpoch(oversampled),)),
        ("real + ganaug", augmented, (SetEpoch(augmented),)),
    ]:
        t0 = time.perf_counter()
        model = train_cnn(dataset, cnn_epochs, callbacks)
        pred = predict(model, X_test)
        rare = np.isin(y_test, RARE)
        row = {
            "arm": name,
            "train_items": len(dataset),
            "balanced_accuracy": balanced_accuracy_score(y_test, pred),
            "rare_recall": recall_score(y_test[rare], pred[rare], labels=RARE, average="macro"),
            "cnn_seconds": time.perf_counter() - t0,
        }
        rows.append(row)
        print(f"{name:>19}: balanced accuracy {row['balanced_accuracy']:.3f}, recall of rare digits "
              f"{row['rare_recall']:.3f} ({row['cnn_seconds']:.0f} s)")
    table = pd.DataFrame(rows)
    table.to_csv(out / "results.csv", index=False)

    # 5. Look at what the GAN makes for the rare digits (one row per digit).
    images, labels = aug.sample({c: 8 for c in RARE}, random_state=SEED)
    fig, axes = plt.subplots(len(RARE), 8, figsize=(8, len(RARE)))
    for ax, image, label in zip(axes.ravel(), images, labels):
        ax.imshow(image, cmap="gray")
        ax.set_axis_off()
    fig.suptitle("synthetic images of the rare digits 0-4")
    fig.savefig(out / "samples.png", dpi=80, bbox_inches="tight")
    plt.close(fig)

    print()
    print(table.to_string(index=False, float_format="%.3f"))
    print(f"\nwrote {out / 'results.csv'} and {out / 'samples.png'}")


if __name__ == "__main__":
    main()
