"""Exponential moving average of a network's weights (used for the generator)."""

from __future__ import annotations

import copy

import torch
from torch import nn

__all__ = ["EMA"]


class EMA(nn.Module):
    """Keeps ``shadow = decay * shadow + (1 - decay) * source`` after each update.

    The shadow is a frozen deep copy of the source module; buffers (e.g.
    batch-norm statistics) are copied as they are. Being a submodule, it moves
    with the LightningModule across devices and is saved in checkpoints.

    Parameters
    ----------
    source : nn.Module
        The network to average.
    decay : float, default=0.999
        Weight of the past, in (0, 1).

    Examples
    --------
    >>> import torch
    >>> from ganaug.core.ema import EMA
    >>> net = torch.nn.Linear(2, 1)
    >>> ema = EMA(net, decay=0.5)
    >>> with torch.no_grad():
    ...     _ = net.weight.add_(1.0)
    >>> ema.update(net)
    >>> bool(torch.allclose(ema.module.weight, net.weight - 0.5))
    True
    """

    def __init__(self, source: nn.Module, decay: float = 0.999) -> None:
        super().__init__()
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must be in (0, 1), got {decay}")
        self.decay = float(decay)
        self.module = copy.deepcopy(source)
        self.module.requires_grad_(False)
        self.module.eval()

    @torch.no_grad()
    def update(self, source: nn.Module) -> None:
        shadow = [p for p in self.module.parameters()]
        current = [p.detach() for p in source.parameters()]
        torch._foreach_lerp_(shadow, current, 1.0 - self.decay)
        for b_shadow, b_src in zip(self.module.buffers(), source.buffers()):
            b_shadow.copy_(b_src)

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def train(self, mode: bool = True) -> "EMA":
        # the shadow always runs in eval mode (dropout off, batch-norm frozen)
        super().train(mode)
        self.module.eval()
        return self
