"""Privacy and memorisation metrics under ``ganaug.metrics``: the same objects as :mod:`ganaug.privacy.metrics`.

The metrics live in :mod:`ganaug.privacy.metrics` (next to the encoding, the
nearest-neighbour search, the copy filter and differentially private
training); this module re-exports them, so that
``from ganaug.metrics.privacy import privacy_report`` and
``from ganaug.privacy import privacy_report`` give the same function. No
code is copied here: see :mod:`ganaug.privacy.metrics` for the definitions
and ``docs/privacy.md`` for what the numbers mean.

* :func:`privacy_report` - DCR and its ratio to a holdout, NNDR, exact
  copies, membership-inference AUC;
* :func:`privacy_metrics` - the same as columns of :func:`ganaug.evaluate.utility_report`;
* :func:`distance_to_closest_record`, :func:`membership_inference_auc`,
  :func:`copy_mask`, :func:`nearest_distances`, :class:`PrivacyEncoder`.

Examples
--------
>>> import ganaug.privacy.metrics
>>> from ganaug.metrics.privacy import privacy_report
>>> privacy_report is ganaug.privacy.metrics.privacy_report
True
"""

from ganaug.privacy.encoding import PrivacyEncoder
from ganaug.privacy.metrics import (
    COPY_TOLERANCE,
    DEFAULT_METRICS,
    copy_mask,
    distance_to_closest_record,
    membership_inference_auc,
    privacy_metrics,
    privacy_report,
)
from ganaug.privacy.neighbors import nearest_distances

__all__ = [
    "COPY_TOLERANCE",
    "DEFAULT_METRICS",
    "PrivacyEncoder",
    "copy_mask",
    "distance_to_closest_record",
    "membership_inference_auc",
    "nearest_distances",
    "privacy_metrics",
    "privacy_report",
]
