"""Bounding boxes: validation, format conversion and overlap measures (vectorised).

Box formats (the names albumentations uses):

``"pascal_voc"``
    ``(x_min, y_min, x_max, y_max)`` in pixels; ganaug's internal format.
``"coco"``
    ``(x_min, y_min, width, height)`` in pixels.
``"yolo"``
    ``(x_center, y_center, width, height)`` as fractions of the image width and height.
``"albumentations"``
    ``(x_min, y_min, x_max, y_max)`` as fractions of the image width and height.

A detection target is a dict ``{"boxes": (K, 4), "labels": (K,)}``; K may be 0.
"""

from __future__ import annotations

import numpy as np

__all__ = ["BOX_FORMATS", "box_ioa", "box_iou", "check_target", "convert_boxes", "empty_target"]

BOX_FORMATS = ("pascal_voc", "coco", "yolo", "albumentations")


def _check_format(fmt: str, name: str = "format") -> str:
    if fmt not in BOX_FORMATS:
        raise ValueError(f"{name} must be one of {BOX_FORMATS}, got {fmt!r}")
    return fmt


def convert_boxes(boxes, source: str, target: str, image_size) -> np.ndarray:
    """Convert boxes between formats.

    Parameters
    ----------
    boxes : array-like of shape (K, 4)
    source, target : {"pascal_voc", "coco", "yolo", "albumentations"}
    image_size : (height, width)
        Needed by the normalised formats (``yolo``, ``albumentations``).

    Returns
    -------
    ndarray of shape (K, 4), float64

    Examples
    --------
    >>> from ganaug.detection import convert_boxes
    >>> convert_boxes([[10, 20, 30, 60]], "pascal_voc", "yolo", (100, 200)).tolist()
    [[0.1, 0.4, 0.1, 0.4]]
    >>> convert_boxes([[10, 20, 20, 40]], "coco", "pascal_voc", (100, 200)).tolist()
    [[10.0, 20.0, 30.0, 60.0]]
    """
    _check_format(source, "source")
    _check_format(target, "target")
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4) if np.size(boxes) == 0 else np.asarray(boxes, np.float64)
    if b.ndim != 2 or b.shape[1] != 4:
        raise ValueError(f"boxes must have shape (K, 4), got {np.shape(boxes)}")
    h, w = float(image_size[0]), float(image_size[1])
    scale = np.array([w, h, w, h])
    # to pascal_voc
    if source == "coco":
        voc = np.concatenate([b[:, :2], b[:, :2] + b[:, 2:]], axis=1)
    elif source == "yolo":
        voc = np.concatenate([b[:, :2] - b[:, 2:] / 2, b[:, :2] + b[:, 2:] / 2], axis=1) * scale
    elif source == "albumentations":
        voc = b * scale
    else:
        voc = b.copy()
    # from pascal_voc
    if target == "coco":
        return np.concatenate([voc[:, :2], voc[:, 2:] - voc[:, :2]], axis=1)
    if target == "yolo":
        return np.concatenate([(voc[:, :2] + voc[:, 2:]) / 2, voc[:, 2:] - voc[:, :2]], axis=1) / scale
    if target == "albumentations":
        return voc / scale
    return voc


def empty_target() -> dict:
    """A target with no boxes: ``{"boxes": (0, 4) float32, "labels": (0,) int64}``."""
    return {"boxes": np.zeros((0, 4), dtype=np.float32), "labels": np.zeros(0, dtype=np.int64)}


