"""pipelines/_bench.py: the facts every benchmark records (commit, command, load, threads) and its header lines."""

from __future__ import annotations

import json
import os

import pytest


@pytest.fixture()
def bench(import_pipeline):
    return import_pipeline("_bench")


def _load(monkeypatch, value: float) -> None:
    monkeypatch.setattr(os, "getloadavg", lambda: (value, value, value))


def test_idle_run_counts(bench, monkeypatch):
    _load(monkeypatch, 0.2)
    info = bench.start(["pipelines/x.py", "--seeds", "1"])
    assert info["command"] == "pipelines/x.py --seeds 1"
    assert info["commit"] and info["cores"] >= 1 and info["torch_threads"] >= 1
    out = bench.finish(info, settle_seconds=0)
    assert out["timings_count"] is True
    assert out["load_before"] == out["load_after"] == out["load_at_end"] == 0.2
    assert out["settle_seconds"] == 0 and out["wall_seconds"] >= 0
    facts = bench.facts(out)
    assert "t0" not in facts and "t0" in out
    json.dumps(facts)  # JSON-serialisable as stored in the results files
    lines = bench.markdown(out)
    text = "\n".join(lines)
    assert all(line.startswith("- ") for line in lines)
    assert "`pipelines/x.py --seeds 1`" in text and info["commit"] in text
    assert "idle machine" in text and "NOT publishable" not in text
    assert "without settling" in text  # settle 0: the header says so


@pytest.mark.parametrize("before, after", [(2.5, 0.1), (0.1, 2.5)])
def test_high_load_marks_timings_not_publishable(bench, monkeypatch, before, after):
    _load(monkeypatch, before)
    info = bench.start(["pipelines/x.py"])
    _load(monkeypatch, after)
    out = bench.finish(info, settle_seconds=0)
    assert out["timings_count"] is False
    assert "**timings NOT publishable**" in "\n".join(bench.markdown(out))


def test_settle_waits_for_the_load_to_decay(bench, monkeypatch):
    _load(monkeypatch, 0.3)
    info = bench.start(["pipelines/x.py"])
    loads = iter([2.0, 2.0, 1.8, 1.0, 1.0])  # at the end, two checks above the threshold, then idle
    monkeypatch.setattr(os, "getloadavg", lambda: (next(loads),) * 3)
    monkeypatch.setattr(bench.time, "sleep", lambda s: None)
    out = bench.finish(info, settle_seconds=60)
    assert out["load_at_end"] == 2.0 and out["load_after"] == 1.0
    assert out["settle_seconds"] == 10.0 and out["timings_count"] is True
    assert "after waiting 10 s" in "\n".join(bench.markdown(out))


def test_settle_default_from_the_environment(bench, monkeypatch):
    monkeypatch.setenv("GANAUG_BENCH_SETTLE", "0")
    assert bench.default_settle() == 0.0
    monkeypatch.setenv("GANAUG_BENCH_SETTLE", "30")
    assert bench.default_settle() == 30.0
    monkeypatch.delenv("GANAUG_BENCH_SETTLE")
    assert bench.default_settle() == bench.SETTLE_SECONDS == 120.0
    assert bench.quick_settle() == 0.0  # quick, smoke and demo runs: no wait unless the variable asks for one
    monkeypatch.setenv("GANAUG_BENCH_SETTLE", "45")
    assert bench.quick_settle() == 45.0
    monkeypatch.setenv("GANAUG_BENCH_SETTLE", "0")
    _load(monkeypatch, 3.0)  # busy: finish() without settle_seconds must not wait under the tests' setting
    monkeypatch.setattr(bench.time, "sleep", lambda s: pytest.fail("finish() waited"))
    out = bench.finish(bench.start(["pipelines/x.py"]))
    assert out["settle_seconds"] == 0 and out["timings_count"] is False


def test_prepend_puts_the_header_under_the_title(bench, monkeypatch, tmp_path):
    _load(monkeypatch, 0.1)
    out = bench.finish(bench.start(["pipelines/x.py"]), settle_seconds=0)
    titled = tmp_path / "a.md"
    titled.write_text("# Title\n\nbody\n")
    bench.prepend(titled, out)
    lines = titled.read_text().splitlines()
    assert lines[0] == "# Title" and lines[2:2 + 3] == bench.markdown(out) and lines[-1] == "body"
    plain = tmp_path / "b.md"
    plain.write_text("## Part\n")
    bench.prepend(plain, out)
    assert plain.read_text().splitlines()[0] == "## Part"
    untitled = tmp_path / "c.md"
    untitled.write_text("text\n")
    bench.prepend(untitled, out)
    assert untitled.read_text().splitlines()[:3] == bench.markdown(out)
    bench.prepend(tmp_path / "missing.md", out)  # no file: nothing happens
    assert not (tmp_path / "missing.md").exists()
