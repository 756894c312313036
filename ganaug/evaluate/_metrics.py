"""Classification metrics under row weights, vectorised over many weight vectors at once.

One implementation serves both the point estimates (one weight vector of ones)
and the paired bootstrap (a ``(B, n)`` matrix of resampling counts), so the
numbers in a report and their confidence intervals can never disagree in
definition. With unit weights every function equals its scikit-learn
counterpart (``f1_score``, ``average_precision_score``, ``roc_auc_score``,
``balanced_accuracy_score``...), which the tests check.
"""

from __future__ import annotations

import numpy as np

__all__ = ["METRICS", "TIME_METRICS", "METRIC_LABELS", "resolve_metrics", "weighted_metrics"]

#: quality metrics a report can compute, in display order
METRICS: tuple[str, ...] = (
    "f1",
    "pr_auc",
    "roc_auc",
    "balanced_accuracy",
    "precision",
    "recall",
    "accuracy",
    "macro_f1",
)
#: bookkeeping columns recorded for every arm and fold (never bootstrapped)
TIME_METRICS: tuple[str, ...] = ("fit_time", "sample_time", "n_synthetic")

METRIC_LABELS: dict[str, str] = {
    "f1": "minority F1",
    "pr_auc": "PR-AUC",
    "roc_auc": "ROC-AUC",
    "balanced_accuracy": "balanced accuracy",
    "precision": "minority precision",
    "recall": "minority recall",
    "accuracy": "accuracy",
    "macro_f1": "macro F1",
    "fit_time": "fit time (s)",
    "sample_time": "sample time (s)",
    "n_synthetic": "synthetic rows",
}

_ALIASES = {
    "minority_f1": "f1",
    "f1_minority": "f1",
    "average_precision": "pr_auc",
    "ap": "pr_auc",
    "auprc": "pr_auc",
    "roc": "roc_auc",
    "auc": "roc_auc",
    "balanced_acc": "balanced_accuracy",
}


def resolve_metrics(metrics, n_classes: int) -> list[str]:
    """Validate a user's ``metrics`` argument and return canonical names in display order.

    Examples
    --------
    >>> from ganaug.evaluate._metrics import resolve_metrics
    >>> resolve_metrics(["average_precision", "f1"], n_classes=2)
    ['f1', 'pr_auc']
    """
    if metrics is None:
        return [m for m in METRICS if m != "macro_f1" or n_classes > 2]
    if isinstance(metrics, str):
        metrics = [metrics]
    chosen = set()
    for m in metrics:
        if not isinstance(m, str):
            raise TypeError(f"metric names must be strings, got {m!r}")
        key = _ALIASES.get(m.lower(), m.lower())
        if key not in METRICS:
            raise ValueError(f"unknown metric {m!r}; choose from {list(METRICS)}")
        chosen.add(key)
    if not chosen:
        raise ValueError("metrics is empty; pass None for all metrics")
    return [m for m in METRICS if m in chosen]


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den with 0 where den == 0 (scikit-learn's ``zero_division=0``)."""
    out = np.zeros(np.broadcast(num, den).shape, dtype=np.float64)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _ranking_curves(truth: np.ndarray, score: np.ndarray, W: np.ndarray):
    """Cumulative weighted true/false positives at each distinct score, highest first.

    Returns ``tp, fp`` of shape ``(B, n_thresholds)``. Positives and negatives
    are accumulated separately (one pass over each), then read at the last
    row of every run of equal scores.
    """
    order = np.argsort(-score, kind="mergesort")
    s = score[order]
    t = truth[order]
    last = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]
    n_pos_upto = np.cumsum(t)[last]  # positives at or above each threshold
    n_neg_upto = (last + 1) - n_pos_upto
    Wo = W[:, order]

    def gather(cols: np.ndarray, counts: np.ndarray) -> np.ndarray:
        cum = np.cumsum(Wo[:, cols], axis=1)
        cum = np.concatenate([np.zeros((W.shape[0], 1), dtype=cum.dtype), cum], axis=1)
        return cum[:, counts]

    return gather(np.flatnonzero(t), n_pos_upto), gather(np.flatnonzero(~t), n_neg_upto)


def _steps(cum: np.ndarray) -> np.ndarray:
    """Increments of a cumulative curve along axis 1 (the first step from 0)."""
    d = np.empty_like(cum)
    d[:, 0] = cum[:, 0]
    np.subtract(cum[:, 1:], cum[:, :-1], out=d[:, 1:])
    return d


