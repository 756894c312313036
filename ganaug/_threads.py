"""Adaptive torch threads: ganaug must not stall a CPU it shares.

Why
---
torch runs one OpenMP thread per core by default, and its OpenMP threads
spin while they wait for each other. Two processes that each do this on the
same cores (``GridSearchCV(n_jobs=-1)`` over a pipeline with an augmenter, two
users on a shared server, a benchmark beside a test run) oversubscribe the
machine: a spinning thread burns the slice its peer needed, and torch slows
down 10-40x instead of 2x. Measured on 2 cores: a 17 s ``TabularAugmenter`` fit
took 664 s beside one other 30-epoch fit (``ctgan.CTGAN`` collapses the same way).

What
----
While ganaug trains, :class:`ThreadGuard` (a Lightning callback that
:func:`ganaug.core.trainer.build_trainer` adds to every trainer it builds)
gives torch only the cores that nothing else is running on:

* others = threads runnable on the machine (``/proc/loadavg``'s
  ``running/total`` field) minus this process's own runnable threads (state
  ``R`` in ``/proc/self/task/*/stat``), the median of a few readings;
* threads = ``cores - others``, at least 1, at most the thread count at the
  start of the fit (so ``OMP_NUM_THREADS`` or an earlier
  ``torch.set_num_threads`` still caps it) and the usable cores;
* re-checked every ~2 s of training; ``torch.set_num_threads`` is called only
  when the number changes; the starting count comes back when training ends
  (or fails).

Two ganaug fits side by side on 2 cores settle at 1 thread each; when one
ends, the other goes back to 2. A check reads two small ``/proc`` files (tens
of microseconds; the readings of one decision are spread over successive
batches, so training never sleeps for them).

``GANAUG_ADAPTIVE_THREADS=0`` turns this off (torch keeps the thread count set
at the start of the fit, as before). Nothing changes either outside Linux (no
``/proc``) or after ``torch.use_deterministic_algorithms(True)``: the thread
count can change a float sum's rounding, and a run asked to be bitwise
repeatable keeps one count whatever the load. A ready ``lightning.pytorch.Trainer`` passed as ``trainer=`` is
used as it is: add ``ThreadGuard()`` to its callbacks to get the same.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import lightning.pytorch as pl
import torch

from ganaug.utils import available_cpus

__all__ = ["ThreadGuard", "adaptive_threads_enabled", "choose_threads", "other_runnable"]

#: environment variable that turns adaptive threads off with 0 / false / no / off
ENV_VAR = "GANAUG_ADAPTIVE_THREADS"

_LOADAVG = "/proc/loadavg"
_TASKS = "/proc/self/task"


def adaptive_threads_enabled() -> bool:
    """Whether ganaug adapts torch's threads to the load (``GANAUG_ADAPTIVE_THREADS``, default on).

    Examples
    --------
    >>> from ganaug._threads import adaptive_threads_enabled
    >>> adaptive_threads_enabled() in (True, False)
    True
    """
    value = os.environ.get(ENV_VAR)
    if value is None:
        return True
    return value.strip().lower() not in ("0", "false", "no", "off")


def choose_threads(cores: int, others: int, ceiling: int | None = None) -> int:
    """torch threads for ``cores`` usable cores when ``others`` other threads want to run.

    ``cores - others``, at least 1, at most ``cores`` and ``ceiling``.

    Examples
    --------
    >>> from ganaug._threads import choose_threads
    >>> choose_threads(cores=2, others=0), choose_threads(cores=2, others=1), choose_threads(cores=2, others=5)
    (2, 1, 1)
    >>> choose_threads(cores=8, others=0, ceiling=3)
    3
    """
    cores, others = int(cores), int(others)
    if cores < 1:
        raise ValueError(f"cores must be >= 1, got {cores}")
    if others < 0:
        raise ValueError(f"others must be >= 0, got {others}")
    top = cores if ceiling is None else max(1, min(cores, int(ceiling)))
    return max(1, min(top, cores - others))


def _running_total(text: str) -> int:
    """Runnable scheduling entities from ``/proc/loadavg`` text (``"0.5 0.4 0.3 3/125 4567"`` -> 3)."""
    try:
        return int(text.split()[3].split("/")[0])
    except (IndexError, ValueError) as exc:
        raise ValueError(f"unexpected /proc/loadavg content: {text!r}") from exc


def _state(stat: bytes) -> bytes:
    """One-letter state of a ``/proc/.../stat`` line (the field after the ``(comm)``, which may hold spaces)."""
    end = stat.rfind(b")")
    return stat[end + 2 : end + 3] if end >= 0 else b""


def _read(path: str) -> bytes:
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, 4096)
    finally:
        os.close(fd)


def _own_running(task_dir: str = _TASKS) -> int:
    """This process's threads in state ``R`` (the calling thread included)."""
    n = 0
    for tid in os.listdir(task_dir):
        try:
            if _state(_read(f"{task_dir}/{tid}/stat")) == b"R":
                n += 1
        except OSError:  # the thread ended between the listing and the read
            continue
    return n


