"""Privacy: memorisation metrics for synthetic data, a copy filter, and differentially private training.

* :func:`privacy_report` - DCR and its ratio to a holdout, NNDR, exact copies,
  membership-inference AUC (distance and DOMIAS-style density-ratio attacks),
  for tables, images and series windows;
* :func:`privacy_metrics` - the same as columns of :func:`ganaug.evaluate.utility_report`;
* :func:`filter_copies` / :class:`CopyFilter` - remove near-copies of training items;
* :mod:`ganaug.privacy.dp` - DP-SGD for the discriminator (``TabularAugmenter(dp={...})``),
  needs the optional extra ``pip install ganaug[privacy]`` (Opacus); nothing here imports it
  until differential privacy is asked for.
"""

from ganaug.privacy.encoding import PrivacyEncoder
from ganaug.privacy.filter import CopyFilter, filter_copies
from ganaug.privacy.metrics import (
    distance_to_closest_record,
    membership_inference_auc,
    privacy_metrics,
    privacy_report,
)
from ganaug.privacy.neighbors import nearest_distances

__all__ = [
    "CopyFilter",
    "PrivacyEncoder",
    "distance_to_closest_record",
    "filter_copies",
    "membership_inference_auc",
    "nearest_distances",
    "privacy_metrics",
    "privacy_report",
]
