"""Anomaly detection with GANs, pyod-style: ``GANAnomalyDetector`` for tables, images and series."""

from ganaug.anomaly.base import BaseDetector
from ganaug.anomaly.detector import GANAnomalyDetector

__all__ = ["BaseDetector", "GANAnomalyDetector"]
