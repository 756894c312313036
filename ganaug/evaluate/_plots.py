"""Figures of a utility report, drawn on ``matplotlib.figure.Figure`` (no pyplot, no GUI backend)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ganaug.evaluate._metrics import METRIC_LABELS

__all__ = ["arm_colors", "figure_png", "history_figure", "marginals_figure", "metric_bars", "pr_curves"]


def _colors(n: int):
    """Distinct colours without grey (grey is kept for the real data)."""
    from matplotlib import colormaps

    tab10 = colormaps["tab10"]
    base = [tab10(i) for i in (0, 1, 2, 3, 4, 5, 6, 8, 9)]
    if n > len(base):
        tab20 = colormaps["tab20"]
        base += [tab20(i) for i in range(1, 20, 2) if i not in (15,)]
    return [base[i % len(base)] for i in range(n)]


def figure_png(fig: Figure, dpi: int = 110) -> bytes:
    """PNG bytes of a figure."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return buf.getvalue()


def arm_colors(arms: list[str]) -> dict:
    """One colour per arm, the same in every panel of a report."""
    return dict(zip(arms, _colors(len(arms))))


def metric_bars(ax, stats: dict, arms: list[str], metrics: list[str], families: dict, title: str,
                colors: dict | None = None) -> None:
    """Grouped bars: one group per metric, one bar per arm, error bars = std over folds."""
    colors = colors or arm_colors(arms)
    width = 0.8 / max(1, len(arms))
    x = np.arange(len(metrics))
    for i, arm in enumerate(arms):
        means = [stats.get((arm, m), (np.nan, np.nan))[0] for m in metrics]
        stds = [stats.get((arm, m), (np.nan, np.nan))[1] for m in metrics]
        hatch = None if families.get(arm) == "baseline" else "//"
        ax.bar(x - 0.4 + width * (i + 0.5), means, width, yerr=stds, capsize=2, label=arm, color=colors[arm],
               hatch=hatch, edgecolor="white", linewidth=0.4, error_kw={"elinewidth": 0.8})
    ax.set_xticks(x)
    ax.set_xticklabels([METRIC_LABELS.get(m, m) for m in metrics], rotation=20, ha="right", fontsize=8)
    ax.set_ylim(0, 1.25)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_ylabel("test score (mean ± std over folds)", fontsize=8)
    ax.set_title(title, fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, ncol=min(len(arms), 5), loc="upper center", framealpha=0.9)


def pr_curves(ax, curves: dict, prevalence: float, title: str, colors: dict | None = None) -> None:
    """Precision-recall curves, one per arm (``curves[arm] = (y_true_bool, score)`` pooled over folds)."""
    from sklearn.metrics import average_precision_score, precision_recall_curve

    colors = colors or arm_colors(list(curves))
    for arm, (truth, score) in curves.items():
        color = colors[arm]
        precision, recall, _ = precision_recall_curve(truth, score)
        ap = average_precision_score(truth, score)
        ax.plot(recall, precision, color=color, linewidth=1.2, label=f"{arm} (AP {ap:.3f})", drawstyle="steps-post")
    ax.axhline(prevalence, color="grey", linestyle=":", linewidth=1, label=f"chance ({prevalence:.3f})")
    ax.set_xlabel("recall", fontsize=8)
    ax.set_ylabel("precision", fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower left", framealpha=0.8)


def _level_labels(values: pd.Series) -> pd.Series:
    """Values as text labels, missing ones as ``"NaN"`` (integers without a trailing ``.0``)."""
    v = pd.Series(values).reset_index(drop=True)
    if pd.api.types.is_float_dtype(v.dtype) and np.all(np.mod(v.dropna(), 1) == 0):
        v = v.astype("Int64")
    text = v.astype(object).astype(str)
    return text.where(v.notna().to_numpy(), "NaN")


def marginals_figure(real: pd.DataFrame, synthetic: dict, columns: list, title: str, colors: dict | None = None) -> Figure:
    """Real vs synthetic distributions of a few columns (histograms or level frequencies); real in grey."""
    n = len(columns)
    ncols = min(n, 3)
    nrows = int(np.ceil(n / ncols))
    fig = Figure(figsize=(4.2 * ncols, 3.0 * nrows), layout="constrained")
    arm_color = colors or arm_colors(list(synthetic))
    colors = ["0.55"] + [arm_color[name] for name in synthetic]
    for k, col in enumerate(columns):
        ax = fig.add_subplot(nrows, ncols, k + 1)
        values = real[col]
        numeric = pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype)
        if numeric and values.nunique() > 12:
            finite = values.dropna().to_numpy(dtype=float)
            pool = [finite] + [s[col].dropna().to_numpy(dtype=float) for s in synthetic.values()]
            lo, hi = np.nanpercentile(np.concatenate(pool), [0.5, 99.5]) if finite.size else (0.0, 1.0)
            bins = np.linspace(lo, hi if hi > lo else lo + 1, 30)
            ax.hist(np.clip(finite, lo, hi), bins=bins, density=True, color=colors[0], alpha=0.35, label="real")
            for (name, s), color in zip(synthetic.items(), colors[1:]):
                vals = s[col].dropna().to_numpy(dtype=float)
                ax.hist(np.clip(vals, lo, hi), bins=bins, density=True, histtype="step", color=color, linewidth=1.3,
                        label=name)
        else:
            levels = list(_level_labels(values).value_counts().index[:12])
            if numeric:  # few distinct numbers: in numeric order, missing last
                levels = sorted(levels, key=lambda v: (v == "NaN", float(v) if v != "NaN" else 0.0))
            frames = {"real": values, **{name: s[col] for name, s in synthetic.items()}}
            width = 0.8 / len(frames)
            x = np.arange(len(levels))
            for i, ((name, v), color) in enumerate(zip(frames.items(), colors)):
                freq = _level_labels(v).value_counts(normalize=True)
                ax.bar(x - 0.4 + width * (i + 0.5), [freq.get(lv, 0.0) for lv in levels], width, color=color,
                       label=name, alpha=0.8 if name != "real" else 0.45)
            ax.set_xticks(x)
            ax.set_xticklabels([str(lv) for lv in levels], rotation=30, ha="right", fontsize=7)
        ax.set_title(str(col), fontsize=9)
        ax.tick_params(labelsize=7)
        if k == 0:
            ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    return fig


def history_figure(histories: dict, title: str) -> Figure:
    """GAN losses per epoch (mean over the epoch's steps), one panel per arm."""
    n = len(histories)
    fig = Figure(figsize=(4.5 * min(n, 3), 3.0 * int(np.ceil(n / 3))), layout="constrained")
    for k, (name, history) in enumerate(histories.items()):
        ax = fig.add_subplot(int(np.ceil(n / 3)), min(n, 3), k + 1)
        frame = pd.DataFrame(history)
        if "epoch" in frame.columns:
            frame = frame.groupby("epoch").mean(numeric_only=True).reset_index()
            x = frame["epoch"].to_numpy()
            ax.set_xlabel("epoch", fontsize=8)
        else:
            x = np.arange(len(frame))
            ax.set_xlabel("record", fontsize=8)
        for key in ("d_loss", "g_loss", "wasserstein"):
            if key in frame.columns:
                ax.plot(x, frame[key].to_numpy(dtype=float), linewidth=1.1, label=key)
        ax.set_title(name, fontsize=9)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    return fig
