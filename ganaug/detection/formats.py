"""Detection data in and out: YOLO folders and COCO JSON.

YOLO (Ultralytics layout): ``DIR/images/<name>.<ext>`` and
``DIR/labels/<name>.txt``, one line ``class x_center y_center width height``
per box, normalised to 0..1; an image without a label file (or with an empty
one) has no boxes. COCO: one JSON file with ``images``, ``annotations``
(``bbox`` = ``[x, y, width, height]`` in pixels, ``category_id``) and
``categories``. Targets are returned with pascal_voc pixel boxes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ganaug.detection.boxes import check_target, convert_boxes

__all__ = ["read_coco", "read_yolo", "write_coco", "write_yolo"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def _read_image(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        if im.mode not in ("L", "RGB", "RGBA"):
            im = im.convert("RGB")
        return np.asarray(im)


def _write_image(path: Path, image: np.ndarray) -> None:
    from PIL import Image

    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.dtype != np.uint8:
        raise ValueError(f"only uint8 images can be written, got {arr.dtype} for {path.name}")
    Image.fromarray(arr).save(path)


def read_yolo(directory) -> tuple[list[np.ndarray], list[dict], list[str]]:
    """Read a YOLO folder (``images/`` and ``labels/``).

    Returns
    -------
    images : list of (H, W[, C]) uint8 arrays
    targets : list of dict
        Pascal_voc boxes (pixels) and integer labels.
    names : list of str
        Image file names, sorted.
    """
    root = Path(directory)
    img_dir, lab_dir = root / "images", root / "labels"
    if not img_dir.is_dir():
        raise FileNotFoundError(f"{root} has no images/ folder (a YOLO data set is images/ + labels/)")
    files = sorted(p for p in img_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"{img_dir} holds no images ({', '.join(IMAGE_SUFFIXES)})")
    images, targets = [], []
    for f in files:  # one file per image
        im = _read_image(f)
        lab = lab_dir / (f.stem + ".txt")
        rows = np.zeros((0, 5))
        if lab.exists() and lab.stat().st_size > 0:
            try:
                rows = np.loadtxt(lab, ndmin=2)
            except ValueError as exc:
                raise ValueError(f"{lab}: not a YOLO label file ({exc})") from None
            if rows.shape[1] != 5:
                raise ValueError(f"{lab}: each line must be 'class x_center y_center width height', "
                                 f"got {rows.shape[1]} columns")
        t = check_target({"boxes": rows[:, 1:], "labels": rows[:, 0]}, im.shape[:2], "yolo", name=str(lab))
        t["boxes"] = convert_boxes(t["boxes"], "yolo", "pascal_voc", im.shape[:2]).astype(np.float32)
        images.append(im)
        targets.append(t)
    return images, targets, [f.name for f in files]


def write_yolo(directory, images, targets, names=None, class_names=None) -> Path:
    """Write images and pascal_voc targets as a YOLO folder (``images/``, ``labels/``, ``data.yaml``).

    ``names``: file names (default ``000000.png`` ...); ``class_names``: list
    for ``data.yaml`` (default ``"0"``, ``"1"``, ...).
    """
    root = Path(directory)
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "labels").mkdir(parents=True, exist_ok=True)
    if names is None:
        names = [f"{i:06d}.png" for i in range(len(images))]
    if len(names) != len(images) or len(targets) != len(images):
        raise ValueError(f"images ({len(images)}), targets ({len(targets)}) and names ({len(names)}) must match")
    max_label = -1
    for im, t, name in zip(images, targets, names):
        im = np.asarray(im)
        t = check_target(t, im.shape[:2], "pascal_voc", name=name)
        _write_image(root / "images" / name, im)
        yolo = convert_boxes(t["boxes"], "pascal_voc", "yolo", im.shape[:2])
        lines = [f"{int(c)} {b[0]:.6f} {b[1]:.6f} {b[2]:.6f} {b[3]:.6f}" for c, b in zip(t["labels"], yolo)]
        (root / "labels" / (Path(name).stem + ".txt")).write_text("\n".join(lines) + ("\n" if lines else ""))
        if len(t["labels"]):
            max_label = max(max_label, int(t["labels"].max()))
    if class_names is None:
        class_names = [str(i) for i in range(max_label + 1)]
    yaml = [f"path: {os.path.abspath(root)}", "train: images", "val: images", f"nc: {len(class_names)}",
            "names: [" + ", ".join(json.dumps(str(n)) for n in class_names) + "]"]
    (root / "data.yaml").write_text("\n".join(yaml) + "\n")
    return root


def read_coco(annotation_file, image_dir=None) -> tuple[list[np.ndarray], list[dict], list[str]]:
    """Read a COCO JSON file; images from ``image_dir`` (default: the JSON's folder).

    Category ids are kept as the labels. Crowd annotations are refused
    (``iscrowd=1`` boxes are not objects to paste or count).
    """
    path = Path(annotation_file)
    data = json.loads(path.read_text())
    for key in ("images", "annotations"):
        if key not in data:
            raise ValueError(f"{path} has no {key!r} list; not a COCO detection file")
    base = Path(image_dir) if image_dir is not None else path.parent
    anns: dict[int, list] = {}
    for a in data["annotations"]:  # group by image
        if a.get("iscrowd", 0):
            raise ValueError(f"{path}: annotation {a.get('id')} is a crowd region (iscrowd=1); not supported")
        anns.setdefault(a["image_id"], []).append(a)
    images, targets, names = [], [], []
    for info in data["images"]:
        im = _read_image(base / info["file_name"])
        rows = anns.get(info["id"], [])
        boxes = np.array([a["bbox"] for a in rows], np.float64).reshape(-1, 4)
        labels = np.array([a["category_id"] for a in rows], np.int64)
        t = check_target({"boxes": boxes, "labels": labels}, im.shape[:2], "coco", name=f"{path.name}:{info['file_name']}")
        t["boxes"] = convert_boxes(t["boxes"], "coco", "pascal_voc", im.shape[:2]).astype(np.float32)
        images.append(im)
        targets.append(t)
        names.append(info["file_name"])
    return images, targets, names


def write_coco(annotation_file, images, targets, names=None, class_names=None) -> Path:
    """Write images next to a COCO JSON file (``images`` in its folder); boxes given as pascal_voc."""
    path = Path(annotation_file)
    path.parent.mkdir(parents=True, exist_ok=True)
    if names is None:
        names = [f"{i:06d}.png" for i in range(len(images))]
    out_images, out_anns, labels_seen = [], [], set()
    for i, (im, t, name) in enumerate(zip(images, targets, names)):
        im = np.asarray(im)
        t = check_target(t, im.shape[:2], "pascal_voc", name=name)
        _write_image(path.parent / name, im)
        out_images.append({"id": i + 1, "file_name": name, "height": int(im.shape[0]), "width": int(im.shape[1])})
        coco = convert_boxes(t["boxes"], "pascal_voc", "coco", im.shape[:2])
        for b, c in zip(coco, t["labels"]):
            out_anns.append({"id": len(out_anns) + 1, "image_id": i + 1, "category_id": int(c),
                             "bbox": [round(float(v), 4) for v in b], "area": round(float(b[2] * b[3]), 4),
                             "iscrowd": 0})
            labels_seen.add(int(c))
    cats = sorted(labels_seen)
    categories = [{"id": c, "name": (class_names[c] if class_names is not None else str(c))} for c in cats]
    path.write_text(json.dumps({"images": out_images, "annotations": out_anns, "categories": categories}))
    return path
