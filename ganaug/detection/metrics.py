"""Average precision of a detector, COCO-style (101-point interpolation, greedy matching by score)."""

from __future__ import annotations

import numpy as np

from ganaug.detection.boxes import box_iou

__all__ = ["average_precision", "detection_report"]

COCO_IOUS = np.round(np.arange(0.5, 0.96, 0.05), 2)


def _match(pred_boxes, pred_scores, gt_boxes, thresholds):
    """True-positive flags (T, D) of one image and class; detections sorted by score first."""
    order = np.argsort(-pred_scores, kind="stable")
    iou = box_iou(pred_boxes[order], gt_boxes)  # (D, G)
    T, D, G = len(thresholds), len(order), len(gt_boxes)
    tp = np.zeros((T, D), bool)
    taken = np.zeros((T, G), bool)
    if G == 0:
        return tp, pred_scores[order]
    for d in range(D):  # greedy by score; vectorised over thresholds and ground truths
        cand = np.where((iou[d][None, :] >= thresholds[:, None]) & ~taken, iou[d][None, :], -1.0)
        best = cand.argmax(axis=1)
        hit = cand[np.arange(T), best] >= 0
        tp[hit, d] = True
        taken[np.flatnonzero(hit), best[hit]] = True
    return tp, pred_scores[order]


def average_precision(predictions, targets, n_classes: int, iou_thresholds=COCO_IOUS) -> np.ndarray:
    """AP per IoU threshold and class, shape (len(iou_thresholds), n_classes); NaN for a class with no boxes.

    Parameters
    ----------
    predictions : list of dict
        ``{"boxes": (D, 4) pascal_voc, "scores": (D,), "labels": (D,)}`` per image.
    targets : list of dict
        ``{"boxes": (K, 4) pascal_voc, "labels": (K,)}`` per image.
    n_classes : int
    iou_thresholds : array-like, default 0.50:0.05:0.95

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.detection import average_precision
    >>> gt = [{"boxes": np.array([[0, 0, 10, 10]]), "labels": np.array([1])}]
    >>> pred = [{"boxes": np.array([[0, 0, 10, 9], [20, 20, 30, 30]]), "scores": np.array([0.9, 0.8]),
    ...          "labels": np.array([1, 1])}]
    >>> average_precision(pred, gt, 2, [0.5, 0.95]).round(2).tolist()
    [[nan, 1.0], [nan, 0.0]]
    """
    if len(predictions) != len(targets):
        raise ValueError(f"predictions has {len(predictions)} images but targets has {len(targets)}")
    thr = np.asarray(iou_thresholds, dtype=np.float64).reshape(-1)
    T = len(thr)
    tps = [[] for _ in range(n_classes)]
    scores = [[] for _ in range(n_classes)]
    n_gt = np.zeros(n_classes, np.int64)
    for p, t in zip(predictions, targets):  # per image, then per class present
        pl, tl = np.asarray(p["labels"]).reshape(-1), np.asarray(t["labels"]).reshape(-1)
        pb, tb = np.asarray(p["boxes"], np.float64).reshape(-1, 4), np.asarray(t["boxes"], np.float64).reshape(-1, 4)
        ps = np.asarray(p["scores"], np.float64).reshape(-1)
        n_gt += np.bincount(tl, minlength=n_classes)[:n_classes]
        for c in np.union1d(np.unique(pl), np.unique(tl)).astype(int):
            if not 0 <= c < n_classes:
                continue
            dm = pl == c
            if not dm.any():
                continue
            tp, s = _match(pb[dm], ps[dm], tb[tl == c], thr)
            tps[c].append(tp)
            scores[c].append(s)
    ap = np.full((T, n_classes), np.nan)
    recall_points = np.linspace(0, 1, 101)
    for c in range(n_classes):
        if n_gt[c] == 0:
            continue
        if not scores[c]:
            ap[:, c] = 0.0
            continue
        s = np.concatenate(scores[c])
        tp = np.concatenate(tps[c], axis=1)[:, np.argsort(-s, kind="stable")]
        ctp = np.cumsum(tp, axis=1)
        cfp = np.cumsum(~tp, axis=1)
        recall = ctp / n_gt[c]
        precision = ctp / np.maximum(ctp + cfp, 1)
        precision = np.flip(np.maximum.accumulate(np.flip(precision, axis=1), axis=1), axis=1)  # envelope
        for k in range(T):  # 10 thresholds
            idx = np.searchsorted(recall[k], recall_points, side="left")
            valid = idx < recall.shape[1]
            ap[k, c] = np.where(valid, precision[k][np.minimum(idx, recall.shape[1] - 1)], 0.0).mean()
    return ap


def detection_report(predictions, targets, n_classes: int, rare_classes=()) -> dict:
    """Per-class AP@0.5, mAP@0.5, mAP@0.5:0.95 and the rare classes' mAP@0.5 (and @0.5:0.95).

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.detection import detection_report
    >>> gt = [{"boxes": np.array([[0, 0, 10, 10]]), "labels": np.array([0])}]
    >>> pred = [{"boxes": np.array([[0, 0, 10, 10]]), "scores": np.array([0.9]), "labels": np.array([0])}]
    >>> r = detection_report(pred, gt, 1, rare_classes=[0])
    >>> r["mAP50"], r["mAP50_95"], r["rare_mAP50"]
    (1.0, 1.0, 1.0)
    """
    ap = average_precision(predictions, targets, n_classes)
    ap50 = ap[0]
    rare = list(rare_classes)
    return {
        "AP50": {c: float(ap50[c]) for c in range(n_classes) if np.isfinite(ap50[c])},
        "mAP50": float(np.nanmean(ap50)),
        "mAP50_95": float(np.nanmean(ap)),
        "rare_mAP50": float(np.nanmean(ap50[rare])) if rare else float("nan"),
        "rare_mAP50_95": float(np.nanmean(ap[:, rare])) if rare else float("nan"),
    }
