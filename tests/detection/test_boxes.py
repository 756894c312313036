import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ganaug.detection import BOX_FORMATS, box_ioa, box_iou, check_target, convert_boxes


def _random_boxes(rng, k, h, w):
    x0 = rng.uniform(0, w - 2, k)
    y0 = rng.uniform(0, h - 2, k)
    return np.stack([x0, y0, rng.uniform(x0 + 1, w), rng.uniform(y0 + 1, h)], axis=1)


@pytest.mark.parametrize("fmt", BOX_FORMATS)
def test_every_format_round_trips(fmt):
    rng = np.random.default_rng(0)
    voc = _random_boxes(rng, 20, 48, 80)
    there = convert_boxes(voc, "pascal_voc", fmt, (48, 80))
    back = convert_boxes(there, fmt, "pascal_voc", (48, 80))
    np.testing.assert_allclose(back, voc, atol=1e-9)
    check_target({"boxes": there, "labels": np.arange(20)}, (48, 80), fmt)


def test_known_conversions():
    voc = [[10, 20, 30, 60]]
    assert convert_boxes(voc, "pascal_voc", "coco", (100, 200)).tolist() == [[10, 20, 20, 40]]
    assert convert_boxes(voc, "pascal_voc", "yolo", (100, 200)).tolist() == [[0.1, 0.4, 0.1, 0.4]]
    assert convert_boxes(voc, "pascal_voc", "albumentations", (100, 200)).tolist() == [[0.05, 0.2, 0.15, 0.6]]


def test_zero_boxes_are_valid():
    t = check_target({"boxes": [], "labels": []}, (10, 10))
    assert t["boxes"].shape == (0, 4) and t["labels"].shape == (0,)
    assert convert_boxes(np.zeros((0, 4)), "pascal_voc", "yolo", (5, 5)).shape == (0, 4)


@pytest.mark.parametrize("target, match", [
    ({"boxes": [[0, 0, 12, 5]], "labels": [1]}, "outside the 10x10 image"),
    ({"boxes": [[-3, 0, 4, 5]], "labels": [1]}, "outside"),
    ({"boxes": [[5, 5, 3, 8]], "labels": [1]}, "zero or negative width"),
    ({"boxes": [[5, 5, 5, 8]], "labels": [1]}, "zero or negative width"),
    ({"boxes": [[1, 1, 3, 3], [2, 2, 4, 4]], "labels": [1]}, "2 boxes but 1 labels"),
    ({"boxes": [[1, 1, 3]], "labels": [1]}, r"shape \(K, 4\)"),
    ({"boxes": [[1, 1, 3, np.nan]], "labels": [1]}, "not finite"),
    ({"boxes": [[1, 1, 3, 3]], "labels": [1.5]}, "integer class ids"),
    ({"boxes": [[1, 1, 3, 3]]}, "no 'labels' key"),
])
def test_bad_targets_name_the_problem(target, match):
    with pytest.raises(ValueError, match=match):
        check_target(target, (10, 10), name="targets[0]")


def test_not_a_dict():
    with pytest.raises(TypeError, match="must be a dict"):
        check_target([[0, 0, 1, 1]], (10, 10))


def test_bad_format_name():
    with pytest.raises(ValueError, match="format must be one of"):
        check_target({"boxes": [], "labels": []}, (10, 10), "xywh")


def test_yolo_outside_is_refused():
    with pytest.raises(ValueError, match="outside"):
        check_target({"boxes": [[0.95, 0.5, 0.2, 0.2]], "labels": [0]}, (10, 10), "yolo")


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000))
def test_iou_and_ioa_properties(seed):
    rng = np.random.default_rng(seed)
    a, b = _random_boxes(rng, 5, 30, 30), _random_boxes(rng, 4, 30, 30)
    iou, ioa = box_iou(a, b), box_ioa(a, b)
    assert iou.shape == ioa.shape == (5, 4)
    assert (iou >= 0).all() and (iou <= 1 + 1e-12).all() and (ioa <= 1 + 1e-12).all()
    assert (iou <= ioa + 1e-12).all()  # the union is at least the box's own area
    np.testing.assert_allclose(box_iou(a, a).diagonal(), 1.0)
    np.testing.assert_allclose(box_iou(a, b), box_iou(b, a).T)
