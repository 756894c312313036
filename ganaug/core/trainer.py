"""Build the Lightning ``Trainer`` that fits a ganaug model.

Every augmenter accepts ``trainer=`` as ``None`` (CPU defaults), a dict of
``lightning.pytorch.Trainer`` keyword arguments (``accelerator``, ``devices``,
``strategy``, ``num_nodes``, ``precision``, ``callbacks``, ``logger``...), or a
ready ``Trainer``. Lightning owns devices, precision, checkpoints and DDP.

Every trainer built here carries a :class:`ganaug._threads.ThreadGuard`, which
lowers torch's thread count while other processes keep cores busy (two fits
side by side must not stall each other; ``GANAUG_ADAPTIVE_THREADS=0`` turns it
off). A ready ``Trainer`` is not modified: add ``ThreadGuard()`` to its
callbacks for the same.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import warnings
from typing import Any

import lightning.pytorch as pl

from ganaug._threads import ThreadGuard, adaptive_threads_enabled

__all__ = ["build_trainer", "quiet_lightning", "progress_bar_default"]

_DEFAULTS: dict[str, Any] = {
    "accelerator": "cpu",
    "devices": 1,
    "logger": False,
    "enable_checkpointing": False,
    "enable_model_summary": False,
    "num_sanity_val_steps": 0,
    "log_every_n_steps": 50,
}

#: DDP strategies named by the user -> the same with ``find_unused_parameters=True`` (needed by GAN steps)
_GAN_DDP = {name: f"{name}_find_unused_parameters_true" for name in ("ddp", "ddp_spawn", "ddp_fork", "ddp_notebook")}

_LIGHTNING_LOGGERS = ("lightning.pytorch", "lightning.fabric", "pytorch_lightning", "lightning")


def progress_bar_default() -> bool:
    """Progress bars in an interactive terminal, none in a pipe or CI log.

    ``GANAUG_PROGRESS=0/1`` overrides the guess.
    """
    forced = os.environ.get("GANAUG_PROGRESS")
    if forced is not None:
        return forced.strip().lower() not in ("0", "false", "no", "off", "")
    return sys.stderr.isatty()


@contextlib.contextmanager
def quiet_lightning(verbose: bool = False):
    """Silence Lightning's start-up chatter ("GPU available: False...") unless verbose."""
    if verbose:
        yield
        return
    saved = {name: logging.getLogger(name).level for name in _LIGHTNING_LOGGERS}
    try:
        for name in _LIGHTNING_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*does not have many workers.*")
            warnings.filterwarnings("ignore", message=".*Consider setting `persistent_workers=True`.*")
            warnings.filterwarnings("ignore", message=".*number of training batches.*smaller than the logging interval.*")
            warnings.filterwarnings("ignore", message=".*`isinstance\\(treespec, LeafSpec\\)` is deprecated.*")
            # an EMA copy of the generator is in eval mode on purpose (frozen dropout and batch-norm)
            warnings.filterwarnings("ignore", message=".*module\\(s\\) in eval mode at the start of training.*")
            yield
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


def build_trainer(
    trainer: pl.Trainer | dict | None,
    max_epochs: int,
    *,
    callbacks: list | None = None,
    **overrides: Any,
) -> pl.Trainer:
    """Return a ``Trainer`` from the user's ``trainer`` argument.

    Parameters
    ----------
    trainer : None, dict or lightning.pytorch.Trainer
        ``None``: CPU, one device, no logger or checkpoints, progress bar only
        in a terminal. A dict: those defaults updated with its keys. A
        ``Trainer`` is returned unchanged (its own ``max_epochs`` wins, and
        it gets no :class:`~ganaug._threads.ThreadGuard` unless its
        callbacks hold one).
        ``strategy="ddp"`` (or ``"ddp_spawn"``, ``"ddp_fork"``,
        ``"ddp_notebook"``) becomes its ``*_find_unused_parameters_true``
        variant: each GAN step updates one network only.
    max_epochs : int
        Epochs unless the dict sets ``max_epochs`` itself.
    callbacks : list, optional
        Callbacks that ganaug needs; appended to the user's, followed by a
        :class:`~ganaug._threads.ThreadGuard` (adaptive torch threads) unless
        the user's callbacks hold one or ``GANAUG_ADAPTIVE_THREADS=0``.
    **overrides
        Other defaults the caller wants (user keys still win).

    Examples
    --------
    >>> from ganaug.core.trainer import build_trainer
    >>> t = build_trainer({"accelerator": "cpu"}, max_epochs=3)
    >>> t.max_epochs
    3
    """
    if isinstance(trainer, pl.Trainer):
        return trainer
    if trainer is not None and not isinstance(trainer, dict):
        raise TypeError(
            f"trainer must be None, a dict of Trainer arguments or a lightning Trainer, got {type(trainer).__name__}"
        )
    kwargs: dict[str, Any] = dict(_DEFAULTS)
    kwargs["enable_progress_bar"] = progress_bar_default()
    kwargs["max_epochs"] = int(max_epochs)
    kwargs.update(overrides)
    kwargs.update(trainer or {})
    strategy = kwargs.get("strategy")
    if isinstance(strategy, str) and strategy in _GAN_DDP:
        # a GAN step leaves one network without gradients (G is frozen in D's step and D in G's),
        # which plain DDP refuses: use Lightning's variant that tolerates unused parameters
        kwargs["strategy"] = _GAN_DDP[strategy]
    user_callbacks = list(kwargs.pop("callbacks", None) or [])
    kwargs["callbacks"] = user_callbacks + list(callbacks or [])
    if adaptive_threads_enabled() and not any(isinstance(cb, ThreadGuard) for cb in kwargs["callbacks"]):
        kwargs["callbacks"].append(ThreadGuard())
    try:
        with quiet_lightning():
            return pl.Trainer(**kwargs)
    except TypeError as exc:  # unknown keyword: name it
        raise TypeError(f"invalid trainer argument: {exc}") from exc
