"""Time series: recurrent GANs (RCGAN, TimeGAN-style), encoding, TimeGAN metrics, a small classifier."""

from ganaug.timeseries.attributes import AttributeEncoder
from ganaug.timeseries.baselines import JitterScalingOverSampler, SeriesRandomOverSampler
from ganaug.timeseries.classifier import SeriesClassifier, fit_predict_proba
from ganaug.timeseries.encoding import SeriesEncoder, check_series_array, lengths_to_mask, make_windows
from ganaug.timeseries.model import RecurrentGAN
from ganaug.timeseries.networks import SequenceNet

__all__ = [
    "AttributeEncoder",
    "JitterScalingOverSampler",
    "RecurrentGAN",
    "SeriesClassifier",
    "SeriesRandomOverSampler",
    "fit_predict_proba",
    "SequenceNet",
    "SeriesEncoder",
    "check_series_array",
    "lengths_to_mask",
    "make_windows",
]
