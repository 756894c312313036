import numpy as np
import pytest

from ganaug.detection import average_precision, detection_report


def _gt():
    return [{"boxes": np.array([[0, 0, 10, 10], [20, 20, 30, 30]], float), "labels": np.array([0, 1])},
            {"boxes": np.array([[5, 5, 15, 15]], float), "labels": np.array([0])}]


def test_perfect_predictions_score_one():
    gt = _gt()
    pred = [dict(t, scores=np.ones(len(t["labels"]))) for t in gt]
    r = detection_report(pred, gt, 2, rare_classes=[1])
    assert r["mAP50"] == pytest.approx(1.0) and r["mAP50_95"] == pytest.approx(1.0) and r["rare_mAP50"] == 1.0


def test_false_positive_ranked_first_halves_precision():
    gt = _gt()
    pred = [{"boxes": np.array([[40, 40, 50, 50], [0, 0, 10, 10]], float), "scores": np.array([0.9, 0.8]),
             "labels": np.array([0, 0])},
            {"boxes": np.zeros((0, 4)), "scores": np.zeros(0), "labels": np.zeros(0, int)}]
    ap = average_precision(pred, gt, 2, [0.5])
    # class 0: 2 boxes; one hit at rank 2 -> precision 0.5 up to recall 0.5, 0 beyond
    assert ap[0, 0] == pytest.approx(0.5 * 51 / 101)
    assert ap[0, 1] == 0.0  # class 1 never predicted


def test_duplicate_detections_count_once_and_iou_thresholds_bite():
    gt = [{"boxes": np.array([[0, 0, 10, 10]], float), "labels": np.array([0])}]
    pred = [{"boxes": np.array([[0, 0, 10, 8], [0, 0, 10, 8]], float), "scores": np.array([0.9, 0.8]),
             "labels": np.array([0, 0])}]
    ap = average_precision(pred, gt, 1, [0.5, 0.85])
    assert ap[0, 0] == pytest.approx(1.0)   # IoU 0.8: a hit, the duplicate is a false positive after it
    assert ap[1, 0] == 0.0                  # not a hit at IoU 0.85


def test_class_without_boxes_is_nan_and_skipped():
    gt = [{"boxes": np.array([[0, 0, 10, 10]], float), "labels": np.array([0])}]
    pred = [{"boxes": np.array([[0, 0, 10, 10]], float), "scores": np.array([0.9]), "labels": np.array([0])}]
    ap = average_precision(pred, gt, 3, [0.5])
    assert np.isnan(ap[0, 1:]).all() and detection_report(pred, gt, 3)["mAP50"] == 1.0


def test_length_mismatch():
    with pytest.raises(ValueError, match="predictions has 1 images but targets has 2"):
        average_precision([{}], _gt(), 2)
