import numpy as np
import pytest

from ganaug.detection import CenterNetDetector, detection_report, make_digit_scenes


def test_predict_format_and_zero_box_images(scenes):
    images, targets = scenes
    targets = [dict(t) for t in targets]
    targets[0] = {"boxes": np.zeros((0, 4), np.float32), "labels": np.zeros(0, np.int64)}
    det = CenterNetDetector(10, steps=3, batch_size=8, width=8, random_state=0).fit(images, targets)
    pred = det.predict(images[:3])
    assert len(pred) == 3
    for p in pred:
        assert p["boxes"].shape == (len(p["scores"]), 4) and p["labels"].dtype == np.int64
        assert (np.diff(p["scores"]) <= 0).all()
        assert (p["boxes"] >= 0).all() and (p["boxes"] <= 64).all()


def test_odd_image_sizes_are_padded(scenes):
    images, targets = scenes
    det = CenterNetDetector(10, steps=2, batch_size=4, width=8, random_state=0).fit(images[:, :62, :61], [
        {"boxes": np.clip(t["boxes"], 0, [61, 62, 61, 62]), "labels": t["labels"]} for t in targets])
    assert len(det.predict(images[:2, :62, :61])) == 2


def test_bad_input(scenes):
    images, targets = scenes
    with pytest.raises(ValueError, match="targets has 59"):
        CenterNetDetector(10, steps=1).fit(images, targets[:59])
    with pytest.raises(ValueError, match="box labels must be in 0..4"):
        CenterNetDetector(5, steps=1, width=8).fit(images, targets)
    with pytest.raises(ValueError, match="steps must be a positive int"):
        CenterNetDetector(10, steps=0).fit(images, targets)
    with pytest.raises(ValueError, match="not fitted"):
        CenterNetDetector(10).predict(images)


@pytest.mark.slow
def test_detector_learns_digits_on_held_out_scenes(mnist):
    X, y = mnist
    keep = np.isin(y, [1, 4, 7])
    Xk, yk = X[keep], y[keep]
    images, targets, _ = make_digit_scenes(Xk[:700], yk[:700], 300, random_state=0)
    test_images, test_targets, _ = make_digit_scenes(Xk[700:], yk[700:], 80, random_state=1)  # unseen digits
    det = CenterNetDetector(10, steps=150, batch_size=32, width=16, random_state=0).fit(images, targets)
    r = detection_report(det.predict(test_images), test_targets, 10)
    assert det.history_[-1] < det.history_[0] / 3
    assert r["mAP50"] > 0.5, r
