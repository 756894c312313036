"""Object detection: boxes, box-aware data, object pasting (copy-paste or GAN-made), a small detector, AP."""

from ganaug.detection.boxes import BOX_FORMATS, box_ioa, box_iou, check_target, convert_boxes, empty_target
from ganaug.detection.detector import CenterNetDetector
from ganaug.detection.formats import read_coco, read_yolo, write_coco, write_yolo
from ganaug.detection.metrics import average_precision, detection_report
from ganaug.detection.paste import ObjectPasteAugmenter, check_detection_data
from ganaug.detection.scenes import make_digit_scenes
from ganaug.detection.translate import translate_scenes

__all__ = [
    "BOX_FORMATS",
    "CenterNetDetector",
    "ObjectPasteAugmenter",
    "average_precision",
    "box_ioa",
    "box_iou",
    "check_detection_data",
    "check_target",
    "convert_boxes",
    "detection_report",
    "empty_target",
    "make_digit_scenes",
    "read_coco",
    "read_yolo",
    "translate_scenes",
    "write_coco",
    "write_yolo",
]
