"""The albumentations bridge: one function applies a transform to an item, real or synthetic.

Items are ``(image, target)``. Images may be numpy arrays or torch tensors in
(H, W), (C, H, W) or (H, W, C) layout; albumentations wants (H, W[, C]) numpy
arrays, so the image is converted, transformed and put back in its own layout
(unless the transform itself returns a tensor, e.g. ``ToTensorV2``).

Targets are class labels or detection targets
``{"boxes": (K, 4), "labels": (K,)}``; boxes are passed as ``bboxes`` to an
albumentations ``Compose`` with ``bbox_params`` (its ``format``: pascal_voc,
coco, yolo or albumentations) and come back moved, clipped or dropped with
their labels. :func:`detection_compose` builds such a ``Compose`` and
:func:`detection_collate` batches items with different box counts.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

__all__ = [
    "apply_transform",
    "detection_collate",
    "detection_compose",
    "image_layout",
    "is_albumentations",
    "limit_worker_threads",
    "worker_init_fn",
]


def is_albumentations(transform) -> bool:
    """True for an albumentations transform or ``Compose`` (called as ``t(image=...)``)."""
    try:
        import albumentations as A
    except ImportError:  # pragma: no cover - albumentations is a dependency
        return False
    return isinstance(transform, (A.BaseCompose, A.BasicTransform))


def image_layout(image) -> str:
    """Layout of one image: ``"HW"``, ``"CHW"`` or ``"HWC"``.

    3-D tensors are (C, H, W), as in torch. A 3-D numpy array's channel axis
    is the first or last one with 1, 3 or 4 entries; when both qualify, the
    smaller one (the last on a tie, numpy's usual (H, W, C)).

    Examples
    --------
    >>> import numpy as np, torch
    >>> from ganaug.data.transforms import image_layout
    >>> image_layout(np.zeros((28, 28))), image_layout(np.zeros((32, 32, 3))), image_layout(torch.zeros(3, 32, 32))
    ('HW', 'HWC', 'CHW')
    """
    ndim = image.dim() if isinstance(image, torch.Tensor) else np.ndim(image)
    if ndim == 2:
        return "HW"
    if ndim != 3:
        raise ValueError(f"an image must have 2 or 3 dimensions, got shape {tuple(np.shape(image))}")
    if isinstance(image, torch.Tensor):
        return "CHW"
    first, last = np.shape(image)[0], np.shape(image)[-1]
    first_ok, last_ok = first in (1, 3, 4), last in (1, 3, 4)
    if first_ok and (not last_ok or first < last):
        return "CHW"
    return "HWC"


def _to_hwc(image) -> tuple[np.ndarray, Callable[[Any], Any]]:
    layout = image_layout(image)
    is_tensor = isinstance(image, torch.Tensor)
    arr = image.detach().cpu().numpy() if is_tensor else np.asarray(image)
    if layout == "CHW":
        arr = arr.transpose(1, 2, 0)
    arr = np.ascontiguousarray(arr)

    def restore(out):
        if isinstance(out, torch.Tensor):  # the transform chose its own output (ToTensorV2)
            return out
        out = np.asarray(out)
        if layout == "HW" and out.ndim == 3 and out.shape[-1] == 1:
            out = out[..., 0]
        if layout == "CHW" and out.ndim == 3:
            out = out.transpose(2, 0, 1)
        out = np.ascontiguousarray(out)
        return torch.from_numpy(out) if is_tensor else out

    return arr, restore


def apply_transform(transform, image, target):
    """Apply ``transform`` to one item and return ``(image, target)``.

    Parameters
    ----------
    transform : albumentations transform or Compose, callable, or None
        albumentations transforms are called as ``transform(image=...)`` on an
        (H, W[, C]) numpy array; any other callable as ``transform(image)``.
    image : ndarray or Tensor
    target : class label or dict
        A class label is returned unchanged. A detection target
        ``{"boxes": (K, 4), "labels": (K,)}`` needs an albumentations
        ``Compose`` with ``bbox_params`` (boxes in its format; see
        :func:`detection_compose`) or a callable ``transform(image, target)``
        returning ``(image, target)``; the boxes come back transformed with
        the image (other keys of the dict are kept).

    Examples
    --------
    >>> import numpy as np, albumentations as A
    >>> from ganaug.data.transforms import apply_transform
    >>> img = np.arange(16, dtype=np.uint8).reshape(1, 4, 4)  # (C, H, W)
    >>> out, label = apply_transform(A.HorizontalFlip(p=1.0), img, 3)
    >>> out.shape, out[0, 0].tolist(), label
    ((1, 4, 4), [3, 2, 1, 0], 3)
    """
    if transform is None:
        return image, target
    if isinstance(target, dict):
        return _apply_detection(transform, image, target)
    if not is_albumentations(transform):
        return transform(image), target
    arr, restore = _to_hwc(image)
    out = transform(image=arr)
    return restore(out["image"]), target


def _bbox_processor(transform):
    processors = getattr(transform, "processors", None) or {}
    return processors.get("bboxes")


def _apply_detection(transform, image, target: dict):
    if "boxes" not in target or "labels" not in target:
        raise ValueError("a detection target must be a dict with keys 'boxes' (K, 4) and 'labels' (K,)")
    if not is_albumentations(transform):
        out = transform(image, target)
        if not (isinstance(out, tuple) and len(out) == 2):
            raise TypeError("a non-albumentations transform of detection items must take (image, target) "
                            "and return (image, target)")
        return out
    proc = _bbox_processor(transform)
    if proc is None:
        raise ValueError("this item has boxes but the albumentations transform has no bbox_params; build it with "
                         "A.Compose([...], bbox_params=A.BboxParams(format=..., label_fields=['labels'])) "
                         "or ganaug.data.detection_compose([...], format=...)")
    fields = list(proc.params.label_fields or [])
    if len(fields) != 1:
        raise ValueError(f"bbox_params must have exactly one label field (e.g. label_fields=['labels']), got {fields}")
    from ganaug.detection.boxes import check_target

    boxes_in, labels_in = target["boxes"], target["labels"]
    was_tensor = isinstance(boxes_in, torch.Tensor)
    arr, restore = _to_hwc(image)
    fmt = proc.params.format
    checked = check_target(target, arr.shape[:2], fmt)  # clear errors for bad boxes or labels
    boxes, labels = checked["boxes"].astype(np.float64), np.asarray(checked["labels"])
    if len(boxes) and fmt in ("pascal_voc", "albumentations"):  # float error at the border is not an error
        h, w = arr.shape[:2]
        lim = np.array([w, h, w, h], dtype=np.float64) if fmt == "pascal_voc" else np.ones(4)
        boxes = np.clip(boxes, 0, lim)
    # the label field carries box indices, so labels and any other per-box array follow the kept boxes
    out = transform(image=arr, bboxes=boxes, **{fields[0]: np.arange(len(boxes))})
    new_boxes = np.asarray(out["bboxes"], dtype=np.float32).reshape(-1, 4)
    kept = np.asarray(out[fields[0]], dtype=np.int64).reshape(-1)
    result = dict(target)
    for key, value in target.items():
        if key in ("boxes", "labels"):
            continue
        arr_v = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else value
        if isinstance(arr_v, np.ndarray) and arr_v.ndim >= 1 and len(arr_v) == len(boxes):
            picked = arr_v[kept]
            result[key] = torch.from_numpy(picked) if isinstance(value, torch.Tensor) else picked
    new_labels = labels[kept]
    result["boxes"] = torch.from_numpy(new_boxes) if was_tensor else new_boxes
    result["labels"] = torch.from_numpy(new_labels) if isinstance(labels_in, torch.Tensor) else new_labels
    return restore(out["image"]), result


def detection_compose(transforms, format: str = "pascal_voc", min_visibility: float = 0.0, **compose_kwargs):
    """An albumentations ``Compose`` that moves boxes with the image.

    Parameters
    ----------
    transforms : list of albumentations transforms
    format : {"pascal_voc", "coco", "yolo", "albumentations"}, default="pascal_voc"
        Format of the targets' boxes.
    min_visibility : float, default=0.0
        Boxes that keep less than this share of their area after the
        transform are dropped with their labels (albumentations' rule).

    Examples
    --------
    >>> import numpy as np, albumentations as A
    >>> from ganaug.data import apply_transform, detection_compose
    >>> t = detection_compose([A.HorizontalFlip(p=1.0)], format="pascal_voc")
    >>> img, target = apply_transform(t, np.zeros((1, 10, 20), np.uint8), {"boxes": [[0, 0, 5, 5]], "labels": [7]})
    >>> img.shape, target["boxes"].tolist(), target["labels"].tolist()
    ((1, 10, 20), [[15.0, 0.0, 20.0, 5.0]], [7])
    """
    import albumentations as A

    from ganaug.detection.boxes import _check_format

    _check_format(format)
    params = A.BboxParams(format=format, label_fields=["labels"], min_visibility=float(min_visibility), clip=True)
    return A.Compose(list(transforms), bbox_params=params, **compose_kwargs)


def detection_collate(batch):
    """``DataLoader(collate_fn=...)`` for detection items ``(image, target)`` with any number of boxes.

    Images of one shape are stacked into one tensor (a list otherwise);
    targets stay a list of dicts with ``boxes`` as float32 and ``labels`` as
    int64 tensors (other keys unchanged).

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.data import detection_collate
    >>> items = [(np.zeros((1, 8, 8), np.float32), {"boxes": np.zeros((k, 4)), "labels": np.zeros(k)}) for k in (0, 3)]
    >>> images, targets = detection_collate(items)
    >>> tuple(images.shape), [tuple(t["boxes"].shape) for t in targets]
    ((2, 1, 8, 8), [(0, 4), (3, 4)])
    """
    images, targets = [], []
    for image, target in batch:  # a loop over one batch's items, as torch's default_collate does
        images.append(image if isinstance(image, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(image)))
        t = dict(target)
        t["boxes"] = torch.as_tensor(np.asarray(target["boxes"], dtype=np.float32).reshape(-1, 4)) \
            if not isinstance(target["boxes"], torch.Tensor) else target["boxes"].float().reshape(-1, 4)
        t["labels"] = torch.as_tensor(np.asarray(target["labels"]).reshape(-1).astype(np.int64)) \
            if not isinstance(target["labels"], torch.Tensor) else target["labels"].long().reshape(-1)
        targets.append(t)
    if len({tuple(im.shape) for im in images}) == 1:
        return torch.stack(images), targets
    return images, targets


def limit_worker_threads() -> None:
    """One torch thread and no OpenCV thread pool in this process (for DataLoader workers)."""
    torch.set_num_threads(1)
    try:
        import cv2

        cv2.setNumThreads(0)
    except ImportError:  # pragma: no cover
        pass


def worker_init_fn(worker_id: int) -> None:
    """``DataLoader(worker_init_fn=...)``: one thread per worker, own augmentation stream per worker.

    Reseeds the dataset's albumentations ``transform`` (when it has one) with
    the worker's torch seed, so workers do not repeat each other's
    augmentations and runs stay repeatable under a fixed torch seed.
    """
    limit_worker_threads()
    info = torch.utils.data.get_worker_info()
    if info is None:  # pragma: no cover - called outside a worker
        return
    reseed = getattr(info.dataset, "_reseed_transform", None)
    if callable(reseed):
        reseed(info.seed)