def check_target(target, image_size, fmt: str = "pascal_voc", name: str = "target", tol: float = 1e-3) -> dict:
    """Validate one detection target and return it as float32 boxes and int64 labels.

    Parameters
    ----------
    target : dict
        ``{"boxes": (K, 4), "labels": (K,)}``; extra keys are kept.
    image_size : (height, width)
    fmt : str, default="pascal_voc"
        Format of ``target["boxes"]`` (also the format of what comes back).
    name : str
        How errors refer to the target (e.g. ``"targets[3]"``).
    tol : float
        Slack, in pixels, for boxes at the image border.

    Raises
    ------
    TypeError
        The target is not a dict.
    ValueError
        Missing keys, boxes not of shape (K, 4), NaN/inf, labels of another
        length than the boxes, non-integer labels, a box with zero or negative
        width or height, or a box outside the image.

    Examples
    --------
    >>> from ganaug.detection import check_target
    >>> t = check_target({"boxes": [[1, 2, 5, 8]], "labels": [3]}, (10, 10))
    >>> t["boxes"].dtype, t["labels"].tolist()
    (dtype('float32'), [3])
    """
    _check_format(fmt, "format")
    if not isinstance(target, dict):
        raise TypeError(f"{name} must be a dict with keys 'boxes' and 'labels', got {type(target).__name__}")
    for key in ("boxes", "labels"):
        if key not in target:
            raise ValueError(f"{name} has no {key!r} key; a detection target is {{'boxes': (K, 4), 'labels': (K,)}}")
    raw_boxes, raw_labels = target["boxes"], target["labels"]
    if hasattr(raw_boxes, "detach"):
        raw_boxes = raw_boxes.detach().cpu().numpy()
    if hasattr(raw_labels, "detach"):
        raw_labels = raw_labels.detach().cpu().numpy()
    boxes = np.asarray(raw_boxes, dtype=np.float64)
    if boxes.size == 0:
        boxes = boxes.reshape(0, 4)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"{name}['boxes'] must have shape (K, 4), got {boxes.shape}")
    labels = np.asarray(raw_labels)
    if labels.size == 0:
        labels = labels.reshape(0)
    if labels.ndim != 1:
        raise ValueError(f"{name}['labels'] must be 1-dimensional, got shape {labels.shape}")
    if len(labels) != len(boxes):
        raise ValueError(f"{name} has {len(boxes)} boxes but {len(labels)} labels; they must match")
    if len(labels) and not (np.issubdtype(labels.dtype, np.integer)
                            or (np.issubdtype(labels.dtype, np.floating) and np.all(labels == np.round(labels)))):
        raise ValueError(f"{name}['labels'] must be integer class ids, got dtype {labels.dtype}")
    if not np.isfinite(boxes).all():
        k = int(np.flatnonzero(~np.isfinite(boxes).all(axis=1))[0])
        raise ValueError(f"{name}['boxes'][{k}] is not finite: {boxes[k].tolist()}")
    voc = convert_boxes(boxes, fmt, "pascal_voc", image_size)
    h, w = float(image_size[0]), float(image_size[1])
    size = voc[:, 2:] - voc[:, :2]
    bad = np.flatnonzero((size <= 0).any(axis=1))
    if len(bad):
        k = int(bad[0])
        raise ValueError(f"{name}['boxes'][{k}] = {boxes[k].tolist()} has zero or negative width or height "
                         f"(format {fmt!r})")
    t = tol
    outside = (voc[:, 0] < -t) | (voc[:, 1] < -t) | (voc[:, 2] > w + t) | (voc[:, 3] > h + t)
    bad = np.flatnonzero(outside)
    if len(bad):
        k = int(bad[0])
        raise ValueError(f"{name}['boxes'][{k}] = {boxes[k].tolist()} lies (partly) outside the "
                         f"{int(h)}x{int(w)} image (format {fmt!r}); clip or drop it first")
    out = dict(target)
    out["boxes"] = boxes.astype(np.float32)
    out["labels"] = labels.astype(np.int64)
    return out


def _pairwise_intersection(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = np.clip(rb - lt, 0, None)
    return wh[..., 0] * wh[..., 1]


def _area(b: np.ndarray) -> np.ndarray:
    return np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)


def box_iou(a, b) -> np.ndarray:
    """Intersection over union of every box of ``a`` with every box of ``b`` (pascal_voc), shape (len(a), len(b)).

    Examples
    --------
    >>> from ganaug.detection import box_iou
    >>> box_iou([[0, 0, 2, 2]], [[1, 0, 3, 2], [5, 5, 6, 6]]).round(3).tolist()
    [[0.333, 0.0]]
    """
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    inter = _pairwise_intersection(a, b)
    union = _area(a)[:, None] + _area(b)[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def box_ioa(a, b) -> np.ndarray:
    """Share of each box of ``b`` covered by each box of ``a`` (intersection over area of ``b``), shape (len(a), len(b)).

    This is how much a pasted box ``a`` hides an existing box ``b``.

    Examples
    --------
    >>> from ganaug.detection import box_ioa
    >>> box_ioa([[0, 0, 2, 2]], [[1, 0, 3, 2]]).tolist()
    [[0.5]]
    """
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    inter = _pairwise_intersection(a, b)
    area_b = _area(b)[None, :]
    return np.where(area_b > 0, inter / np.where(area_b > 0, area_b, 1), 0.0)
