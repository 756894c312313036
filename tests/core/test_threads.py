"""Adaptive torch threads (issue 20): the policy, the /proc readings and the callback around real fits."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import lightning.pytorch as pl
import pytest
import torch

import ganaug._threads as threads
from ganaug._threads import ThreadGuard, _own_running, _running_total, _state, choose_threads, other_runnable
from ganaug.core import tensor_loader
from ganaug.core.toy import MLPGAN, ring_of_gaussians
from ganaug.core.trainer import build_trainer, quiet_lightning
from ganaug.utils import available_cpus

LINUX_PROC = os.path.exists("/proc/loadavg") and os.path.isdir("/proc/self/task")
needs_proc = pytest.mark.skipif(not LINUX_PROC, reason="needs Linux /proc")
needs_two_cores = pytest.mark.skipif(available_cpus() < 2, reason="needs 2 usable cores")


@pytest.fixture(autouse=True)
def _keep_threads(monkeypatch):
    """Every test starts with adaptive threads on and leaves torch's thread count as it found it."""
    monkeypatch.delenv("GANAUG_ADAPTIVE_THREADS", raising=False)
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


class _Probe(pl.Callback):
    """Records torch's thread count inside each batch (after ThreadGuard's batch-start hook); may raise."""

    def __init__(self, fail_at: int | None = None):
        self.seen: list[int] = []
        self.fail_at = fail_at

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.seen.append(torch.get_num_threads())
        if self.fail_at is not None and batch_idx == self.fail_at:
            raise RuntimeError("probe stops the fit")


def _fit(trainer_arg, n_batches: int = 6) -> pl.Trainer:
    data = torch.from_numpy(ring_of_gaussians(n_batches * 32, random_state=0))
    trainer = build_trainer(trainer_arg, max_epochs=1, enable_progress_bar=False)
    with quiet_lightning():
        trainer.fit(MLPGAN(hidden=8), tensor_loader(data, batch_size=32, seed=0))
    return trainer


def _guards(trainer: pl.Trainer) -> list[ThreadGuard]:
    return [cb for cb in trainer.callbacks if isinstance(cb, ThreadGuard)]


# ------------------------------------------------------------------ policy
@pytest.mark.parametrize(("cores", "others", "ceiling", "expected"), [
    (2, 0, None, 2), (2, 1, None, 1), (2, 2, None, 1), (2, 5, None, 1),
    (8, 3, None, 5), (8, 0, 3, 3), (8, 6, 3, 2), (2, 0, 1, 1), (1, 0, None, 1), (4, 0, 99, 4),
])
def test_choose_threads(cores, others, ceiling, expected):
    assert choose_threads(cores, others, ceiling) == expected


def test_choose_threads_refuses_nonsense():
    with pytest.raises(ValueError, match="cores"):
        choose_threads(0, 0)
    with pytest.raises(ValueError, match="others"):
        choose_threads(2, -1)


def test_two_adapting_processes_settle_at_one_thread_each_then_the_survivor_takes_both_cores():
    """Each process sees the other's runnable threads; both start at 2 on 2 cores."""
    a = b = 2
    for _ in range(3):
        a, b = choose_threads(2, b), choose_threads(2, a)
    assert (a, b) == (1, 1)
    assert choose_threads(2, 0) == 2  # b ended


# ----------------------------------------------------------------- readings
def test_loadavg_parser():
    assert _running_total("0.51 0.40 0.30 3/125 4567\n") == 3
    assert _running_total("0.00 0.00 0.00 12/1000 1") == 12
    with pytest.raises(ValueError, match="loadavg"):
        _running_total("garbage")


def test_stat_state_survives_parentheses_and_spaces_in_the_name():
    assert _state(b"123 (python) R 1 2 3") == b"R"
    assert _state(b"123 (pt_main) thr) S 1 2 3") == b"S"
    assert _state(b"123 (a b) (c)) D 1") == b"D"
    assert _state(b"nonsense") == b""


@needs_proc
def test_real_readings_are_small_non_negative_ints():
    assert _own_running() >= 1  # the reading thread itself is running
    readings = [other_runnable() for _ in range(5)]
    assert all(isinstance(r, int) and r >= 0 for r in readings)
    t0 = time.perf_counter()
    for _ in range(50):
        other_runnable()
    assert (time.perf_counter() - t0) / 50 < 1e-3  # well under a millisecond per reading


@needs_proc
def test_a_busy_process_is_counted_and_a_stopped_one_is_not():
    """Paired readings with a spinning child running and stopped (SIGSTOP): about one more runnable thread."""
    child = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.2)
        diffs = []
        for _ in range(7):
            child.send_signal(signal.SIGSTOP)
            time.sleep(0.02)
            stopped = other_runnable()
            child.send_signal(signal.SIGCONT)
            time.sleep(0.02)
            running = other_runnable()
            diffs.append(running - stopped)
        assert sorted(diffs)[len(diffs) // 2] >= 1, diffs
    finally:
        child.kill()
        child.wait()


# ----------------------------------------------------------------- callback
def test_build_trainer_adds_one_guard_and_leaves_a_ready_trainer_alone():
    assert len(_guards(build_trainer(None, max_epochs=1))) == 1
    mine = ThreadGuard()
    assert _guards(build_trainer({"callbacks": [mine]}, max_epochs=1)) == [mine]
    ready = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False)
    assert build_trainer(ready, max_epochs=1) is ready
    assert _guards(ready) == []


