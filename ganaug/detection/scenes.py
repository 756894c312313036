"""A real-data detection task that runs on a CPU: real MNIST digits placed in noisy scenes.

The digits are real handwritten digits (the bundled ``mnist_4k``); only their
placement is synthetic. Each scene holds a few digits at random sizes and
positions on a noise background; a digit's box is the extent of its ink
(pixels above a threshold), in pascal_voc pixels.
"""

from __future__ import annotations

import numpy as np

from ganaug.detection.boxes import box_ioa

__all__ = ["make_digit_scenes"]


def _resize(img: np.ndarray, size: int) -> np.ndarray:
    import cv2

    return cv2.resize(img, (size, size), interpolation=cv2.INTER_LINEAR)


def make_digit_scenes(X, y, n_scenes: int, image_size: int = 64, objects=(2, 5), digit_size=(18, 30),
                      class_weights=None, noise: float = 40.0, max_overlap: float = 0.05, ink_threshold: int = 64,
                      random_state=None):
    """Scenes of real digits with their boxes.

    Parameters
    ----------
    X : ndarray (N, 28, 28) uint8
        Digit images (white ink on black, as MNIST).
    y : ndarray (N,)
        Their labels (0..9).
    n_scenes : int
    image_size : int, default=64
        Square canvas side in pixels.
    objects : (int, int), default=(2, 5)
        Fewest and most digits per scene (uniform).
    digit_size : (int, int), default=(18, 30)
        Side range, in pixels, to which a 28x28 digit image is resized.
    class_weights : dict or array, optional
        Relative frequency of each class among the placed digits (default:
        uniform over the labels present in ``y``). A digit of class ``c`` is
        drawn uniformly, with replacement, from the images of ``c``.
    noise : float, default=40.0
        Background: uniform noise in ``0..noise`` grey levels; digits are
        composited by maximum.
    max_overlap : float, default=0.05
        Largest share of one digit's box covered by another digit's box.
    ink_threshold : int, default=64
        A digit's box spans its pixels brighter than this.
    random_state : int, optional

    Returns
    -------
    images : ndarray (n_scenes, image_size, image_size) uint8
    targets : list of dict
        ``{"boxes": (K, 4) float32 pascal_voc, "labels": (K,) int64}``.
    source_index : list of ndarray
        Index into ``X`` of each placed digit (to keep test digits apart).

    Examples
    --------
    >>> from ganaug.datasets import load_mnist
    >>> from ganaug.detection import make_digit_scenes
    >>> X, y = load_mnist()
    >>> images, targets, _ = make_digit_scenes(X[:200], y[:200], n_scenes=4, random_state=0)
    >>> images.shape, [len(t["labels"]) for t in targets]
    ((4, 64, 64), [3, 5, 4, 5])
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim != 3 or X.dtype != np.uint8:
        raise ValueError(f"X must be uint8 digit images of shape (N, H, W), got {X.shape} {X.dtype}")
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} images but y has {len(y)} labels")
    lo, hi = int(objects[0]), int(objects[1])
    if not 0 <= lo <= hi:
        raise ValueError(f"objects must be (min, max) with 0 <= min <= max, got {objects!r}")
    smin, smax = int(digit_size[0]), int(digit_size[1])
    if not 4 <= smin <= smax <= image_size:
        raise ValueError(f"digit_size must be (min, max) with 4 <= min <= max <= image_size, got {digit_size!r}")
    rng = np.random.default_rng(random_state)
    classes = np.unique(y)
    if class_weights is None:
        w = np.ones(len(classes))
    elif isinstance(class_weights, dict):
        w = np.array([float(class_weights.get(int(c), 0.0)) for c in classes])
    else:
        w = np.asarray(class_weights, dtype=np.float64)[classes]
    if (w < 0).any() or w.sum() <= 0:
        raise ValueError("class_weights must be >= 0 with a positive sum")
    p = w / w.sum()
    pools = {int(c): np.flatnonzero(y == c) for c in classes}
    images = rng.uniform(0, noise, (n_scenes, image_size, image_size)).astype(np.uint8)
    targets, sources = [], []
    for s in range(n_scenes):  # scene construction: a loop over scenes and their few digits
        k = int(rng.integers(lo, hi + 1))
        boxes, labels, src = [], [], []
        for _ in range(k):
            c = int(rng.choice(classes, p=p))
            idx = int(rng.choice(pools[c]))
            side = int(rng.integers(smin, smax + 1))
            digit = _resize(X[idx], side)
            ys, xs = np.nonzero(digit > ink_threshold)
            if len(xs) == 0:
                continue
            for _try in range(20):
                x0 = int(rng.integers(0, image_size - side + 1))
                y0 = int(rng.integers(0, image_size - side + 1))
                box = np.array([x0 + xs.min(), y0 + ys.min(), x0 + xs.max() + 1, y0 + ys.max() + 1], np.float32)
                if not boxes or (box_ioa(box, np.array(boxes)).max() <= max_overlap
                                 and box_ioa(np.array(boxes), box).max() <= max_overlap):
                    break
            else:
                continue
            region = images[s, y0:y0 + side, x0:x0 + side]
            np.maximum(region, digit, out=region)
            boxes.append(box)
            labels.append(c)
            src.append(idx)
        targets.append({"boxes": np.array(boxes, np.float32).reshape(-1, 4), "labels": np.array(labels, np.int64)})
        sources.append(np.array(src, np.int64))
    return images, targets, sources
