"""Scene-level augmentation: image-to-image translation of whole detection images, boxes kept."""

from __future__ import annotations

import numpy as np

from ganaug.detection.boxes import check_target

__all__ = ["translate_scenes"]


def translate_scenes(translator, images, targets, direction: str = "ab"):
    """Translate detection images with a fitted translator and keep their boxes.

    A translation model (:class:`~ganaug.augment.translation.TranslationAugmenter`,
    pix2pix or CycleGAN) changes how a scene looks (day to night, one sensor
    to another) pixel for pixel, not where objects are, so each box stays
    where it was. When the translator returns images of another size, the
    boxes are scaled with them.

    Parameters
    ----------
    translator : fitted TranslationAugmenter, or anything with ``transform(X)``
        (and ``inverse_transform(X)`` for ``direction="ba"``).
    images : ndarray (N, H, W[, C]) or (N, C, H, W)
        Square images of a size the translator accepts.
    targets : list of dict
        Pascal_voc boxes and labels per image.
    direction : {"ab", "ba"}, default="ab"

    Returns
    -------
    translated : ndarray
    targets : list of dict
        Copies of ``targets`` (boxes scaled if the size changed).

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.detection import translate_scenes
    >>> class Invert:                      # stands in for a fitted TranslationAugmenter
    ...     def transform(self, X): return 255 - X
    >>> images = np.zeros((1, 8, 8), np.uint8)
    >>> out, t = translate_scenes(Invert(), images, [{"boxes": [[1, 1, 4, 4]], "labels": [2]}])
    >>> int(out[0, 0, 0]), t[0]["boxes"].tolist()
    (255, [[1.0, 1.0, 4.0, 4.0]])
    """
    if direction not in ("ab", "ba"):
        raise ValueError(f"direction must be 'ab' or 'ba', got {direction!r}")
    arr = np.asarray(images)
    if arr.ndim not in (3, 4):
        raise ValueError(f"images must be (N, H, W[, C]) or (N, C, H, W), got shape {arr.shape}")
    if len(arr) != len(targets):
        raise ValueError(f"images has {len(arr)} items but targets has {len(targets)}; they must match")
    chw = arr.ndim == 4 and arr.shape[1] in (1, 3) and arr.shape[-1] not in (1, 3)
    h, w = (arr.shape[2:4] if chw else arr.shape[1:3])
    checked = [check_target(t, (h, w), name=f"targets[{i}]") for i, t in enumerate(targets)]
    fn = translator.transform if direction == "ab" else translator.inverse_transform
    out = np.asarray(fn(arr))
    if len(out) != len(arr):
        raise ValueError(f"the translator returned {len(out)} images for {len(arr)}")
    oh, ow = (out.shape[2:4] if chw else out.shape[1:3])
    scale = np.array([ow / w, oh / h, ow / w, oh / h], np.float32)
    new = []
    for t in checked:
        t = dict(t)
        t["boxes"] = (t["boxes"] * scale).astype(np.float32)
        new.append(t)
    return out, new
