"""Tabular modality: the mixed-type transformer, the conditional tabular GAN and row constraints."""

from ganaug.tabular.constraints import Custom, FixedCombinations, Inequality, Negative, Positive, Range
from ganaug.tabular.model import TabularGAN
from ganaug.tabular.sampler import ConditionalSampler
from ganaug.tabular.transformer import Span, TabularTransformer

__all__ = [
    "ConditionalSampler",
    "Custom",
    "FixedCombinations",
    "Inequality",
    "Negative",
    "Positive",
    "Range",
    "Span",
    "TabularGAN",
    "TabularTransformer",
]
