"""Resumable training: Lightning checkpoints plus the random state a GAN step needs.

A Lightning checkpoint holds the weights, the optimisers' state and the loop
counters, but not the random streams: a GAN step draws its noise from torch's
global generator, dropout uses it too, and the loaders shuffle with their own
generators. Without them a resumed run is a *different* run from the same
weights. :class:`ResumableRandomState` stores those streams in the checkpoint
(as plain tensors and lists, so ``torch.load(weights_only=True)`` reads it)
and puts them back before the first resumed step; on one CPU process the
resumed run then ends with bit-identical weights.

:func:`resumable_trainer` builds the ``trainer=`` argument of any augmenter
that checkpoints every epoch to a folder and resumes from ``last.ckpt`` there
when it exists, so re-running the same script after a crash continues the
interrupted fit instead of starting again.

Checkpoints are written with ``torch.save``; they are for resuming your own
runs. ``resumable_trainer`` reads them with ``weights_only=True`` (no
arbitrary unpickling). A finished model is shared with ``save`` / ``load``
(JSON + safetensors), never as a checkpoint.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
from lightning.pytorch.callbacks import Callback, ModelCheckpoint

__all__ = ["ResumableRandomState", "resumable_trainer", "last_checkpoint", "InterruptTraining", "TrainingInterrupted"]

LAST = "last.ckpt"


def _train_loaders(trainer: pl.Trainer) -> list:
    loaders = trainer.train_dataloader
    if loaders is None:
        return []
    if isinstance(loaders, dict):
        return list(loaders.values())
    return list(loaders) if isinstance(loaders, (list, tuple)) else [loaders]


def _loader_generators(trainer: pl.Trainer) -> list[torch.Generator]:
    """``torch.Generator`` objects that drive the train loaders' shuffling (in a fixed order)."""
    gens = []
    for dl in _train_loaders(trainer):
        for holder in (getattr(dl, "sampler", None), getattr(dl, "batch_sampler", None),
                       getattr(getattr(dl, "sampler", None), "sampler", None),
                       getattr(getattr(dl, "batch_sampler", None), "sampler", None)):
            gen = getattr(holder, "generator", None)
            if isinstance(gen, torch.Generator) and all(gen is not g for g in gens):
                gens.append(gen)
    return gens


def _numpy_state_to_plain(state: tuple) -> list:
    name, keys, pos, has_gauss, cached = state
    return [str(name), torch.as_tensor(np.asarray(keys, dtype=np.int64)), int(pos), int(has_gauss), float(cached)]


def _numpy_state_from_plain(plain: list) -> tuple:
    name, keys, pos, has_gauss, cached = plain
    return (name, np.asarray(torch.as_tensor(keys).numpy(), dtype=np.uint32), int(pos), int(has_gauss), float(cached))


def _python_state_to_plain(state: tuple) -> list:
    version, internal, gauss = state
    return [int(version), torch.as_tensor(internal, dtype=torch.int64), gauss]


def _python_state_from_plain(plain: list) -> tuple:
    version, internal, gauss = plain
    return (int(version), tuple(int(v) for v in torch.as_tensor(internal).tolist()), gauss)


