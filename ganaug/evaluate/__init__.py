"""Does augmentation help? The utility report and its baselines.

:func:`utility_report` trains a downstream model in several ways on every
training fold (no resampling, a tuned threshold, class weights, random
oversampling, SMOTE-family, ganaug, CTGAN...) and scores each on the untouched
test fold, with paired confidence intervals and a computed verdict.

:func:`choose_synthetic_share` chooses how much of the added data is
synthetic (vs repeats of real items) on validation splits cut from the
training data only.
"""

from ganaug.evaluate.mixing import (
    DEFAULT_SHARES,
    ShareChoice,
    choose_synthetic_share,
    stratified_validation_split,
)
from ganaug.evaluate.report import UtilityReport
from ganaug.evaluate.samplers import CTGANSampler, RandomOversampler, SMOTESampler, smote_variant
from ganaug.evaluate.utility import BASELINES, Arm, AugmenterVariants, default_augmenters, utility_report

__all__ = [
    "BASELINES",
    "DEFAULT_SHARES",
    "Arm",
    "AugmenterVariants",
    "CTGANSampler",
    "RandomOversampler",
    "SMOTESampler",
    "ShareChoice",
    "UtilityReport",
    "choose_synthetic_share",
    "default_augmenters",
    "smote_variant",
    "stratified_validation_split",
    "utility_report",
]
