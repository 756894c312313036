"""Small real data sets bundled with ganaug, loaded like ``sklearn.datasets``.

All files live in ``ganaug/datasets/data`` (see the README there for sources
and licences); nothing is downloaded.
"""

from ganaug.datasets._loaders import (
    TABULAR_DATASETS,
    load_attrition,
    load_credit,
    load_default,
    load_gunpoint,
    load_hmda,
    load_internal_bleeding,
    load_mnist,
    load_stocks,
    load_tabular,
)

__all__ = [
    "TABULAR_DATASETS",
    "load_attrition",
    "load_credit",
    "load_default",
    "load_gunpoint",
    "load_hmda",
    "load_internal_bleeding",
    "load_mnist",
    "load_stocks",
    "load_tabular",
]