def _average_precision(tp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    # AP = sum_k (R_k - R_{k-1}) P_k = (1 / n_pos) * sum_k dtp_k * tp_k / (tp_k + fp_k)
    precision = tp / np.maximum(tp + fp, np.finfo(tp.dtype).tiny)
    total = tp[:, -1].astype(np.float64)
    return _safe_div(np.einsum("ij,ij->i", _steps(tp), precision, dtype=np.float64), total)


def _roc_auc(tp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    # trapezoids from (0, 0): sum_k dfp_k * (tp_k + tp_{k-1}) / 2, over n_pos * n_neg
    heights = tp.copy()
    heights[:, 1:] += tp[:, :-1]
    n_pos = tp[:, -1].astype(np.float64)
    n_neg = fp[:, -1].astype(np.float64)
    area = np.einsum("ij,ij->i", _steps(fp), heights, dtype=np.float64) / 2.0
    auc = _safe_div(area, n_pos * n_neg)
    return np.where((n_pos > 0) & (n_neg > 0), auc, np.nan)  # undefined without both classes


def weighted_metrics(
    y: np.ndarray,
    pred: np.ndarray,
    score: np.ndarray,
    pos: int,
    n_classes: int,
    names,
    W: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Compute metrics for every row of a weight matrix.

    Parameters
    ----------
    y, pred : int arrays of shape (n,)
        True and predicted class codes ``0..n_classes-1``.
    score : array of shape (n,) or (n, n_classes)
        Score of the positive class (binary), or one column per class.
    pos : int
        Code of the positive (minority) class.
    n_classes : int
    names : iterable of str
        Metric names from :data:`METRICS`.
    W : array of shape (B, n), optional
        Row weights (bootstrap counts); ``None`` means one vector of ones.

    Returns
    -------
    dict of name -> array of shape (B,)

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.evaluate._metrics import weighted_metrics
    >>> y = np.array([0, 0, 1, 1]); s = np.array([0.1, 0.6, 0.4, 0.9])
    >>> m = weighted_metrics(y, (s > 0.5).astype(int), s, pos=1, n_classes=2, names=["f1", "roc_auc"])
    >>> round(float(m["f1"][0]), 3), round(float(m["roc_auc"][0]), 3)
    (0.5, 0.75)
    """
    y = np.asarray(y)
    pred = np.asarray(pred)
    score = np.asarray(score, dtype=np.float64)
    if W is None:
        W = np.ones((1, y.size))
    W = np.asarray(W)
    if W.dtype not in (np.float32, np.float64):
        W = W.astype(np.float64)
    out: dict[str, np.ndarray] = {}
    pos_score = score if score.ndim == 1 else score[:, pos]
    hit = y == pred

    cache: dict = {}

    def per_class(c: int):
        if c not in cache:
            t = y == c
            q = pred == c
            cache[c] = (W @ (t & q).astype(W.dtype), W @ (~t & q).astype(W.dtype), W @ (t & ~q).astype(W.dtype))
        return cache[c]

    def curves(c: int):
        key = ("curve", c)
        if key not in cache:
            cache[key] = _ranking_curves(y == c, pos_score if c == pos else score[:, c], W)
        return cache[key]

    for name in names:
        if name in ("f1", "precision", "recall"):
            tp, fp, fn = per_class(pos)
            if name == "f1":
                out[name] = _safe_div(2 * tp, 2 * tp + fp + fn)
            elif name == "precision":
                out[name] = _safe_div(tp, tp + fp)
            else:
                out[name] = _safe_div(tp, tp + fn)
        elif name == "accuracy":
            out[name] = _safe_div(W @ hit.astype(W.dtype), W.sum(axis=1))
        elif name == "balanced_accuracy":
            recalls = [_safe_div(per_class(c)[0], per_class(c)[0] + per_class(c)[2]) for c in range(n_classes)]
            out[name] = np.mean(recalls, axis=0)
        elif name == "macro_f1":
            f1s = []
            for c in range(n_classes):
                tp, fp, fn = per_class(c)
                f1s.append(_safe_div(2 * tp, 2 * tp + fp + fn))
            out[name] = np.mean(f1s, axis=0)
        elif name == "pr_auc":
            out[name] = _average_precision(*curves(pos))
        elif name == "roc_auc":
            if score.ndim == 1 or n_classes == 2:
                out[name] = _roc_auc(*curves(pos))
            else:  # one-vs-rest, macro average (scikit-learn's multi_class="ovr")
                out[name] = np.mean([_roc_auc(*curves(c)) for c in range(n_classes)], axis=0)
        else:
            raise ValueError(f"unknown metric {name!r}")
    return out
