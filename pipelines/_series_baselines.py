"""Window baselines of the series benchmark: IsolationForest and a nearest-window distance.

Both see exactly the windows the series detector (``GANAnomalyDetector(window=w)``
on a 1-D series) sees: every window of length ``w`` at stride 1, each window a
vector of the series' values *and* its first differences (the detector's
``differences=True`` channels). Each channel is z-scored with the mean and
standard deviation of the series the baseline is fitted on (the detector maps
the central 99 % of the fitting series linearly instead; both are a linear map
per channel). A window's score becomes a per-step score as the detector's
``_fold`` does: a step's score is the mean over every window that covers it.

- :func:`iforest_scores`: ``IsolationForest(random_state=seed)`` fitted on all
  windows of the fitting series (no labels); a window's score is
  ``-score_samples`` (higher = more abnormal).
- :func:`nearest_window_scores`: a window's mean Euclidean distance to its
  ``k`` nearest windows of the fitting series (a random reference subsample of
  at most ``max_reference`` windows). When the scored series *is* the fitting
  series (``fit=None``), reference windows that overlap the scored one by more
  than half are excluded: otherwise the nearest neighbour is always the window
  shifted by one step, and every score is ~0.

Everything is vectorised (``sliding_window_view``, blocked distance matrices);
the only Python loop is over blocks of scored windows.
"""

from __future__ import annotations

import numpy as np

__all__ = ["window_matrix", "fold", "iforest_scores", "nearest_window_scores"]


def _channels(x: np.ndarray) -> np.ndarray:
    """``(T,)`` or ``(T, C)`` -> ``(T, 2C)``: values and first differences (the detector's channels)."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    return np.concatenate([x, np.diff(x, axis=0, prepend=x[:1])], axis=1)


def window_matrix(x: np.ndarray, window: int, fit: np.ndarray | None = None) -> np.ndarray:
    """Every stride-1 window of ``x`` as one row, ``(T - window + 1, window * 2C)``.

    Channels (values, first differences) z-scored with the statistics of ``fit``
    (default: ``x`` itself); a constant channel is only centred.
    """
    cx = _channels(x)
    cf = cx if fit is None else _channels(fit)
    mu, sd = cf.mean(axis=0), cf.std(axis=0)
    z = (cx - mu) / np.where(sd > 1e-12, sd, 1.0)
    if len(z) < window:
        raise ValueError(f"the series has {len(z)} steps, fewer than window={window}")
    # (n, C, window) -> (n, C * window)
    w = np.lib.stride_tricks.sliding_window_view(z, window, axis=0)
    return np.ascontiguousarray(w.reshape(w.shape[0], -1))


def fold(window_scores: np.ndarray, window: int) -> np.ndarray:
    """Per-window scores ``(n,)`` -> per-step scores ``(n + window - 1,)``: mean over the covering windows."""
    v = np.asarray(window_scores, dtype=np.float64)
    ones = np.ones(window)
    return np.convolve(v, ones) / np.convolve(np.ones(len(v)), ones)


def iforest_scores(x: np.ndarray, window: int, seed: int = 0, fit: np.ndarray | None = None) -> np.ndarray:
    """Per-step IsolationForest score of ``x`` (length ``len(x)``), fitted on the windows of ``fit`` (default ``x``)."""
    from sklearn.ensemble import IsolationForest

    W = window_matrix(x, window, fit)
    Wf = W if fit is None else window_matrix(fit, window, fit)
    forest = IsolationForest(random_state=seed).fit(Wf)
    return fold(-forest.score_samples(W), window)


def _window_knn(W: np.ndarray, R: np.ndarray, k: int, exclude: np.ndarray | None, window: int,
                block: int = 2048) -> np.ndarray:
    """Mean distance of each row of ``W`` to its ``k`` nearest rows of ``R``.

    ``exclude``: start index of each reference window in the scored series (self-join);
    references with ``|start_ref - start_row| < window / 2`` (overlap > half) are left out.
    """
    r2 = np.einsum("ij,ij->i", R, R)
    out = np.empty(len(W))
    for lo in range(0, len(W), block):  # blocks of rows, to bound memory (block x len(R) floats)
        Wb = W[lo:lo + block]
        d2 = np.einsum("ij,ij->i", Wb, Wb)[:, None] + r2[None, :] - 2.0 * Wb @ R.T
        d = np.sqrt(np.maximum(d2, 0.0))
        if exclude is not None:
            rows = np.arange(lo, lo + len(Wb))[:, None]
            d[np.abs(exclude[None, :] - rows) < window / 2.0] = np.inf
        kk = min(k, d.shape[1])
        near = np.partition(d, kk - 1, axis=1)[:, :kk]
        finite = np.isfinite(near)
        # a row with fewer than k admissible references (tiny series) averages those it has
        out[lo:lo + block] = np.where(finite, near, 0.0).sum(axis=1) / np.maximum(finite.sum(axis=1), 1)
    return out


def nearest_window_scores(x: np.ndarray, window: int, seed: int = 0, fit: np.ndarray | None = None,
                          k: int = 5, max_reference: int = 4096) -> np.ndarray:
    """Per-step nearest-window distance of ``x`` (length ``len(x)``).

    The reference is the windows of ``fit`` (default: ``x`` itself, then
    overlapping windows are excluded), a random subsample of at most
    ``max_reference`` of them (``seed``).
    """
    W = window_matrix(x, window, fit)
    Wf = W if fit is None else window_matrix(fit, window, fit)
    rng = np.random.default_rng(seed)
    ref = np.arange(len(Wf))
    if len(ref) > max_reference:
        ref = np.sort(rng.choice(len(Wf), size=max_reference, replace=False))
    return fold(_window_knn(W, Wf[ref], k, ref if fit is None else None, window), window)
