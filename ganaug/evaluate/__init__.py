"""Does augmentation help? The utility report and its baselines.

:func:`utility_report` trains a downstream model in several ways on every
training fold (no resampling, a tuned threshold, class weights, random
oversampling, SMOTE-family, ganaug, CTGAN...) and scores each on the untouched
test fold, with paired confidence intervals and a computed verdict.
"""

from ganaug.evaluate.report import UtilityReport
from ganaug.evaluate.samplers import CTGANSampler, RandomOversampler, SMOTESampler, smote_variant
from ganaug.evaluate.utility import BASELINES, Arm, AugmenterVariants, default_augmenters, utility_report

__all__ = [
    "BASELINES",
    "Arm",
    "AugmenterVariants",
    "CTGANSampler",
    "RandomOversampler",
    "SMOTESampler",
    "UtilityReport",
    "default_augmenters",
    "smote_variant",
    "utility_report",
]
