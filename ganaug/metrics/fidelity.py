"""Fidelity of generated data: Fréchet distance in a feature space, conditional accuracy.

Modality-free: give features (from any network, e.g.
:meth:`ganaug.image.classifier.CNNClassifier.transform`) and labels.

* :func:`frechet_distance` - the distance behind FID (Heusel et al., 2017)
  between two Gaussian fits of feature sets.
* :func:`class_frechet_distances` - the same per class.
* :func:`conditional_accuracy` - share of items generated for class ``c``
  that a classifier trained on real data labels ``c``.
* :func:`quality_report` - for tables: SDMetrics-style column shapes and
  column pair trends (defined in :mod:`ganaug.metrics.quality`, re-exported here).
"""

from __future__ import annotations

import numpy as np

from ganaug.metrics.quality import quality_report

__all__ = ["class_frechet_distances", "conditional_accuracy", "frechet_distance", "quality_report"]


def _as_features(a, name: str) -> np.ndarray:
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array of features (n_samples, n_features), got shape {arr.shape}")
    if len(arr) < 2:
        raise ValueError(f"{name} needs at least 2 samples to estimate a covariance, got {len(arr)}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def _sqrtm_psd(m: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((m + m.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_distance(features_a, features_b) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets.

    ``||mu_a - mu_b||^2 + tr(S_a) + tr(S_b) - 2 tr((S_a^1/2 S_b S_a^1/2)^1/2)``,
    computed with symmetric eigendecompositions (stable for singular
    covariances, e.g. fewer samples than features).

    Parameters
    ----------
    features_a, features_b : array-like of shape (n, d)

    Returns
    -------
    float
        >= 0; 0 for identical sets. Estimates are biased upwards for small
        ``n``: compare numbers computed with the same sample sizes.

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.metrics.fidelity import frechet_distance
    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(size=(500, 3))
    >>> round(frechet_distance(a, a), 6)
    0.0
    >>> round(frechet_distance(a, a + [2.0, 0, 0]), 3)
    4.0
    """
    a = _as_features(features_a, "features_a")
    b = _as_features(features_b, "features_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"feature widths differ: {a.shape[1]} and {b.shape[1]}")
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    s_a, s_b = np.atleast_2d(s_a), np.atleast_2d(s_b)
    root_a = _sqrtm_psd(s_a)
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(root_a @ s_b @ root_a), 0, None)).sum()
    value = float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a) + np.trace(s_b) - 2.0 * cross)
    return max(value, 0.0)


def class_frechet_distances(features_real, y_real, features_fake, y_fake, classes=None) -> dict:
    """Fréchet distance per class between real and generated features.

    Parameters
    ----------
    features_real, features_fake : array-like (n, d)
    y_real, y_fake : array-like (n,)
        Labels of the real items and the classes the fakes were generated for.
    classes : iterable, optional
        Classes to report (default: those present in both).

    Returns
    -------
    dict
        ``{class: distance}``; NaN for a class with fewer than 2 items on a side.

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.metrics.fidelity import class_frechet_distances
    >>> rng = np.random.default_rng(0)
    >>> f, y = rng.normal(size=(400, 2)), np.repeat([0, 1], 200)
    >>> d = class_frechet_distances(f, y, f + np.repeat([[0, 0], [3, 0]], 200, axis=0), y)
    >>> round(d[0], 3), round(d[1], 3)
    (0.0, 9.0)
    """
    fr, ff = np.asarray(features_real), np.asarray(features_fake)
    yr, yf = np.asarray(y_real), np.asarray(y_fake)
    if len(fr) != len(yr) or len(ff) != len(yf):
        raise ValueError(
            f"features and labels differ in length: real {len(fr)} vs {len(yr)}, fake {len(ff)} vs {len(yf)}"
        )
    if classes is None:
        classes = [c for c in np.unique(yr) if np.any(yf == c)]
    out = {}
    for c in classes:  # a loop over classes, not samples
        a, b = fr[yr == c], ff[yf == c]
        key = c.item() if isinstance(c, np.generic) else c
        out[key] = frechet_distance(a, b) if (len(a) >= 2 and len(b) >= 2) else float("nan")
    return out


def conditional_accuracy(y_requested, y_predicted) -> tuple[float, dict]:
    """Share of generated items classified as the class they were generated for.

    Parameters
    ----------
    y_requested : array-like (n,)
        Class each item was generated for.
    y_predicted : array-like (n,)
        What a classifier trained on real data says they are.

    Returns
    -------
    overall : float
        Mean over classes of the per-class accuracy (so every class counts alike).
    per_class : dict
        ``{class: accuracy}``.

    Examples
    --------
    >>> from ganaug.metrics.fidelity import conditional_accuracy
    >>> conditional_accuracy([0, 0, 1, 1], [0, 1, 1, 1])
    (0.75, {0: 0.5, 1: 1.0})
    """
    req, pred = np.asarray(y_requested), np.asarray(y_predicted)
    if req.shape != pred.shape or req.ndim != 1:
        raise ValueError(f"y_requested and y_predicted must be 1-D of equal length, got {req.shape} and {pred.shape}")
    if len(req) == 0:
        raise ValueError("no generated items to score")
    per_class = {}
    for c in np.unique(req):
        key = c.item() if isinstance(c, np.generic) else c
        per_class[key] = float(np.mean(pred[req == c] == c))
    return float(np.mean(list(per_class.values()))), per_class
