"""The privacy columns every benchmark that makes synthetic data prints (issue 13).

Keys of :func:`ganaug.privacy.privacy_report` -> column headers (the tabular
benchmark also uses the headers as its utility report's metric names). Imported by the
pipelines as scripts (``pipelines/`` is on ``sys.path`` when one runs).
"""

from __future__ import annotations

PRIVACY_METRICS = {
    "dcr_ratio": "DCR ratio",
    "dcr_q05_ratio": "DCR q05 ratio",
    "exact_copies": "exact copies",
    "mia_auc": "MIA AUC",
}
