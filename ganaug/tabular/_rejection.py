"""Rejection sampling of table rows with per-row targets, vectorised.

``draw_valid`` asks a generator for candidate rows for the target rows still
missing, keeps the first valid candidate of each target and retries the rest,
with more candidates per target when few pass (the share of valid candidates
so far sets the oversampling factor). No loop over rows: each round is one
draw and one vectorised check.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

__all__ = ["RejectionError", "draw_valid"]

#: at most this many candidate rows per round (memory bound)
MAX_CANDIDATES = 1_000_000
#: at most this many candidates per missing row and round
MAX_FACTOR = 10_000
#: once rows were rejected, draw at least this many candidates per round (cheap, and a few hard rows finish)
MIN_CANDIDATES = 4096
#: rounds and candidates without a single valid one after which the draw is hopeless
_BARREN_ROUNDS = 3
_BARREN_CANDIDATES = 100_000
#: while no candidate has passed, at most this many candidates per missing row (the rate is unknown)
_BLIND_FACTOR = 100


class RejectionError(ValueError):
    """Too few generated rows satisfy the constraints and conditions to finish."""


def draw_valid(draw: Callable[[np.ndarray, int], pd.DataFrame], check: Callable[[pd.DataFrame, np.ndarray], np.ndarray],
               describe: Callable[[pd.DataFrame, np.ndarray], str], n: int, seed: int, max_tries: int) -> pd.DataFrame:
    """``n`` rows, row ``i`` drawn for target ``i`` and valid for it.

    Parameters
    ----------
    draw : callable
        ``draw(targets, seed)``: one candidate row per entry of ``targets``
        (target indices in ``0..n-1``, repeated when oversampling).
    check : callable
        ``check(frame, targets)``: bool mask of the valid candidates.
    describe : callable
        ``describe(frame, targets)``: which rules the candidates break, for the error.
    n : int
    seed : int
    max_tries : int
        Rounds of drawing before giving up.

    Returns
    -------
    DataFrame
        ``n`` rows with a fresh RangeIndex.

    Raises
    ------
    RejectionError
        When rows are still missing after ``max_tries`` rounds, or no candidate
        at all was valid in the first rounds.
    """
    rng = np.random.default_rng(seed)
    pending = np.arange(n)
    pieces, targets = [], []
    drawn = accepted = 0
    last, rate = None, 1.0
    for attempt in range(int(max_tries)):
        # the last round's share of valid candidates: the rate of the rows still missing (the hard ones)
        factor = 1
        if attempt:  # after a rejection: enough candidates that the missing rows likely finish this round
            factor = min(MAX_FACTOR, math.ceil(1.25 / rate))
            if accepted == 0:
                factor = min(factor, _BLIND_FACTOR)
            factor = max(factor, math.ceil(MIN_CANDIDATES / len(pending)))
        factor = max(1, min(factor, MAX_CANDIDATES // max(len(pending), 1)))
        idx = np.repeat(pending, factor)
        frame = draw(idx, int(rng.integers(2**31 - 1)))
        ok = np.asarray(check(frame, idx), dtype=bool)
        if attempt == 0 and ok.all():  # the common case (one candidate per row, all valid): no copy
            return frame.reset_index(drop=True)
        drawn += len(idx)
        accepted += int(ok.sum())
        rate = max(float(ok.sum()), 0.5) / max(len(idx), 1)
        last = (frame, idx)
        hit = np.flatnonzero(ok)
        got, first = np.unique(idx[hit], return_index=True)
        if got.size:
            pieces.append(frame.iloc[hit[first]])
            targets.append(got)
            pending = pending[~np.isin(pending, got)]
        if not pending.size:
            break
        if accepted == 0 and attempt + 1 >= _BARREN_ROUNDS and drawn >= _BARREN_CANDIDATES:
            break
    if pending.size:
        rate = accepted / max(drawn, 1)
        raise RejectionError(
            f"could not generate {pending.size} of {n} rows that satisfy the constraints and conditions: "
            f"{accepted} of {drawn} candidate rows passed ({rate:.3%}) in {attempt + 1} round(s) (max_tries="
            f"{max_tries}); rules broken by the last candidates: {describe(*last)}. Loosen the conditions, "
            "check that the constraints agree with each other, train longer, or raise max_tries")
    out = pd.concat(pieces, ignore_index=True) if len(pieces) > 1 else pieces[0].reset_index(drop=True)
    order = np.argsort(np.concatenate(targets), kind="stable")
    return out.iloc[order].reset_index(drop=True)
