"""Exceptions raised by ganaug."""

from __future__ import annotations

__all__ = ["NonFiniteLossError", "ModelFormatError", "NotFittedError"]

from sklearn.exceptions import NotFittedError


class NonFiniteLossError(FloatingPointError):
    """A GAN loss became NaN or infinite during training (the NaN guard).

    The message names the network, the epoch and the step, and suggests what
    usually helps (lower learning rates, a gradient-penalty loss, scaling the data).
    """


class ModelFormatError(ValueError):
    """A saved model directory is missing, altered, or from an incompatible format."""