class ResumableRandomState(Callback):
    """Save torch/numpy/Python random streams, loader shuffling and GAN history in checkpoints.

    The state is captured when a checkpoint is written (the end of an epoch)
    and restored at the start of the first epoch after resuming, right before
    the next training step, so the resumed run draws the same noise, dropout
    masks and batches as an uninterrupted one. The module's per-step
    ``history`` (a :class:`~ganaug.core.GANModule` attribute) is kept too.

    Examples
    --------
    >>> from ganaug.core.checkpoint import ResumableRandomState
    >>> cb = ResumableRandomState()
    >>> sorted(cb.state_dict())
    []
    """

    def __init__(self) -> None:
        self._trainer: pl.Trainer | None = None
        self._pending: dict[str, Any] | None = None

    @property
    def state_key(self) -> str:
        return "ganaug.ResumableRandomState"

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        self._trainer = trainer

    def state_dict(self) -> dict[str, Any]:
        trainer = self._trainer
        if trainer is None:  # not attached to a run yet
            return {}
        module = trainer.lightning_module
        history = getattr(module, "history", None)
        return {
            "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            "numpy": _numpy_state_to_plain(np.random.get_state()),
            "python": _python_state_to_plain(random.getstate()),
            "loaders": [g.get_state() for g in _loader_generators(trainer)],
            "history": list(history) if isinstance(history, list) else None,
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._pending = dict(state_dict) if state_dict else None

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        state, self._pending = self._pending, None
        if not state:
            return
        torch.set_rng_state(state["torch"])
        if state.get("cuda") and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(state["cuda"])
        np.random.set_state(_numpy_state_from_plain(state["numpy"]))
        random.setstate(_python_state_from_plain(state["python"]))
        # Lightning builds the first epoch's loader iterator before ``on_train_epoch_start``, and
        # torch's DataLoader draws its base seed from the global generator when it builds one; in an
        # uninterrupted run that draw comes after this point (and after the checkpoint), so replay it.
        for dl in _train_loaders(trainer):
            if getattr(dl, "generator", None) is None:
                torch.empty((), dtype=torch.int64).random_()
        gens = _loader_generators(trainer)
        if len(gens) == len(state["loaders"]):
            for gen, saved in zip(gens, state["loaders"]):
                gen.set_state(saved)
        if state.get("history") is not None and isinstance(getattr(pl_module, "history", None), list):
            pl_module.history[:0] = state["history"]


def last_checkpoint(dirpath: str | Path) -> Path | None:
    """``dirpath/last.ckpt`` if a previous run left one, else ``None``."""
    path = Path(dirpath) / LAST
    return path if path.is_file() else None


def resumable_trainer(dirpath: str | Path, every_n_epochs: int = 1, resume: bool = True, **trainer_kwargs) -> dict:
    """``trainer=`` arguments that checkpoint to ``dirpath`` and resume from its ``last.ckpt``.

    Parameters
    ----------
    dirpath : str or Path
        Folder of the checkpoints (created by Lightning).
    every_n_epochs : int, default=1
        Epochs between checkpoints.
    resume : bool, default=True
        Continue from ``dirpath/last.ckpt`` when it exists (the augmenter's
        ``fit`` passes it to ``Trainer.fit(ckpt_path=...)``, read with
        ``weights_only=True``). ``False`` starts afresh.
    **trainer_kwargs
        Other Lightning ``Trainer`` arguments (``accelerator``, ``devices``,
        ``strategy``, ``callbacks``...).

    Returns
    -------
    dict
        For the ``trainer`` parameter of any ganaug augmenter. Fit the same
        data with the same ``random_state`` and parameters to resume.

    Examples
    --------
    >>> import tempfile
    >>> from ganaug.core.checkpoint import resumable_trainer
    >>> args = resumable_trainer(tempfile.mkdtemp())
    >>> args["enable_checkpointing"], args.get("ckpt_path")
    (True, None)
    """
    if isinstance(every_n_epochs, bool) or not isinstance(every_n_epochs, int) or every_n_epochs < 1:
        raise ValueError(f"every_n_epochs must be a positive int, got {every_n_epochs!r}")
    callbacks = list(trainer_kwargs.pop("callbacks", None) or [])
    callbacks += [
        ModelCheckpoint(dirpath=str(dirpath), save_last=True, save_top_k=1, every_n_epochs=every_n_epochs,
                        save_on_train_epoch_end=True),
        ResumableRandomState(),
    ]
    args = {**trainer_kwargs, "callbacks": callbacks, "enable_checkpointing": True}
    last = last_checkpoint(dirpath) if resume else None
    if last is not None:
        args["ckpt_path"] = str(last)
        args["weights_only"] = True
    return args


class TrainingInterrupted(RuntimeError):
    """Raised by :class:`InterruptTraining` (a stand-in for a crash or a killed job)."""


class InterruptTraining(Callback):
    """Raise :class:`TrainingInterrupted` at the start of epoch ``epoch`` (for resume tests and drills).

    Examples
    --------
    >>> from ganaug.core.checkpoint import InterruptTraining
    >>> InterruptTraining(3).epoch
    3
    """

    def __init__(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.current_epoch == self.epoch:
            raise TrainingInterrupted(f"training interrupted at the start of epoch {self.epoch} (InterruptTraining)")
