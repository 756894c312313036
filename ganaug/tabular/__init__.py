"""Tabular modality: the mixed-type transformer and the conditional tabular GAN."""

from ganaug.tabular.model import TabularGAN
from ganaug.tabular.sampler import ConditionalSampler
from ganaug.tabular.transformer import Span, TabularTransformer

__all__ = ["ConditionalSampler", "Span", "TabularGAN", "TabularTransformer"]
