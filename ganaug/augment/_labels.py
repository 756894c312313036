"""Compatibility alias: the label helpers live in :mod:`ganaug._labels` (a layer the modalities may import)."""

from __future__ import annotations

from ganaug._labels import (  # noqa: F401 - re-exported
    LabelFormat,
    _label_array,
    allocate_counts,
    classes_from_json,
    classes_to_json,
    encode_labels,
    label_repr,
    squeeze_labels,
)

__all__ = [
    "LabelFormat",
    "allocate_counts",
    "classes_from_json",
    "classes_to_json",
    "encode_labels",
    "label_repr",
    "squeeze_labels",
]
