"""Torch datasets and Lightning data modules that mix real and synthetic items (labels or boxes)."""

from ganaug.data.dataset import AugmentedDataset, synthetic_counts
from ganaug.data.transforms import apply_transform, detection_collate, detection_compose, worker_init_fn

__all__ = [
    "AugmentedDataset",
    "AugmentedDataModule",
    "apply_transform",
    "detection_collate",
    "detection_compose",
    "synthetic_counts",
    "worker_init_fn",
]


def __getattr__(name):
    if name == "AugmentedDataModule":  # imports Lightning only when asked for
        from ganaug.data.datamodule import AugmentedDataModule

        return AugmentedDataModule
    raise AttributeError(f"module 'ganaug.data' has no attribute {name!r}")
