"""Detection items through the albumentations bridge and AugmentedDataset."""

import albumentations as A
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from ganaug.data import AugmentedDataset, apply_transform, detection_collate, detection_compose
from ganaug.detection import ObjectPasteAugmenter, convert_boxes, make_digit_scenes
from ganaug.datasets import load_mnist


@pytest.fixture(scope="module")
def scenes():
    X, y = load_mnist()
    keep = np.flatnonzero(np.isin(y, [2, 5]))[:300]
    images, targets, _ = make_digit_scenes(X[keep], y[keep], 30, class_weights={2: 0.2, 5: 1.0}, random_state=0)
    return images, targets


def _object_image(h=48, w=64):
    """Black image with one white block; its box in pascal_voc."""
    img = np.zeros((h, w), np.uint8)
    img[10:20, 5:25] = 255
    return img, np.array([[5, 10, 25, 20]], np.float32)


def _ink_box(img):
    ys, xs = np.nonzero(img > 127)
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float32)


TRANSFORMS = [
    A.HorizontalFlip(p=1.0),
    A.VerticalFlip(p=1.0),
    A.Affine(translate_px={"x": 7, "y": -3}, p=1.0),
    A.Affine(scale=1.3, p=1.0),
    A.RandomCrop(40, 50, p=1.0),
    A.Resize(96, 96),
    A.Transpose(p=1.0),
]


@pytest.mark.parametrize("fmt", ["pascal_voc", "coco", "yolo"])
@pytest.mark.parametrize("t", TRANSFORMS, ids=lambda t: type(t).__name__)
def test_boxes_follow_the_object_through_every_transform(fmt, t):
    img, box = _object_image()
    boxes = convert_boxes(box, "pascal_voc", fmt, img.shape)
    compose = detection_compose([t], format=fmt, seed=0)
    for layout in ("HW", "CHW"):
        x = img[None] if layout == "CHW" else img
        out, target = apply_transform(compose, x, {"boxes": boxes, "labels": np.array([4])})
        plane = out[0] if layout == "CHW" else out
        assert out.ndim == x.ndim
        voc = convert_boxes(target["boxes"], fmt, "pascal_voc", plane.shape)
        h, w = plane.shape
        assert (voc[:, :2] >= -1e-3).all() and (voc[:, 2] <= w + 1e-3).all() and (voc[:, 3] <= h + 1e-3).all()
        if (plane > 127).any():
            np.testing.assert_allclose(voc[0], _ink_box(plane), atol=1.5)
            assert target["labels"].tolist() == [4]


def test_dropped_boxes_take_their_labels_and_extra_fields():
    img = np.zeros((40, 40), np.uint8)
    target = {"boxes": np.array([[0, 0, 10, 10], [30, 30, 40, 40]], np.float32), "labels": np.array([1, 2]),
              "pasted": np.array([False, True])}
    compose = detection_compose([A.Crop(0, 0, 20, 20)], min_visibility=0.3)
    _, out = apply_transform(compose, img, target)
    assert out["labels"].tolist() == [1] and out["pasted"].tolist() == [False] and out["boxes"].shape == (1, 4)


def test_zero_boxes_and_tensors():
    img = torch.zeros(1, 16, 16, dtype=torch.uint8)
    t = {"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.long)}
    out, target = apply_transform(detection_compose([A.HorizontalFlip(p=1.0)]), img, t)
    assert isinstance(out, torch.Tensor) and out.shape == (1, 16, 16)
    assert tuple(target["boxes"].shape) == (0, 4) and isinstance(target["labels"], torch.Tensor)


def test_clear_errors():
    img, box = _object_image()
    with pytest.raises(ValueError, match="no bbox_params"):
        apply_transform(A.Compose([A.HorizontalFlip()]), img, {"boxes": box, "labels": [1]})
    compose = detection_compose([A.HorizontalFlip()])
    with pytest.raises(ValueError, match="outside the 48x64 image"):
        apply_transform(compose, img, {"boxes": [[50, 10, 70, 20]], "labels": [1]})
    with pytest.raises(ValueError, match="zero or negative width"):
        apply_transform(compose, img, {"boxes": [[30, 10, 20, 20]], "labels": [1]})
    with pytest.raises(ValueError, match="1 boxes but 2 labels"):
        apply_transform(compose, img, {"boxes": box, "labels": [1, 2]})
    with pytest.raises(ValueError, match="format must be one of"):
        detection_compose([], format="xyxy")


def test_collate_variable_box_counts(scenes):
    images, targets = scenes
    batch = [(images[i], targets[i]) for i in range(4)] + [(images[4], {"boxes": np.zeros((0, 4)), "labels": []})]
    x, t = detection_collate(batch)
    assert tuple(x.shape) == (5, 64, 64) and x.dtype == torch.uint8
    assert [len(d["labels"]) for d in t] == [len(d["labels"]) for d in targets[:4]] + [0]
    assert all(d["boxes"].dtype == torch.float32 and d["labels"].dtype == torch.int64 for d in t)


def test_augmented_dataset_with_object_pasting(scenes):
    images, targets = scenes
    aug = ObjectPasteAugmenter(source="real", random_state=0)
    transform = detection_compose([A.Affine(scale=(0.9, 1.1), translate_percent=(-0.05, 0.05), p=1.0)], seed=0)
    ds = AugmentedDataset((images, targets), aug, transform=transform, random_state=0)
    assert ds.detection and ds.n_real == 30 and ds.n_synthetic > 0
    assert ds.synthetic_counts_ == aug.sampling_strategy_
    assert not ds.is_synthetic(29) and ds.is_synthetic(30)
    pasted = np.concatenate([t["labels"][t["pasted"]] for t in ds.targets[30:]])
    assert len(pasted) == sum(aug.sampling_strategy_.values())
    for i in (0, 29, 30, len(ds) - 1):
        image, target = ds[i]
        assert image.shape == (64, 64)
        b = target["boxes"]
        assert len(b) == len(target["labels"]) and ((b >= 0) & (b <= 64)).all()
    loader = DataLoader(ds, batch_size=8, shuffle=True, collate_fn=detection_collate)
    x, t = next(iter(loader))
    assert tuple(x.shape) == (8, 64, 64) and len(t) == 8
    before = [t["boxes"].copy() for t in ds.targets[30:]]
    ds.set_epoch(1)  # a fresh draw of pasted images
    after = ds.targets[30:]
    assert len(before) != len(after) or any(not np.array_equal(a, b["boxes"]) for a, b in zip(before, after))


def test_augmented_dataset_real_only_and_errors(scenes):
    images, targets = scenes
    ds = AugmentedDataset((images, targets))
    assert len(ds) == 30 and ds.n_synthetic == 0 and set(ds.classes.tolist()) == {2, 5}
    image, target = ds[3]
    np.testing.assert_array_equal(image, images[3])
    with pytest.raises(ValueError, match="sampling_strategy sets how many"):
        AugmentedDataset((images, targets), ObjectPasteAugmenter(source="real"), synthetic_ratio=1.0)
    with pytest.raises(TypeError, match="must paste objects"):
        AugmentedDataset((images, targets), augmenter=object())
    bad = [dict(t) for t in targets]
    bad[7] = {"boxes": np.array([[0, 0, 70, 10]]), "labels": np.array([2])}
    with pytest.raises(ValueError, match=r"targets\[7\].*outside"):
        AugmentedDataset((images, bad))


def test_datamodule_refuses_detection_items_clearly(scenes):
    from ganaug.data import AugmentedDataModule

    with pytest.raises(ValueError, match="detection_collate"):
        AugmentedDataModule(scenes)
