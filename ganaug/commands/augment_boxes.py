"""``ganaug augment-boxes DATA_DIR --format yolo -o OUT_DIR``: more boxes of the rare classes of a detection set.

Reads a YOLO folder (``images/`` + ``labels/``) or a COCO JSON file, pastes
new objects of the rare classes into copies of the training images
(GAN-made, or real crops with ``--source real``) and writes the originals
followed by the new images, in the same format, ready for a YOLO (or COCO)
trainer.
"""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "augment-boxes",
        help="balance a detection data set (YOLO or COCO) by pasting new objects of rare classes",
        description=(
            "Crop the objects of DATA_DIR from their boxes, train a conditional GAN on them (or reuse the real "
            "crops with --source real) and paste new objects of the rare classes into copies of the images "
            "until the box counts meet --strategy. Writes the original images first, then the new ones."
        ),
    )
    p.add_argument("data", help="YOLO folder (images/ + labels/) or, with --format coco, a COCO JSON file")
    p.add_argument("--format", choices=("yolo", "coco"), default="yolo", help="input and output format (default yolo)")
    p.add_argument("--images", default=None, help="COCO: folder of the images (default: the JSON's folder)")
    p.add_argument("--strategy", default="auto",
                   help="sampling strategy on box counts: auto, minority, 'not majority', all, a float ratio, "
                        "or a JSON dict such as '{\"3\": 500}' (default auto)")
    p.add_argument("--source", choices=("gan", "real"), default="gan",
                   help="gan: generated objects; real: copy-paste of real crops (default gan)")
    p.add_argument("--epochs", type=int, default=30, help="GAN training epochs (default 30)")
    p.add_argument("--blend", choices=("alpha", "poisson", "replace"), default="alpha", help="blending (default alpha)")
    p.add_argument("--max-overlap", type=float, default=0.1,
                   help="largest share of an existing box a pasted object may cover (default 0.1)")
    p.add_argument("--seed", type=int, default=0, help="random state (default 0)")
    p.add_argument("-o", "--out", required=True, help="output folder (YOLO) or JSON file (COCO)")
    p.set_defaults(run=run)
    return p


def run(args) -> int:
    from ganaug.commands.resample import parse_strategy
    from ganaug.detection import ObjectPasteAugmenter, read_coco, read_yolo, write_coco, write_yolo

    src = Path(args.data)
    if args.format == "yolo":
        images, targets, names = read_yolo(src)
    else:
        if not src.is_file():
            raise FileNotFoundError(f"no such COCO file: {src}")
        images, targets, names = read_coco(src, args.images)
    strategy = parse_strategy(args.strategy)
    if isinstance(strategy, dict):
        try:
            strategy = {int(k): int(v) for k, v in strategy.items()}
        except ValueError:
            raise ValueError("--strategy keys must be class ids (integers)") from None
    aug = ObjectPasteAugmenter(source=args.source, sampling_strategy=strategy, epochs=args.epochs, blend=args.blend,
                               max_overlap=args.max_overlap, random_state=args.seed)
    new_images, new_targets = aug.fit(images, targets).paste(images, targets)
    new_targets = [{"boxes": t["boxes"], "labels": t["labels"]} for t in new_targets]
    suffix = Path(names[0]).suffix if names else ".png"
    suffix = suffix if suffix.lower() in (".png", ".bmp", ".tif", ".tiff") else ".png"  # no lossy re-encoding
    new_names = [f"ganaug_{i:06d}{suffix}" for i in range(len(new_images))]
    all_images = list(images) + list(new_images)
    all_targets = list(targets) + new_targets
    all_names = list(names) + new_names
    if args.format == "yolo":
        write_yolo(args.out, all_images, all_targets, names=all_names)
    else:
        write_coco(args.out, all_images, all_targets, names=all_names)
    added = {int(k): int(v) for k, v in aug.sampling_strategy_.items()}
    print(f"{len(images)} images read, {len(new_images)} written with {sum(added.values()) - aug.n_failed_} pasted "
          f"objects ({added} asked, {aug.n_failed_} without room) -> {args.out}")
    return 0
