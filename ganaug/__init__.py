"""ganaug: train GANs on your own data and synthesize what it lacks.

Public names are imported lazily (``import ganaug`` stays fast; torch and
Lightning load when a model is first used).

Examples
--------
>>> import ganaug
>>> isinstance(ganaug.__version__, str)
True
"""

from __future__ import annotations

import importlib
from typing import Any

from ganaug._version import FORMAT_VERSION, __version__

#: public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "GANModule": "ganaug.core",
    "available_losses": "ganaug.core",
    "get_loss": "ganaug.core",
    "BaseAugmenter": "ganaug.augment.base",
    "NonFiniteLossError": "ganaug.exceptions",
    "ModelFormatError": "ganaug.exceptions",
    "load": "ganaug.augment.base",
    "resumable_trainer": "ganaug.core.checkpoint",
    "TabularAugmenter": "ganaug.augment.tabular",
    "TabularTransformer": "ganaug.tabular",
    "TabularGAN": "ganaug.tabular",
    "Inequality": "ganaug.tabular",
    "Range": "ganaug.tabular",
    "FixedCombinations": "ganaug.tabular",
    "Positive": "ganaug.tabular",
    "Negative": "ganaug.tabular",
    "Custom": "ganaug.tabular",
    "TranslationAugmenter": "ganaug.augment.translation",
    "Pix2Pix": "ganaug.image",
    "CycleGAN": "ganaug.image",
    "ImageAugmenter": "ganaug.augment.image",
    "ConditionalImageGAN": "ganaug.image",
    "AugmentedDataset": "ganaug.data",
    "AugmentedDataModule": "ganaug.data",
    "ObjectPasteAugmenter": "ganaug.detection",
    "CenterNetDetector": "ganaug.detection",
    "detection_collate": "ganaug.data",
    "detection_compose": "ganaug.data",
    "utility_report": "ganaug.evaluate",
    "quality_report": "ganaug.metrics.quality",
    "UtilityReport": "ganaug.evaluate",
    "TimeSeriesAugmenter": "ganaug.augment.timeseries",
    "RecurrentGAN": "ganaug.timeseries",
    "SeriesClassifier": "ganaug.timeseries",
    "privacy_report": "ganaug.privacy",
    "privacy_metrics": "ganaug.privacy",
    "filter_copies": "ganaug.privacy",
    "CopyFilter": "ganaug.privacy",
    "GANAnomalyDetector": "ganaug.anomaly",
    "FewLabelAnomalyDetector": "ganaug.anomaly.fewlabel",
    "mask_labels": "ganaug.anomaly.fewlabel",
}

__all__ = sorted(["__version__", "FORMAT_VERSION", *_EXPORTS])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ganaug' has no attribute {name!r}")
    if name == "load":
        value = importlib.import_module(module).BaseAugmenter.load
    else:
        value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
