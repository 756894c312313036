"""Paired two-level bootstrap of metric differences between arms.

Every arm is scored on the same test folds, so differences are paired. One
bootstrap replicate resamples the folds (with replacement) and, inside each
fold, the test rows (with replacement, stratified by class); both arms are
scored on exactly the same resampled rows. The percentile interval of the
mean difference then reflects both the test-set noise and the fold-to-fold
(training) noise. Replicates are represented as integer row weights so that
all of them are computed at once by :func:`weighted_metrics`.
"""

from __future__ import annotations

import numpy as np

from ganaug.evaluate._metrics import weighted_metrics

__all__ = ["BootstrapPlan", "paired_bootstrap"]

#: largest B x n weight block held in memory at once (float64 elements)
_BLOCK = 2_000_000


class BootstrapPlan:
    """Shared resampling weights for a set of test folds.

    Parameters
    ----------
    fold_labels : list of int arrays
        True class codes of each test fold (in the order rows were scored).
    n_boot : int
        Number of replicates.
    seed : int
        Seed of the replicates (same seed, same intervals).

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.evaluate._bootstrap import BootstrapPlan
    >>> plan = BootstrapPlan([np.array([0, 0, 1]), np.array([0, 1, 1])], n_boot=4, seed=0)
    >>> plan.row_weights[0].shape, plan.fold_counts.shape
    ((4, 3), (4, 2))
    >>> plan.row_weights[0][:, 2].tolist()  # the one positive row is always drawn once
    [1.0, 1.0, 1.0, 1.0]
    >>> plan.row_weights[0][:, :2].sum(axis=1).tolist()  # and always two negatives
    [2.0, 2.0, 2.0, 2.0]
    """

    def __init__(self, fold_labels: list[np.ndarray], n_boot: int, seed: int):
        rng = np.random.default_rng(seed)
        n_folds = len(fold_labels)
        self.n_boot = int(n_boot)
        # folds drawn with replacement (only meaningful with 2+ folds)
        if n_folds > 1:
            self.fold_counts = rng.multinomial(n_folds, np.full(n_folds, 1.0 / n_folds), size=n_boot).astype(float)
        else:
            self.fold_counts = np.ones((n_boot, 1))
        self.row_weights = []
        for labels in fold_labels:
            labels = np.asarray(labels)
            # counts are small integers: exact in float32, which halves memory and time
            W = np.zeros((n_boot, labels.size), dtype=np.float32)
            for c in np.unique(labels):
                rows = np.flatnonzero(labels == c)
                W[:, rows] = rng.multinomial(rows.size, np.full(rows.size, 1.0 / rows.size), size=n_boot)
            self.row_weights.append(W)

    def replicate_means(self, per_fold: np.ndarray) -> np.ndarray:
        """Bootstrap means over folds from a ``(B, n_folds)`` matrix of per-fold metric values."""
        return (self.fold_counts * per_fold).sum(axis=1) / self.fold_counts.sum(axis=1)

    def per_fold_metrics(self, fold_preds, pos: int, n_classes: int, names) -> dict[str, np.ndarray]:
        """``name -> (B, n_folds)`` metric values of one arm under the replicate weights.

        ``fold_preds`` is a list (one per fold) of ``(y, pred, score)``.
        """
        out = {name: np.empty((self.n_boot, len(fold_preds))) for name in names}
        for f, ((y, pred, score), W) in enumerate(zip(fold_preds, self.row_weights)):
            step = max(1, _BLOCK // max(1, W.shape[1]))
            for start in range(0, self.n_boot, step):
                block = weighted_metrics(y, pred, score, pos, n_classes, names, W[start : start + step])
                for name in names:
                    out[name][start : start + step, f] = block[name]
        return out


def paired_bootstrap(a: np.ndarray, b: np.ndarray, plan: BootstrapPlan, confidence: float = 0.95):
    """Percentile interval of ``mean(a) - mean(b)`` from per-fold replicate matrices.

    Parameters
    ----------
    a, b : arrays of shape (B, n_folds)
        Replicate metric values of two arms under the same weights.
    plan : BootstrapPlan
    confidence : float

    Returns
    -------
    (low, high) : tuple of float

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.evaluate._bootstrap import BootstrapPlan, paired_bootstrap
    >>> plan = BootstrapPlan([np.array([0, 1])] * 3, n_boot=200, seed=1)
    >>> a = np.full((200, 3), 0.6); b = np.full((200, 3), 0.5)
    >>> [round(v, 3) for v in paired_bootstrap(a, b, plan)]
    [0.1, 0.1]
    """
    diff = plan.replicate_means(a) - plan.replicate_means(b)
    diff = diff[np.isfinite(diff)]
    if diff.size == 0:
        return float("nan"), float("nan")
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(diff, [alpha, 1.0 - alpha])
    return float(low), float(high)
