"""What every benchmark records next to its numbers: commit, command, machine load and thread settings.

A timing may be published only when it was measured on an idle machine (load
average below 1.5 on 2 cores before and after), one benchmark at a time under
the benchmark lock (``flock /tmp/ganaug-bench.lock ...``, docs/reliability.md),
in wall seconds, with the commit and the command. :func:`start` and
:func:`finish` collect those facts; :func:`markdown` writes them as the header
of a results file, with a plain verdict on whether the timings count.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: the load average (1 minute) below which timings count, on 2 cores
IDLE_LOAD = 1.5


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def start(argv: list[str] | None = None) -> dict:
    """Facts at the start of a run: commit (and whether the tree had uncommitted changes), command, load, threads."""
    import torch

    argv = sys.argv if argv is None else argv
    return {
        "commit": _git("rev-parse", "--short", "HEAD") or "unknown",
        "dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "dirty_package": bool(_git("status", "--porcelain", "--untracked-files=no", "--", "ganaug")),
        "command": " ".join([Path(argv[0]).as_posix(), *argv[1:]]),
        "load_before": os.getloadavg()[0],
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS", "unset"),
        "torch_threads": torch.get_num_threads(),
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "t0": time.perf_counter(),
    }


#: how long :func:`finish` waits by default for the run's own load to decay; the
#: environment variable ``GANAUG_BENCH_SETTLE`` (seconds) overrides it (the tests set 0)
SETTLE_SECONDS = 120.0


def default_settle() -> float:
    """The settle time :func:`finish` uses when none is passed: ``GANAUG_BENCH_SETTLE`` or 120 s."""
    try:
        return max(0.0, float(os.environ.get("GANAUG_BENCH_SETTLE", SETTLE_SECONDS)))
    except ValueError:
        return SETTLE_SECONDS


def quick_settle() -> float:
    """The settle time of quick, smoke or demo runs: ``GANAUG_BENCH_SETTLE`` where it is set, else 0 (no wait)."""
    return default_settle() if "GANAUG_BENCH_SETTLE" in os.environ else 0.0


def finish(info: dict, settle_seconds: float | None = None) -> dict:
    """Add the wall time, the load after the run, and whether the run's timings count.

    The 1-minute load average right after a run that kept both cores busy is
    about 2 because of the run itself, so the after-check waits (at most
    ``settle_seconds``) for that load to decay below :data:`IDLE_LOAD`. The
    run's own share decays by a factor e per minute; another job that is still
    running keeps the load up, and the run is then marked not idle. Both the
    load at the end and the settled load are recorded. ``settle_seconds=None``
    means :func:`default_settle` (``GANAUG_BENCH_SETTLE`` or 120 s); 0 records
    the load at the end without waiting.
    """
    if settle_seconds is None:
        settle_seconds = default_settle()
    out = dict(info)
    out["wall_seconds"] = time.perf_counter() - info["t0"]
    out["load_at_end"] = os.getloadavg()[0]
    waited = 0.0
    while os.getloadavg()[0] >= IDLE_LOAD and waited < settle_seconds:
        time.sleep(5.0)
        waited += 5.0
    out["load_after"] = os.getloadavg()[0]
    out["settle_seconds"] = waited
    out["settle_limit"] = float(settle_seconds)
    out["timings_count"] = out["load_before"] < IDLE_LOAD and out["load_after"] < IDLE_LOAD
    return out


def facts(info: dict) -> dict:
    """The recorded facts as a JSON-serialisable dict (without the private timer ``t0``)."""
    return {k: v for k, v in info.items() if k != "t0"}


def markdown(info: dict) -> list[str]:
    """Lines for the head of a results file."""
    dirty = ""
    if info.get("dirty"):
        dirty = (" (with uncommitted changes, some in ganaug/)" if info.get("dirty_package")
                 else " (with uncommitted changes outside ganaug/)")
    verdict = ("timings measured on an idle machine" if info.get("timings_count")
               else "**timings NOT publishable** (machine not idle: load at or above "
                    f"{IDLE_LOAD} before or after); quality numbers are unaffected")
    if info.get("settle_limit", SETTLE_SECONDS) <= 0:
        settle = ("measured at the end without settling, so it includes the run's own load; "
                  "GANAUG_BENCH_SETTLE=120 waits for that to decay")
    else:
        settle = (f"at the end {info.get('load_at_end', float('nan')):.2f}, after waiting "
                  f"{info.get('settle_seconds', 0):.0f} s for the run's own load to decay")
    return [f"- command: `{info['command']}`",
            f"- commit: `{info['commit']}`{dirty}; started {info['started']}; wall {info.get('wall_seconds', 0):.0f} s",
            f"- load average before / after: {info['load_before']:.2f} / {info.get('load_after', float('nan')):.2f} "
            f"({settle}) "
            f"on {info['cores']} cores; OMP_NUM_THREADS={info['omp_num_threads']}, torch threads "
            f"{info['torch_threads']}: {verdict}"]


def prepend(path: str | os.PathLike, info: dict) -> None:
    """Put :func:`markdown`'s lines at the head of a results file written earlier in the run.

    For pipelines that write a Markdown file part-way (before :func:`finish`):
    the lines go after the file's first line when that is a heading, else at
    the very top. A missing file is left alone.
    """
    path = Path(path)
    if not path.is_file():
        return
    text = path.read_text(encoding="utf-8")
    first, sep, rest = text.partition("\n")
    head = "\n".join(markdown(info)) + "\n\n"
    if first.startswith("#"):
        text = first + "\n\n" + head + rest.lstrip("\n")
    else:
        text = head + text
    path.write_text(text, encoding="utf-8")