@needs_two_cores
def test_guard_lowers_threads_while_training_and_restores_them(monkeypatch):
    monkeypatch.setattr(threads, "other_runnable", lambda: 1)  # one other thread busy all the time
    torch.set_num_threads(2)
    probe = _Probe()
    trainer = _fit({"callbacks": [probe]})
    assert probe.seen and set(probe.seen) == {1}
    assert torch.get_num_threads() == 2
    (guard,) = _guards(trainer)
    assert guard.history[0] == {"step": 0, "others": 1, "threads": 1}


@needs_two_cores
def test_guard_follows_the_load_and_sets_threads_only_when_they_change(monkeypatch):
    schedule = iter([0] * 3 + [1] * 3 + [0] * 100)  # idle, busy, idle again
    calls = []
    real_set = torch.set_num_threads
    monkeypatch.setattr(torch, "set_num_threads", lambda n: (calls.append(n), real_set(n)))
    real_set(2)
    probe = _Probe()
    guard = ThreadGuard(interval=1e-9, samples=1, gap=0.0, reader=lambda: next(schedule))
    _fit({"callbacks": [probe, guard]}, n_batches=8)
    assert [h["threads"] for h in guard.history][:7] == [2, 2, 2, 1, 1, 1, 2]
    assert probe.seen[:6] == [2, 2, 1, 1, 1, 2]
    assert calls == [1, 2]  # no call while the count stays the same; the end finds 2 already in force
    assert torch.get_num_threads() == 2


def test_median_of_readings_ignores_one_outlier():
    readings = iter([0, 0, 7, 0, 0])
    guard = ThreadGuard(samples=5, gap=0.0, reader=lambda: next(readings))
    torch.set_num_threads(1)
    guard.on_train_start(build_trainer(None, max_epochs=1), MLPGAN(hidden=8))
    assert guard.history[0]["others"] == 0
    guard.on_train_end(None, None)


def test_guard_never_goes_above_the_count_set_before_the_fit(monkeypatch):
    monkeypatch.setattr(threads, "other_runnable", lambda: 0)  # an idle machine
    torch.set_num_threads(1)  # the user's choice (like OMP_NUM_THREADS=1)
    probe = _Probe()
    trainer = _fit({"callbacks": [probe]})
    assert set(probe.seen) == {1}
    assert _guards(trainer)[0].history[0]["threads"] == 1
    assert torch.get_num_threads() == 1


@needs_two_cores
def test_guard_restores_threads_when_the_fit_fails(monkeypatch):
    monkeypatch.setattr(threads, "other_runnable", lambda: 3)
    torch.set_num_threads(2)
    probe = _Probe(fail_at=2)
    with pytest.raises(RuntimeError, match="probe stops the fit"):
        _fit({"callbacks": [probe]})
    assert probe.seen == [1, 1, 1]
    assert torch.get_num_threads() == 2


@needs_two_cores
def test_env_var_turns_it_off(monkeypatch):
    monkeypatch.setattr(threads, "other_runnable", lambda: 1)
    monkeypatch.setenv("GANAUG_ADAPTIVE_THREADS", "0")
    assert _guards(build_trainer(None, max_epochs=1)) == []
    torch.set_num_threads(2)
    probe, guard = _Probe(), ThreadGuard()  # even a guard passed by hand stays idle
    _fit({"callbacks": [probe, guard]})
    assert set(probe.seen) == {2} and guard.history == []
    assert torch.get_num_threads() == 2


@needs_two_cores
def test_deterministic_runs_keep_one_thread_count(monkeypatch):
    monkeypatch.setattr(threads, "other_runnable", lambda: 1)
    torch.set_num_threads(2)
    probe = _Probe()
    torch.use_deterministic_algorithms(True)
    try:
        _fit({"callbacks": [probe]})
    finally:
        torch.use_deterministic_algorithms(False)
    assert set(probe.seen) == {2}


def test_without_proc_nothing_changes(monkeypatch):
    monkeypatch.setattr(threads, "other_runnable", lambda: None)  # what a machine without /proc reads
    start = torch.get_num_threads()
    probe = _Probe()
    trainer = _fit({"callbacks": [probe]})
    assert set(probe.seen) == {start} and _guards(trainer)[0].history == []


@needs_two_cores
def test_tabular_augmenter_fit_goes_through_the_guard(monkeypatch):
    from ganaug.augment.tabular import TabularAugmenter
    from ganaug.datasets import load_credit

    monkeypatch.setattr(threads, "other_runnable", lambda: 1)
    X, y = load_credit()
    torch.set_num_threads(2)
    probe = _Probe()
    TabularAugmenter(epochs=1, batch_size=100, embedding_dim=8, generator_dim=(16,), discriminator_dim=(16,), pac=5,
                     random_state=0, trainer={"enable_progress_bar": False, "callbacks": [probe]}).fit(X[:300], y[:300])
    assert probe.seen and set(probe.seen) == {1}
    assert torch.get_num_threads() == 2


def test_guard_checks_its_arguments():
    with pytest.raises(ValueError, match="interval"):
        ThreadGuard(interval=0)
    with pytest.raises(ValueError, match="samples"):
        ThreadGuard(samples=0)
    with pytest.raises(ValueError, match="gap"):
        ThreadGuard(gap=-1)
