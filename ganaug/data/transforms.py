"""The albumentations bridge: one function applies a transform to an item, real or synthetic.

Items are ``(image, target)``. Images may be numpy arrays or torch tensors in
(H, W), (C, H, W) or (H, W, C) layout; albumentations wants (H, W[, C]) numpy
arrays, so the image is converted, transformed and put back in its own layout
(unless the transform itself returns a tensor, e.g. ``ToTensorV2``).

Targets are class labels today; detection targets
(``{"boxes": (K, 4), "labels": (K,)}``, passed as ``bboxes`` to an
albumentations ``Compose`` with ``bbox_params``) will go through the same
:func:`apply_transform`.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

__all__ = ["apply_transform", "image_layout", "is_albumentations", "limit_worker_threads", "worker_init_fn"]


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
    target : class label
        Returned unchanged.

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
        raise NotImplementedError("detection targets (boxes) are not supported yet; items must be (image, label)")
    if not is_albumentations(transform):
        return transform(image), target
    arr, restore = _to_hwc(image)
    out = transform(image=arr)
    return restore(out["image"]), target


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
