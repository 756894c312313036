import numpy as np

from ganaug.cli import main
from ganaug.detection import read_coco, read_yolo, write_coco, write_yolo


def test_augment_boxes_yolo_copy_paste(tmp_path, scenes, capsys):
    images, targets = scenes
    write_yolo(tmp_path / "in", images[:40], targets[:40])
    code = main(["augment-boxes", str(tmp_path / "in"), "--format", "yolo", "--source", "real",
                 "-o", str(tmp_path / "out")])
    assert code == 0, capsys.readouterr().err
    out_images, out_targets, names = read_yolo(tmp_path / "out")
    assert names[:40] == [f"{i:06d}.png" for i in range(40)] and names[40].startswith("ganaug_")
    for i in range(40):  # originals unchanged
        np.testing.assert_array_equal(out_images[i], images[i])
    before = np.bincount(np.concatenate([t["labels"] for t in targets[:40]]), minlength=10)
    after = np.bincount(np.concatenate([t["labels"] for t in out_targets]), minlength=10)
    assert after[8] - before[8] >= before[3] - before[8]  # the rare class gained at least the gap in boxes
    assert (tmp_path / "out" / "data.yaml").exists()


def test_augment_boxes_coco_and_bad_input(tmp_path, scenes, capsys):
    images, targets = scenes
    path = write_coco(tmp_path / "coco" / "ann.json", images[:30], targets[:30])
    code = main(["augment-boxes", str(path), "--format", "coco", "--source", "real", "--strategy", '{"8": 20}',
                 "-o", str(tmp_path / "out" / "ann.json")])
    assert code == 0, capsys.readouterr().err
    _, out_targets, _ = read_coco(tmp_path / "out" / "ann.json")
    assert len(out_targets) > 30
    code = main(["augment-boxes", str(tmp_path / "nowhere"), "-o", str(tmp_path / "x")])
    assert code == 2 and "images/ folder" in capsys.readouterr().err
