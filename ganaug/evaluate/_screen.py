"""One terminal screen from a utility report's summary: the verdict per model and a narrow table.

The wide tables (every metric, ± std, timings, all privacy columns) belong in
files (Markdown, CSV, HTML); this is what a person reads at the end of a run.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd

from ganaug.evaluate._metrics import METRIC_LABELS

#: metrics of the narrow table, in order (privacy columns are added when present)
SCREEN_METRICS = ("f1", "pr_auc")
#: synthetic-data columns shown when the summary has them (metric name in the summary -> header)
SCREEN_EXTRAS = {"exact copies": "exact copies", "MIA AUC": "MIA AUC"}


def _num(v, digits: int = 3) -> str:
    return "n/a" if v is None or not np.isfinite(v) else f"{v:.{digits}f}"


def _signed(v, digits: int = 3) -> str:
    return "n/a" if v is None or not np.isfinite(v) else f"{v:+.{digits}f}"


def _share(v) -> str:
    """A share in [0, 1] as a percentage (exact copies)."""
    if v is None or not np.isfinite(v):
        return "n/a"
    pct = 100.0 * v
    return f"{pct:.0f} %" if pct == 0 or pct >= 1 else f"{pct:.1f} %"


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: max(n - 1, 0)] + "…"


def wrap_verdict(verdict: str, width: int = 100) -> list[str]:
    """Each model's verdict paragraph wrapped to ``width``, its recommendation on a line of its own."""
    lines: list[str] = []
    for para in verdict.splitlines():
        if not para.strip():
            continue
        head, sep, rec = para.partition(" Recommendation: ")
        lines += textwrap.wrap(head, width=width, subsequent_indent="    ", break_on_hyphens=False)
        if sep:
            lines += textwrap.wrap("Recommendation: " + rec, width=width, initial_indent="  → ",
                                   subsequent_indent="    ", break_on_hyphens=False)
    return lines


def screen_table(summary: pd.DataFrame, *, delta_metric: str = "pr_auc", extras: dict | None = None,
                 width: int = 100, confidence: float = 0.95) -> list[str]:
    """At most six columns: arm, minority F1, PR-AUC, Δ ``delta_metric`` [CI], exact copies, MIA AUC.

    One block per model (its rows indented under the model's name, augmenters
    marked ``*``); means over folds; privacy columns only when the summary
    has them (``–`` for arms that add no rows).
    """
    extras = SCREEN_EXTRAS if extras is None else extras
    present = set(summary["metric"])
    metrics = [m for m in SCREEN_METRICS if m in present]
    if delta_metric not in present:
        delta_metric = metrics[-1] if metrics else None
    extra_cols = [m for m in extras if m in present]
    pct = f"{round(confidence * 100):d}%"
    head = ["arm", *[METRIC_LABELS.get(m, m) for m in metrics]]
    if delta_metric is not None:
        head.append(f"Δ {METRIC_LABELS.get(delta_metric, delta_metric)} [{pct} CI]")
    head += [extras[m] for m in extra_cols]

    idx = summary.set_index(["model", "arm", "metric"])
    blocks: list[tuple[str, list[list[str]]]] = []
    for model in dict.fromkeys(summary["model"]):
        part = summary[summary["model"] == model]
        ref = None
        if delta_metric is not None:
            refs = part.loc[part["metric"] == delta_metric, "reference"].dropna()
            ref = refs.iloc[0] if len(refs) else None
        title = model if ref is None else f"{model} (Δ against the best simple alternative, {ref})"
        rows = []
        for arm in dict.fromkeys(part["arm"]):
            fam = part.loc[part["arm"] == arm, "family"].iloc[0]
            row = ["  " + arm + (" *" if fam == "augmenter" else "")]
            for m in metrics:
                row.append(_num(idx.loc[(model, arm, m), "mean"]) if (model, arm, m) in idx.index else "")
            if delta_metric is not None:
                key = (model, arm, delta_metric)
                if key not in idx.index:
                    row.append("")
                else:
                    r = idx.loc[key]
                    if r["reference"] == arm:
                        row.append("ref.")
                    elif pd.isna(r["reference"]):
                        row.append("–")
                    else:
                        row.append(f"{_signed(r['diff'])} [{_signed(r['ci_low'])}, {_signed(r['ci_high'])}]")
            for m in extra_cols:
                key = (model, arm, m)
                if key not in idx.index:
                    row.append("–")  # an arm that adds no rows
                else:
                    v = idx.loc[key, "mean"]
                    row.append(_share(v) if "copies" in m else _num(v, 2))
            rows.append(row)
        blocks.append((title, rows))

    all_rows = [r for _, rows in blocks for r in rows]
    widths = [max(len(head[i]), *(len(r[i]) for r in all_rows)) if all_rows else len(head[i]) for i in range(len(head))]
    gap = 2
    room = width - sum(widths[1:]) - gap * (len(head) - 1)
    if widths[0] > room:  # long arm names give way to the numbers
        widths[0] = max(room, 8)

    def line(cells: list[str]) -> str:
        first = _clip(cells[0], widths[0]).ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:])]
        return (" " * gap).join([first, *rest]).rstrip()

    out = [line(head)]
    for title, rows in blocks:
        out.append(_clip(title, width))
        out += [line(r) for r in rows]
    return out


def summary_screen(summary: pd.DataFrame, verdict: str, *, title: str = "", footer=(), delta_metric: str = "pr_auc",
                   extras: dict | None = None, width: int = 100, confidence: float = 0.95) -> str:
    """The end-of-run screen: title, the verdict per model, the narrow table, then ``footer`` lines.

    Parameters
    ----------
    summary : DataFrame
        :meth:`UtilityReport.summary` (columns ``model, arm, family, metric,
        mean, std, n_folds, reference, diff, ci_low, ci_high``).
    verdict : str
        :meth:`UtilityReport.verdict` (one paragraph per model).
    title : str
        First line (data, splits, wall time).
    footer : iterable of str
        Last lines (where the files are); wrapped to ``width`` except for
        words longer than it (paths are never broken).
    width : int, default=100

    Returns
    -------
    str
        Lines no wider than ``width`` (a path longer than ``width`` aside).
    """
    out: list[str] = []
    if title:
        out += textwrap.wrap(title, width=width, break_on_hyphens=False) + [""]
    out += ["Verdict"]
    out += ["  " + v for v in wrap_verdict(verdict, width - 2)]
    out += [""]
    out += screen_table(summary, delta_metric=delta_metric, extras=extras, width=width, confidence=confidence)
    if footer:
        out.append("")
        for text in footer:
            out += textwrap.wrap(text, width=width, break_long_words=False, break_on_hyphens=False) or [""]
    return "\n".join(out)