def other_runnable() -> int | None:
    """Threads of other processes runnable right now on this machine; ``None`` without ``/proc``.

    One reading: ``/proc/loadavg``'s runnable count (this thread included)
    minus this process's own runnable threads. Noisy; take the median of a few.

    Examples
    --------
    >>> from ganaug._threads import other_runnable
    >>> n = other_runnable()
    >>> n is None or n >= 0
    True
    """
    try:
        total = _running_total(_read(_LOADAVG).decode("ascii", "replace"))
        own = _own_running()
    except (OSError, ValueError):
        return None
    return max(0, total - own)


class ThreadGuard(pl.Callback):
    """Lightning callback: torch threads = usable cores not busy with other processes, while training.

    Added by :func:`ganaug.core.trainer.build_trainer` to every trainer it
    builds (so every ganaug GAN uses it); add it yourself to a ready
    ``Trainer``. Off with ``GANAUG_ADAPTIVE_THREADS=0``, outside Linux and
    under ``torch.use_deterministic_algorithms(True)``.
    See :mod:`ganaug._threads` for why.

    Parameters
    ----------
    interval : float, default=2.0
        Seconds of training between two decisions.
    samples : int, default=5
        Readings per decision; their median is used.
    gap : float, default=0.002
        Least seconds between two readings of one decision (taken at
        successive batch starts; at the start of training, by short sleeps).
    reader : callable, optional
        Returns the number of other runnable threads, or ``None`` when it
        cannot tell (default :func:`other_runnable`).

    Attributes
    ----------
    history : list of dict
        One entry per decision: ``step`` (global step), ``others`` (median
        reading) and ``threads`` (the count in force after it).

    Examples
    --------
    >>> import torch
    >>> from ganaug._threads import ThreadGuard
    >>> from ganaug.core import tensor_loader
    >>> from ganaug.core.toy import MLPGAN, ring_of_gaussians
    >>> from ganaug.core.trainer import build_trainer
    >>> guard = ThreadGuard(reader=lambda: 0)  # nothing else running: every usable core
    >>> before = torch.get_num_threads()
    >>> trainer = build_trainer({"callbacks": [guard], "enable_progress_bar": False}, max_epochs=1)
    >>> trainer.fit(MLPGAN(hidden=8), tensor_loader(torch.from_numpy(ring_of_gaussians(256)), batch_size=64, seed=0))
    >>> torch.get_num_threads() == before  # the starting count is back
    True
    >>> guard.history[0]["others"]
    0
    """

    def __init__(self, interval: float = 2.0, samples: int = 5, gap: float = 0.002,
                 reader: Callable[[], int | None] | None = None):
        if not interval > 0:
            raise ValueError(f"interval must be > 0 seconds, got {interval!r}")
        if int(samples) < 1:
            raise ValueError(f"samples must be >= 1, got {samples!r}")
        if not gap >= 0:
            raise ValueError(f"gap must be >= 0 seconds, got {gap!r}")
        self.interval = float(interval)
        self.samples = int(samples)
        self.gap = float(gap)
        self.reader = reader
        self.history: list[dict] = []
        self._start: int | None = None
        self._ceiling = 1
        self._cores = 1
        self._active = False
        self._readings: list[int] = []
        self._next = 0.0
        self._last_read = 0.0

    # ---------------------------------------------------------------- policy
    def _read(self) -> int | None:
        return (self.reader or other_runnable)()

    def _decide(self, trainer: pl.Trainer) -> None:
        others = sorted(self._readings)[len(self._readings) // 2]
        self._readings = []
        n = choose_threads(self._cores, others, self._ceiling)
        if n != torch.get_num_threads():
            torch.set_num_threads(n)
        self.history.append({"step": int(trainer.global_step), "others": int(others), "threads": n})

    def _restore(self) -> None:
        if self._start is not None and torch.get_num_threads() != self._start:
            torch.set_num_threads(self._start)
        self._start = None
        self._active = False

    # ----------------------------------------------------------------- hooks
    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._start = torch.get_num_threads()
        self._readings = []
        self._active = adaptive_threads_enabled() and not torch.are_deterministic_algorithms_enabled()
        if not self._active:
            return
        self._cores = available_cpus()
        self._ceiling = max(1, min(self._start, self._cores))
        for i in range(self.samples):  # a first estimate before the first batch: ~10 ms once per fit
            if i:
                time.sleep(self.gap)
            reading = self._read()
            if reading is None:  # no /proc (not Linux): today's behaviour
                self._active = False
                return
            self._readings.append(int(reading))
        self._decide(trainer)
        self._next = time.monotonic() + self.interval

    def on_train_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch, batch_idx: int) -> None:
        if not self._active:
            return
        now = time.monotonic()
        if now < self._next or now - self._last_read < self.gap:
            return
        reading = self._read()
        self._last_read = now
        if reading is None:
            return
        self._readings.append(int(reading))
        if len(self._readings) >= self.samples:
            self._decide(trainer)
            self._next = now + self.interval

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._restore()

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        self._restore()

    def teardown(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        self._restore()
