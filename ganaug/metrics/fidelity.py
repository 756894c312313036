"""Fidelity of generated data: Fréchet distance in a feature space, conditional accuracy.

Modality-free: give features (from any network, e.g.
:meth:`ganaug.image.classifier.CNNClassifier.transform`) and labels.

* :func:`frechet_distance` - the distance behind FID (Heusel et al., 2017)
  between two Gaussian fits of feature sets.
* :func:`class_frechet_distances` - the same per class.
* :func:`conditional_accuracy` - share of items generated for class ``c``
  that a classifier trained on real data labels ``c``.
* :func:`density_coverage` - density (fidelity) and coverage (diversity) of
  generated features from k-nearest-neighbour balls of the real ones
  (Naeem et al., 2020); :func:`class_density_coverage` the same per class.
* :func:`precision_recall` - improved precision and recall (Kynkäänniemi et
  al., 2019) from the same balls.
* :func:`quality_report` - for tables: SDMetrics-style column shapes and
  column pair trends (defined in :mod:`ganaug.metrics.quality`, re-exported here).
"""

from __future__ import annotations

import numpy as np

from ganaug.metrics.quality import quality_report

__all__ = [
    "class_density_coverage",
    "class_frechet_distances",
    "conditional_accuracy",
    "density_coverage",
    "frechet_distance",
    "precision_recall",
    "quality_report",
]

#: bytes of one block of pairwise distances (blocks of rows keep 10k x 10k sets in memory)
_BLOCK_BYTES = 64 * 2**20


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


