"""Small shared helpers: seeding and thread limits."""

from __future__ import annotations

import os

import numpy as np
import torch

__all__ = ["seed_from_random_state", "seed_everything", "available_cpus", "limit_threads"]

_MAX_SEED = 2**31 - 1


def seed_from_random_state(random_state) -> int:
    """An integer seed from a scikit-learn style ``random_state``.

    ``None`` draws a fresh seed (runs differ); an int is used as it is; a
    ``numpy.random.RandomState`` or ``Generator`` is advanced to draw one.

    Examples
    --------
    >>> from ganaug.utils import seed_from_random_state
    >>> seed_from_random_state(7)
    7
    """
    if random_state is None:
        return int(np.random.default_rng().integers(_MAX_SEED))
    if isinstance(random_state, (bool, np.bool_)):
        raise TypeError("random_state must be None, an int or a numpy random generator, not a bool")
    if isinstance(random_state, (int, np.integer)):
        if random_state < 0:
            raise ValueError(f"random_state must be >= 0, got {random_state}")
        return int(random_state) % (_MAX_SEED + 1)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(_MAX_SEED))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(_MAX_SEED))
    raise TypeError(f"random_state must be None, an int or a numpy random generator, got {type(random_state).__name__}")


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch (what Lightning's ``seed_everything`` does), quietly."""
    import random

    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    os.environ["PL_GLOBAL_SEED"] = str(seed)


def available_cpus() -> int:
    """CPU cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def limit_threads() -> None:
    """Never run more torch threads than there are usable cores."""
    cores = available_cpus()
    if torch.get_num_threads() > cores:
        torch.set_num_threads(cores)
