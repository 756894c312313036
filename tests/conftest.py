"""Shared fixtures: paths to the real data in ../shared/data, quiet and repeatable runs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("GANAUG_PROGRESS", "0")
# pipelines/_bench.finish waits (120 s by default) for a run's own load to decay: not in tests
os.environ.setdefault("GANAUG_BENCH_SETTLE", "0")
# ThreadGuard lowers torch threads while other processes are busy; the thread count changes float
# rounding, so tests that compare two fits bit for bit run with a fixed count (tests/core/test_threads.py
# switches it back on)
os.environ.setdefault("GANAUG_ADAPTIVE_THREADS", "0")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture()
def import_pipeline(monkeypatch):
    """``import_pipeline("name")``: a fresh import of ``pipelines/name.py`` (pipelines/ on sys.path for the test)."""
    import importlib
    import sys

    monkeypatch.syspath_prepend(str(REPO / "pipelines"))

    def load(name: str):
        monkeypatch.delitem(sys.modules, name, raising=False)
        return importlib.import_module(name)

    return load


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder of the real development data (``../shared/data``)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder not found at {SHARED_DATA}")
    return SHARED_DATA