# --------------------------------------------------------------- k-NN balls
def _as_points(a, name: str, min_rows: int = 1) -> np.ndarray:
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array of features (n_samples, n_features), got shape {arr.shape}")
    if len(arr) < min_rows:
        raise ValueError(f"{name} needs at least {min_rows} samples, got {len(arr)}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def _check_k(k, n: int, name: str) -> int:
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")
    if k >= n:
        raise ValueError(f"k={k} nearest neighbours need more than k {name} samples, got {n}; lower k")
    return int(k)


def _row_blocks(n_rows: int, n_cols: int):
    """Slices of rows whose distance block to ``n_cols`` columns fits in ``_BLOCK_BYTES``."""
    step = max(1, _BLOCK_BYTES // (8 * max(1, n_cols)))
    return (slice(s, min(s + step, n_rows)) for s in range(0, n_rows, step))


def _sq_distances(a: np.ndarray, a_sq: np.ndarray, b: np.ndarray, b_sq: np.ndarray) -> np.ndarray:
    d = a_sq[:, None] + b_sq[None, :] - 2.0 * (a @ b.T)
    return np.maximum(d, 0.0, out=d)


def _knn_radii_sq(x: np.ndarray, k: int) -> np.ndarray:
    """Squared distance of every row of ``x`` to its ``k``-th nearest *other* row, computed blockwise."""
    sq = np.einsum("ij,ij->i", x, x)
    out = np.empty(len(x))
    for rows in _row_blocks(len(x), len(x)):
        d = _sq_distances(x[rows], sq[rows], x, sq)
        d[np.arange(d.shape[0]), np.arange(rows.start, rows.stop)] = 0.0  # a row is its own nearest (index 0)
        out[rows] = np.partition(d, k, axis=1)[:, k]
    return out


def _ball_statistics(real_features, fake_features, k: int, recall: bool) -> dict:
    """Density, coverage, precision and (``recall=True``) recall from k-NN balls, in one blockwise pass."""
    real = _as_points(real_features, "real_features", 2)
    fake = _as_points(fake_features, "fake_features", 1)
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"feature widths differ: real_features has {real.shape[1]}, fake_features {fake.shape[1]}")
    k = _check_k(k, len(real), "real")
    if recall:
        _check_k(k, len(fake), "fake")
    centre = real.mean(axis=0)  # distances do not change; less cancellation in |a|^2 + |b|^2 - 2ab
    real, fake = real - centre, fake - centre
    real_r = _knn_radii_sq(real, k)
    fake_r = _knn_radii_sq(fake, k) if recall else None
    real_sq, fake_sq = np.einsum("ij,ij->i", real, real), np.einsum("ij,ij->i", fake, fake)
    balls_per_fake = np.zeros(len(fake), dtype=np.int64)  # how many real balls hold each fake
    nearest_fake = np.empty(len(real))  # squared distance of each real to its closest fake
    recalled = np.zeros(len(real), dtype=bool)  # real inside some fake's ball
    for rows in _row_blocks(len(real), len(fake)):
        d = _sq_distances(real[rows], real_sq[rows], fake, fake_sq)
        balls_per_fake += (d < real_r[rows, None]).sum(axis=0)
        nearest_fake[rows] = d.min(axis=1)
        if recall:
            recalled[rows] = (d < fake_r[None, :]).any(axis=1)
    out = {
        "density": float(balls_per_fake.sum() / (k * len(fake))),
        "coverage": float(np.mean(nearest_fake < real_r)),
        "precision": float(np.mean(balls_per_fake > 0)),
    }
    if recall:
        out["recall"] = float(recalled.mean())
    return out


def density_coverage(real_features, fake_features, k: int = 5) -> dict:
    """Density and coverage of generated features (Naeem et al., ICML 2020).

    Every real sample ``x_i`` gets a ball whose radius is the distance to
    its ``k``-th nearest other real sample. With ``N`` real and ``M``
    generated samples ``y_j``:

    * density ``= 1/(kM) sum_j #{i : y_j in ball(x_i)}`` - fidelity: how
      many real neighbourhoods a generated sample sits in, on average; about
      1 when both sets come from one distribution, above 1 when generated
      samples crowd where real ones are dense, below 1 for outliers.
    * coverage ``= 1/N #{i : some y_j in ball(x_i)}`` - diversity: the share
      of real neighbourhoods that hold at least one generated sample; about
      ``1 - 2**-k`` (0.97 for k=5) for two equal-sized samples of one
      distribution, low for a collapsed generator.

    Balls are open (``distance < radius``), as in the authors' reference
    code. Distances are Euclidean, computed in blocks of rows (a 10 000 x
    10 000 comparison needs about 64 MB at a time).

    Parameters
    ----------
    real_features : array-like of shape (N, d)
        Features of real samples (e.g. a classifier's penultimate layer).
    fake_features : array-like of shape (M, d)
        Features of generated samples, same extractor.
    k : int, default=5
        Neighbours that set the ball radius; must be smaller than ``N``.

    Returns
    -------
    dict
        ``{"density": float, "coverage": float}``; coverage in [0, 1],
        density >= 0. Both depend on ``k`` and on the sample sizes: compare
        numbers computed with the same ``k``, ``N`` and ``M``.

    Raises
    ------
    ValueError
        Arrays that are not 2-D, of different widths, empty, holding NaN or
        inf, or ``k`` not smaller than the number of real samples.

    See Also
    --------
    class_density_coverage : the same per class.
    precision_recall : precision and recall from the same balls.

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.metrics.fidelity import density_coverage
    >>> rng = np.random.default_rng(0)
    >>> real = rng.normal(size=(1000, 2))
    >>> fresh = density_coverage(real, rng.normal(size=(1000, 2)))
    >>> round(fresh["density"], 1), fresh["coverage"] > 0.9
    (1.0, True)
    >>> collapsed = density_coverage(real, np.zeros((1000, 2)))  # one point repeated
    >>> collapsed["coverage"] < 0.05
    True
    """
    stats = _ball_statistics(real_features, fake_features, k, recall=False)
    return {"density": stats["density"], "coverage": stats["coverage"]}


def precision_recall(real_features, fake_features, k: int = 5) -> dict:
    """Improved precision and recall of generated features (Kynkäänniemi et al., NeurIPS 2019).

    precision = share of generated samples inside at least one real
    sample's k-NN ball (radius: distance to its ``k``-th nearest other real
    sample); recall = share of real samples inside at least one generated
    sample's k-NN ball (radii from the generated set). Open balls, Euclidean
    distances computed blockwise, as in :func:`density_coverage`. Unlike
    density and coverage, both are pulled up by outliers (an outlier's ball
    is large): prefer density/coverage to compare generators, use these to
    compare with published numbers.

    Parameters
    ----------
    real_features : array-like of shape (N, d)
    fake_features : array-like of shape (M, d)
    k : int, default=5
        Must be smaller than both ``N`` and ``M``.

    Returns
    -------
    dict
        ``{"precision": float, "recall": float}``, both in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.metrics.fidelity import precision_recall
    >>> rng = np.random.default_rng(0)
    >>> real = rng.normal(size=(1000, 2))
    >>> pr = precision_recall(real, rng.normal(size=(1000, 2)))
    >>> pr["precision"] > 0.9, pr["recall"] > 0.9
    (True, True)
    >>> narrow = precision_recall(real, 0.1 * rng.normal(size=(1000, 2)))  # all inside, little spread
    >>> narrow["precision"] > 0.9, narrow["recall"] < 0.2
    (True, True)
    """
    stats = _ball_statistics(real_features, fake_features, k, recall=True)
    return {"precision": stats["precision"], "recall": stats["recall"]}


def class_density_coverage(features_real, y_real, features_fake, y_fake, k: int = 5, classes=None) -> dict:
    """Density and coverage (:func:`density_coverage`) per class.

    Parameters
    ----------
    features_real, features_fake : array-like (n, d)
    y_real, y_fake : array-like (n,)
        Labels of the real items and the classes the fakes were generated for.
    k : int, default=5
    classes : iterable, optional
        Classes to report (default: those present in both).

    Returns
    -------
    dict
        ``{class: {"density": float, "coverage": float}}``; both NaN for a
        class with at most ``k`` real items or no generated ones.

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.metrics.fidelity import class_density_coverage
    >>> rng = np.random.default_rng(0)
    >>> real, y = rng.normal(size=(600, 2)), np.repeat([0, 1], 300)
    >>> fake = np.where((y == 1)[:, None], 0.0, rng.normal(size=(600, 2)))  # class 1 collapsed to one point
    >>> dc = class_density_coverage(real, y, fake, y)
    >>> dc[0]["coverage"] > 0.9, dc[1]["coverage"] < 0.1
    (True, True)
    """
    fr, ff = np.asarray(features_real), np.asarray(features_fake)
    yr, yf = np.asarray(y_real), np.asarray(y_fake)
    if len(fr) != len(yr) or len(ff) != len(yf):
        raise ValueError(
            f"features and labels differ in length: real {len(fr)} vs {len(yr)}, fake {len(ff)} vs {len(yf)}"
        )
    if fr.ndim == 2 and ff.ndim == 2 and fr.shape[1] != ff.shape[1]:
        raise ValueError(f"feature widths differ: real {fr.shape[1]}, fake {ff.shape[1]}")
    _check_k(k, np.iinfo(np.int64).max, "real")  # type and sign; the count is checked per class
    if classes is None:
        classes = [c for c in np.unique(yr) if np.any(yf == c)]
    out = {}
    for c in classes:  # a loop over classes, not samples
        a, b = fr[yr == c], ff[yf == c]
        key = c.item() if isinstance(c, np.generic) else c
        if len(a) > k and len(b) >= 1:
            out[key] = density_coverage(a, b, k=k)
        else:
            out[key] = {"density": float("nan"), "coverage": float("nan")}
    return out
