import json

import numpy as np
import pytest

from ganaug.detection import read_coco, read_yolo, write_coco, write_yolo


def _with_empty(scenes):
    images, targets = scenes
    images = list(images[:6])
    targets = [dict(t) for t in targets[:6]]
    targets[2] = {"boxes": np.zeros((0, 4), np.float32), "labels": np.zeros(0, np.int64)}  # an image with no boxes
    return images, targets


def test_yolo_round_trip(tmp_path, scenes):
    images, targets = _with_empty(scenes)
    write_yolo(tmp_path / "ds", images, targets, class_names=[str(i) for i in range(10)])
    assert (tmp_path / "ds" / "data.yaml").read_text().count("nc: 10") == 1
    assert (tmp_path / "ds" / "labels" / "000002.txt").read_text() == ""
    back_images, back_targets, names = read_yolo(tmp_path / "ds")
    assert names == [f"{i:06d}.png" for i in range(6)]
    for im, t, bi, bt in zip(images, targets, back_images, back_targets):
        np.testing.assert_array_equal(bi, im)
        np.testing.assert_array_equal(bt["labels"], t["labels"])
        np.testing.assert_allclose(bt["boxes"], t["boxes"], atol=1e-3)  # 6 decimals of a fraction of 64 px


def test_coco_round_trip(tmp_path, scenes):
    images, targets = _with_empty(scenes)
    path = write_coco(tmp_path / "coco" / "annotations.json", images, targets)
    data = json.loads(path.read_text())
    assert len(data["images"]) == 6 and len(data["annotations"]) == sum(len(t["labels"]) for t in targets)
    back_images, back_targets, _ = read_coco(path)
    for im, t, bi, bt in zip(images, targets, back_images, back_targets):
        np.testing.assert_array_equal(bi, im)
        np.testing.assert_array_equal(bt["labels"], t["labels"])
        np.testing.assert_allclose(bt["boxes"], t["boxes"], atol=1e-3)


def test_yolo_label_outside_image_is_refused(tmp_path, scenes):
    images, targets = _with_empty(scenes)
    write_yolo(tmp_path / "ds", images[:1], targets[:1])
    (tmp_path / "ds" / "labels" / "000000.txt").write_text("3 0.98 0.5 0.2 0.2\n")
    with pytest.raises(ValueError, match="outside"):
        read_yolo(tmp_path / "ds")


def test_yolo_bad_columns(tmp_path, scenes):
    images, targets = _with_empty(scenes)
    write_yolo(tmp_path / "ds", images[:1], targets[:1])
    (tmp_path / "ds" / "labels" / "000000.txt").write_text("3 0.5 0.5 0.2\n")
    with pytest.raises(ValueError, match="class x_center y_center width height"):
        read_yolo(tmp_path / "ds")


def test_missing_images_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="images/"):
        read_yolo(tmp_path)
