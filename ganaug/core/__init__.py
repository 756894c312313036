"""Modality-free GAN machinery: losses, the training module, layers, latent tools."""

from ganaug.core.data import TensorBatchDataset, tensor_loader
from ganaug.core.diagnostics import diagnose_training, diversity_ratio, mode_coverage, plot_training_curves
from ganaug.core.ema import EMA
from ganaug.core.latent import invert, sample_latent
from ganaug.core.layers import (
    AuxiliaryClassifierHead,
    ConditionEmbedding,
    InfoGANHead,
    MinibatchDiscrimination,
    MinibatchStdDev,
    ProjectionHead,
    infogan_loss,
    maybe_spectral_norm,
    sample_infogan_codes,
    spectral_norm,
)
from ganaug.core.losses import AdversarialLoss, available_losses, get_loss, gradient_penalty, mode_seeking_loss
from ganaug.core.module import GANModule
from ganaug.core.trainer import build_trainer
from ganaug._threads import ThreadGuard

__all__ = [
    "AdversarialLoss",
    "AuxiliaryClassifierHead",
    "ConditionEmbedding",
    "EMA",
    "GANModule",
    "InfoGANHead",
    "MinibatchDiscrimination",
    "MinibatchStdDev",
    "ProjectionHead",
    "TensorBatchDataset",
    "ThreadGuard",
    "available_losses",
    "build_trainer",
    "diagnose_training",
    "diversity_ratio",
    "get_loss",
    "gradient_penalty",
    "infogan_loss",
    "invert",
    "maybe_spectral_norm",
    "mode_coverage",
    "mode_seeking_loss",
    "plot_training_curves",
    "sample_infogan_codes",
    "sample_latent",
    "spectral_norm",
    "tensor_loader",
]
