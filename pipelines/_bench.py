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
        "command": " ".join([Path(argv[0]).as_posix(), *argv[1:]]),
        "load_before": os.getloadavg()[0],
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS", "unset"),
        "torch_threads": torch.get_num_threads(),
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "t0": time.perf_counter(),
    }


def finish(info: dict) -> dict:
    """Add the load after the run, the wall time, and whether the run's timings count (idle before and after)."""
    out = dict(info)
    out["load_after"] = os.getloadavg()[0]
    out["wall_seconds"] = time.perf_counter() - info["t0"]
    out["timings_count"] = out["load_before"] < IDLE_LOAD and out["load_after"] < IDLE_LOAD
    return out


def markdown(info: dict) -> list[str]:
    """Lines for the head of a results file."""
    dirty = " (with uncommitted changes)" if info.get("dirty") else ""
    verdict = ("timings measured on an idle machine" if info.get("timings_count")
               else "**timings NOT publishable** (machine not idle: load at or above "
                    f"{IDLE_LOAD} before or after); quality numbers are unaffected")
    return [f"- command: `{info['command']}`",
            f"- commit: `{info['commit']}`{dirty}; started {info['started']}; wall {info.get('wall_seconds', 0):.0f} s",
            f"- load average before / after: {info['load_before']:.2f} / {info.get('load_after', float('nan')):.2f} "
            f"on {info['cores']} cores; OMP_NUM_THREADS={info['omp_num_threads']}, torch threads "
            f"{info['torch_threads']}: {verdict}"]
