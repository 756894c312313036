"""Progress of a utility report: a tqdm bar in a terminal, plain lines in a pipe or a log."""

from __future__ import annotations

import sys
import time


class LineProgress:
    """The part of tqdm's interface the report uses, printed as one plain line per step.

    A line is written when a step starts (``set_postfix_str``), so a log shows
    what is running now, how many steps are done and the time so far, e.g.
    ``utility report: 5/24 done, 41 s: fold 1/3, ganaug``. No carriage
    returns, no ANSI codes: safe in a pipe, a CI log or ``tee``.
    """

    def __init__(self, total: int, desc: str = "utility report", file=None):
        self.total = int(total)
        self.desc = desc
        self.n = 0
        self.file = file
        self._t0 = time.perf_counter()

    def _write(self, text: str) -> None:
        out = self.file if self.file is not None else sys.stderr
        print(text, file=out, flush=True)

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        self._write(f"{self.desc}: {self.n}/{self.total} done, {time.perf_counter() - self._t0:.0f} s: {s}")

    def update(self, n: int = 1) -> None:
        self.n += int(n)

    def close(self) -> None:
        self._write(f"{self.desc}: {self.n}/{self.total} done, {time.perf_counter() - self._t0:.0f} s")


def progress_bar(total: int, mode, desc: str = "utility report"):
    """A tqdm bar (``mode`` true), a :class:`LineProgress` (``mode == "lines"``) or a disabled tqdm (false)."""
    from tqdm.auto import tqdm

    if isinstance(mode, str):
        if mode != "lines":
            raise ValueError(f"progress must be True, False, None or 'lines', got {mode!r}")
        return LineProgress(total, desc)
    return tqdm(total=total, desc=desc, unit="fit", disable=not mode)
