"""``UtilityReport``: the tidy results of :func:`utility_report`, their summary, verdict and renderings."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ganaug.evaluate._bootstrap import BootstrapPlan, paired_bootstrap
from ganaug.evaluate._fidelity import fidelity_table
from ganaug.evaluate._metrics import METRIC_LABELS
from ganaug.evaluate._plots import arm_colors, figure_png, history_figure, marginals_figure, metric_bars, pr_curves
from ganaug.evaluate.utility import _derive

__all__ = ["UtilityReport"]


def _fmt(v: float, digits: int = 3, sign: bool = False) -> str:
    if v is None or not np.isfinite(v):
        return "n/a"
    return f"{v:+.{digits}f}" if sign else f"{v:.{digits}f}"


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    def esc(s):
        return str(s).replace("|", "\\|")

    lines = ["| " + " | ".join(esc(h) for h in header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


class UtilityReport:
    """Results of :func:`~ganaug.evaluate.utility_report`.

    Attributes
    ----------
    results : DataFrame
        Tidy: one row per ``model, arm, fold, metric`` with its ``value``;
        quality metrics come from the test fold only; ``fit_time`` (downstream
        fit, including the inner CV of the tuned threshold), ``sample_time``
        (the sampler's ``fit_resample``), ``n_synthetic`` and any
        ``synthetic_metrics`` are bookkeeping (no intervals).
    arms : DataFrame
        ``name, family, kind, description`` of every arm (``family`` is
        ``"baseline"`` or ``"augmenter"``).
    models : list of str
    notes : list of str
        Arms skipped and why.
    synthetic : dict
        ``arm -> (X_new, y_new)``: the rows each sampler added in the first fold.
    histories : dict
        ``arm -> history_`` (GAN losses) of the first fold's sampler, where it has one.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from ganaug.datasets import load_hmda
    >>> from ganaug.evaluate import utility_report
    >>> X, y = load_hmda()
    >>> rep = utility_report(LogisticRegression(max_iter=500), X, y, augmenters=[], cv=3, random_state=0,
    ...                      baselines=["none", "random_oversampling"], metrics=["f1"], n_boot=200)
    >>> s = rep.summary()
    >>> list(s.columns)[:6]
    ['model', 'arm', 'family', 'metric', 'mean', 'std']
    >>> rep.to_markdown().startswith("# Utility report")
    True
    """

    def __init__(self, *, results, arms, models, predictions, classes, pos, metrics, n_samples, class_counts,
                 cv_description, seed, n_boot, confidence, notes, synthetic, histories, data):
        self.results = results
        self.arms = pd.DataFrame(arms, columns=["name", "family", "kind", "description"])
        self.models = list(models)
        self.classes = np.asarray(classes)
        self.pos_label = self.classes[pos]
        self.metrics = list(metrics)
        self.n_samples = n_samples
        self.class_counts = np.asarray(class_counts)
        self.cv_description = cv_description
        self.random_state = seed
        self.n_boot = n_boot
        self.confidence = confidence
        self.notes = list(notes)
        self.synthetic = synthetic
        self.histories = histories
        self._pos = pos
        self._preds = predictions
        self._data = data
        self._summary: pd.DataFrame | None = None
        self._png: dict[str, bytes] | None = None
        self._fidelity: tuple[pd.DataFrame, dict] | None = None

    @property
    def _pos_text(self) -> str:
        v = self.pos_label
        return repr(v.item() if isinstance(v, np.generic) else v)

    # ----------------------------------------------------------------- numbers
    @property
    def _families(self) -> dict:
        return dict(zip(self.arms["name"], self.arms["family"]))

    def _arms_of(self, model: str) -> list[str]:
        present = set(self.results.loc[self.results["model"] == model, "arm"])
        return [a for a in self.arms["name"] if a in present]

    def summary(self) -> pd.DataFrame:
        """Mean and std over folds per model, arm and metric, with paired differences to the best baseline.

        For each model and quality metric the *reference* is the baseline arm
        with the best mean; ``diff`` is an arm's mean minus the reference's
        and ``ci_low``/``ci_high`` its paired bootstrap interval (resampling
        folds, then test rows within folds, with the same draws for both
        arms). Timing rows have no difference.

        Returns
        -------
        DataFrame
            Columns ``model, arm, family, metric, mean, std, n_folds,
            reference, diff, ci_low, ci_high``.
        """
        if self._summary is not None:
            return self._summary.copy()
        fams = self._families
        n_classes = self.classes.size
        records = []
        plan = None
        for model in self.models:
            sub = self.results[self.results["model"] == model]
            stats = sub.groupby(["arm", "metric"], sort=False)["value"].agg(["mean", "std", "count"])
            arms = self._arms_of(model)
            if plan is None:
                first = self._preds[(model, arms[0])]
                plan = BootstrapPlan([p.y for p in first], self.n_boot, seed=_derive(self.random_state, 5))
            reps = {
                arm: plan.per_fold_metrics([(p.y, p.pred, p.score) for p in self._preds[(model, arm)]], self._pos,
                                           n_classes, self.metrics)
                for arm in arms
            }
            baselines = [a for a in arms if fams[a] == "baseline"]
            for metric in self.metrics:
                ref = None
                if baselines:
                    ref = max(baselines, key=lambda a: (stats.loc[(a, metric), "mean"], -baselines.index(a)))
                for arm in arms:
                    mean, std, count = stats.loc[(arm, metric)]
                    diff = lo = hi = np.nan
                    if ref is not None:
                        diff = mean - stats.loc[(ref, metric), "mean"]
                        lo, hi = paired_bootstrap(reps[arm][metric], reps[ref][metric], plan, self.confidence)
                    records.append((model, arm, fams[arm], metric, mean, std, int(count), ref, diff, lo, hi))
            bookkeeping = [m for m in dict.fromkeys(sub["metric"]) if m not in self.metrics]
            for metric in bookkeeping:
                for arm in arms:
                    if (arm, metric) in stats.index:
                        mean, std, count = stats.loc[(arm, metric)]
                        records.append((model, arm, fams[arm], metric, mean, std, int(count), None, np.nan, np.nan, np.nan))
        self._summary = pd.DataFrame(
            records,
            columns=["model", "arm", "family", "metric", "mean", "std", "n_folds", "reference", "diff", "ci_low", "ci_high"],
        )
        return self._summary.copy()

    def _verdict_metrics(self) -> list[str]:
        chosen = [m for m in ("f1", "pr_auc") if m in self.metrics]
        return chosen or self.metrics[:1]

    def verdicts(self) -> pd.DataFrame:
        """The comparisons behind :meth:`verdict`, one row per model and verdict metric.

        ``outcome`` is ``"better"`` (interval above zero), ``"worse"``
        (below zero), ``"unclear"`` (covers zero) or ``"no augmenter"``.
        """
        s = self.summary()
        rows = []
        for model in self.models:
            for metric in self._verdict_metrics():
                part = s[(s["model"] == model) & (s["metric"] == metric)]
                cands = part[part["family"] == "augmenter"]
                ref = part["reference"].iloc[0] if len(part) else None
                if cands.empty or ref is None:
                    best = part.sort_values("mean", ascending=False).iloc[0]
                    rows.append((model, metric, None, best["arm"], np.nan, np.nan, np.nan, best["mean"], "no augmenter"))
                    continue
                best = cands.loc[cands["mean"].idxmax()]
                lo, hi = best["ci_low"], best["ci_high"]
                outcome = "better" if lo > 0 else "worse" if hi < 0 else "unclear"
                rows.append((model, metric, best["arm"], ref, best["diff"], lo, hi, best["mean"], outcome))
        return pd.DataFrame(rows, columns=["model", "metric", "arm", "reference", "diff", "ci_low", "ci_high", "mean", "outcome"])

    def verdict(self) -> str:
        """A plain-words verdict per model, computed from :meth:`verdicts` (never hand-written).

        Returns
        -------
        str
            One paragraph per model.
        """
        pct = f"{round(self.confidence * 100):d}%"
        paragraphs = []
        v = self.verdicts()
        n_cands = int((self.arms["family"] == "augmenter").sum())
        for model in self.models:
            part = v[v["model"] == model]
            sentences = []
            for _, r in part.iterrows():
                label = METRIC_LABELS[r["metric"]]
                ci = f"{pct} CI {_fmt(r['ci_low'], sign=True)} to {_fmt(r['ci_high'], sign=True)}"
                if r["outcome"] == "no augmenter":
                    sentences.append(f"The best arm on {label} is {r['reference']} ({_fmt(r['mean'])}); no augmenter was evaluated.")
                elif r["outcome"] == "better":
                    sentences.append(
                        f"{r['arm']} raised {label} by {_fmt(r['diff'])} ({ci}) over the best alternative, {r['reference']}."
                    )
                elif r["outcome"] == "worse" and n_cands > 1:
                    sentences.append(
                        f"No augmenter beat {r['reference']} on {label}: the best, {r['arm']}, was "
                        f"{_fmt(-r['diff'])} lower ({ci})."
                    )
                elif r["outcome"] == "worse":
                    sentences.append(
                        f"{r['arm']} lowered {label} by {_fmt(-r['diff'])} ({ci}) against the best alternative, "
                        f"{r['reference']}."
                    )
                else:
                    sentences.append(
                        f"{r['arm']} did not clearly change {label} against the best alternative, {r['reference']}: "
                        f"{_fmt(r['diff'], sign=True)} ({ci})."
                    )
            judged = part[part["outcome"] != "no augmenter"]
            if not judged.empty:
                better = judged[judged["outcome"] == "better"]
                worse = judged[judged["outcome"] == "worse"]
                ref = judged["reference"].iloc[0]
                if not better.empty and worse.empty:
                    sentences.append(f"Recommendation: augment with {better['arm'].iloc[0]}.")
                elif not better.empty:
                    up = ", ".join(METRIC_LABELS[m] for m in better["metric"])
                    down = ", ".join(METRIC_LABELS[m] for m in worse["metric"])
                    sentences.append(
                        f"Recommendation: mixed result: augmentation helped {up} but hurt {down}; choose by the metric "
                        "that matters to you."
                    )
                else:
                    sentences.append(f"Recommendation: no augmenter clearly beat {ref} on this data; do not augment.")
            paragraphs.append(f"{model}: " + " ".join(sentences))
        return "\n".join(paragraphs)

    def fidelity(self, details: bool = False):
        """How closely each arm's synthetic rows follow the real rows (SDMetrics-style quality scores).

        First fold only, class by class: the rows a resampling arm added for
        class ``c`` against the training fold's real rows of class ``c``,
        scored by :func:`ganaug.metrics.quality.quality_report` (the
        definitions of SDMetrics' single-table ``QualityReport``: KS and
        total-variation complements per column, correlation and contingency
        similarity per column pair, pairs counted where the real data relates
        them). Computed on first use, then kept.

        Parameters
        ----------
        details : bool, default=False
            Also return the per-column and per-pair tables.

        Returns
        -------
        table : DataFrame
            ``arm, class, n_real, n_synthetic, overall, column_shapes,
            column_pair_trends, pairs_counted, pairs, pair_trends_all_pairs (the
            mean over every pair, related in the real data or not), weakest_column,
            weakest_column_score, weakest_pair, weakest_pair_score``; empty when
            the data is not a table or nothing was synthesized.
        details : dict, only with ``details=True``
            ``(arm, class) -> quality_report(...)`` (``columns`` and ``pairs`` DataFrames).
        """
        if self._fidelity is None:
            X, y, splits = self._data
            self._fidelity = fidelity_table(X, y, splits[0][0], self.synthetic)
        table, per = self._fidelity
        return (table.copy(), dict(per)) if details else table.copy()

    def _fidelity_rows(self) -> tuple[list[str], list[list[str]]]:
        table = self.fidelity()
        header = ["arm", "class", "real rows", "synthetic rows", "overall", "column shapes", "column pair trends",
                  "pair trends, all pairs", "weakest column", "weakest pair"]
        rows = []
        for r in table.itertuples(index=False):
            trends = _fmt(r.column_pair_trends) + f" ({r.pairs_counted}/{r.pairs} pairs)"
            wc = "" if r.weakest_column is None else f"{r.weakest_column} ({_fmt(r.weakest_column_score)})"
            wp = "" if r.weakest_pair is None else f"{r.weakest_pair} ({_fmt(r.weakest_pair_score)})"
            rows.append([r.arm, str(r[1]), str(r.n_real), str(r.n_synthetic), _fmt(r.overall), _fmt(r.column_shapes),
                         trends, _fmt(r.pair_trends_all_pairs), wc, wp])
        return header, rows

    _FIDELITY_TEXT = (
        "Synthetic rows of the first fold against the same fold's real training rows of their class, scored as "
        "SDMetrics' quality report does (computed by ganaug.metrics.quality.quality_report): column shapes = mean "
        "KS / total-variation complement per column; column pair trends = mean correlation / contingency "
        "similarity over the pairs related in the real data (|r| > 0.5 or Cramér's V > 0.3), and over all pairs; "
        "overall = mean of column shapes and the first pair-trends score. 1.0 = same distributions; copies of real "
        "rows also score high (see the privacy columns)."
    )

    # --------------------------------------------------------------- rendering
    def _header_lines(self) -> list[str]:
        counts = ", ".join(f"{c} {n}" for c, n in zip(self.classes.tolist(), self.class_counts.tolist()))
        pct = round(self.confidence * 100)
        return [
            f"**Data**: {self.n_samples} rows; classes {counts}; positive (minority) class `{self.pos_label}`.",
            "",
            f"**Evaluation**: {self.cv_description}, seed {self.random_state}. Resampling happens inside each "
            "training fold only; every quality metric is measured on the untouched test fold. Differences are "
            f"paired against the best baseline arm of each metric, with {pct}% intervals from a two-level paired "
            f"bootstrap ({self.n_boot} replicates over folds and test rows).",
        ]

    def _model_tables(self, model: str) -> tuple[list[str], list[list[str]], list[str], list[list[str]]]:
        s = self.summary()
        part = s[s["model"] == model]
        arms = self._arms_of(model)
        present = list(dict.fromkeys(part["metric"]))
        cols = [m for m in (*self.metrics, "fit_time", "sample_time") if m in present]
        cols += [m for m in present if m not in cols and m != "n_synthetic"]  # synthetic_metrics
        idx = part.set_index(["arm", "metric"])
        h1 = ["arm", *[METRIC_LABELS.get(m, m) for m in cols]]
        r1 = []
        for arm in arms:
            row = [arm + ("" if self._families[arm] == "baseline" else " *")]
            for m in cols:
                if (arm, m) not in idx.index:
                    row.append("")
                    continue
                mean, std = idx.loc[(arm, m), "mean"], idx.loc[(arm, m), "std"]
                d = 2 if m.endswith("_time") else 3
                row.append(f"{_fmt(mean, d)} ± {_fmt(std if np.isfinite(std) else 0.0, d)}")
            r1.append(row)
        h2 = ["arm", *[f"Δ {METRIC_LABELS[m]} (vs {idx.loc[(arms[0], m), 'reference']})" for m in self.metrics]]
        r2 = []
        for arm in arms:
            row = [arm + ("" if self._families[arm] == "baseline" else " *")]
            for m in self.metrics:
                r = idx.loc[(arm, m)]
                if r["reference"] == arm:
                    row.append("reference")
                else:
                    row.append(f"{_fmt(r['diff'], sign=True)} [{_fmt(r['ci_low'], sign=True)}, {_fmt(r['ci_high'], sign=True)}]")
            r2.append(row)
        return h1, r1, h2, r2

    def to_markdown(self) -> str:
        """The report as Markdown: data, method, verdict, tables of means and differences per model, fidelity."""
        out = ["# Utility report", "", *self._header_lines(), "", "## Verdict", ""]
        out += [f"- {line}" for line in self.verdict().splitlines()]
        pct = round(self.confidence * 100)
        for model in self.models:
            h1, r1, h2, r2 = self._model_tables(model)
            out += ["", f"## {model}", "", "Mean ± std over folds (test folds only; * = augmenter):", "", _md_table(h1, r1)]
            out += ["", f"Difference to the best baseline, [{pct}% CI]:", "", _md_table(h2, r2)]
        fh, fr = self._fidelity_rows()
        if fr:
            out += ["", "## Fidelity of the synthetic rows", "", self._FIDELITY_TEXT, "", _md_table(fh, fr)]
        out += ["", "## Arms", ""]
        out += [f"- **{r.name}** ({r.family}): {r.description}" for r in self.arms.itertuples()]
        if self.notes:
            out += ["", "## Notes", ""] + [f"- {n}" for n in self.notes]
        return "\n".join(out) + "\n"

    # ----------------------------------------------------------------- figures
    def plot(self, kind: str = "all") -> Figure:
        """Metric bars with error bars (std over folds) and precision-recall curves per arm.

        Parameters
        ----------
        kind : {"all", "metrics", "pr"}
            ``"all"``: one row per model with both panels.

        Returns
        -------
        matplotlib.figure.Figure
        """
        if kind not in ("all", "metrics", "pr"):
            raise ValueError(f"kind must be 'all', 'metrics' or 'pr', got {kind!r}")
        s = self.summary()
        ncols = 2 if kind == "all" else 1
        widths = [2.3, 1.0] if kind == "all" else [1.0]
        fig = Figure(figsize=(5.5 * sum(widths), 4.0 * len(self.models)), layout="constrained")
        grid = fig.add_gridspec(len(self.models), ncols, width_ratios=widths)
        fams = self._families
        colors = arm_colors(list(self.arms["name"]))
        prevalence = float(self.class_counts[self._pos] / self.class_counts.sum())
        for i, model in enumerate(self.models):
            arms = self._arms_of(model)
            part = s[s["model"] == model]
            col = 0
            if kind in ("all", "metrics"):
                stats = {(r.arm, r.metric): (r.mean, 0.0 if not np.isfinite(r.std) else r.std) for r in part.itertuples()}
                metric_bars(fig.add_subplot(grid[i, col]), stats, arms, self.metrics, fams, f"{model}: test metrics",
                            colors)
                col += 1
            if kind in ("all", "pr"):
                curves = {}
                tuned = set(self.arms.loc[self.arms["kind"] == "tuned", "name"])
                for arm in arms:
                    if arm in tuned:  # same scores as "none"; only the threshold differs
                        continue
                    preds = self._preds[(model, arm)]
                    truth = np.concatenate([p.y == self._pos for p in preds])
                    score = np.concatenate([p.score if p.score.ndim == 1 else p.score[:, self._pos] for p in preds])
                    curves[arm] = (truth, score)
                pr_curves(fig.add_subplot(grid[i, col]), curves, prevalence, f"{model}: precision-recall (pooled folds)",
                          colors)
        return fig

    def plot_marginals(self, columns=None, max_columns: int = 6) -> Figure | None:
        """Real vs synthetic distributions of a few columns, positive class, first fold.

        Real rows are the first training fold's rows of the positive class;
        synthetic rows are what each resampling arm added there. ``None`` when
        the data is not a DataFrame or nothing was synthesized.
        """
        X, y, splits = self._data
        if not isinstance(X, pd.DataFrame) or not self.synthetic:
            return None
        tr = splits[0][0]
        real = X.iloc[tr][y[tr] == self.pos_label]
        syn = {}
        for arm, (X_new, y_new) in self.synthetic.items():
            if isinstance(X_new, pd.DataFrame):
                mask = np.asarray(y_new) == self.pos_label
                if mask.any():
                    syn[arm] = X_new[mask]
        if not syn:
            return None
        if columns is None:
            columns = list(X.columns[:max_columns])
        missing = [c for c in columns if c not in X.columns]
        if missing:
            raise ValueError(f"unknown column(s) {missing}")
        return marginals_figure(real, syn, list(columns), f"real vs synthetic rows of class {self._pos_text} (first fold)",
                                arm_colors(list(self.arms["name"])))

    def plot_history(self) -> Figure | None:
        """Loss curves of every sampler that kept a ``history_`` (first fold); ``None`` when none did."""
        if not self.histories:
            return None
        return history_figure(self.histories, "GAN losses (first fold)")

    def figures(self) -> dict[str, Figure]:
        """All figures by file stem: ``metrics``, and where available ``marginals`` and ``losses``."""
        figs = {"metrics": self.plot("all")}
        marg = self.plot_marginals()
        if marg is not None:
            figs["marginals"] = marg
        hist = self.plot_history()
        if hist is not None:
            figs["losses"] = hist
        return figs

    def _figure_pngs(self) -> dict[str, bytes]:
        if self._png is None:  # rendered once for both save_figures and to_html
            self._png = {stem: figure_png(fig) for stem, fig in self.figures().items()}
        return self._png

    def save_figures(self, out_dir) -> list[Path]:
        """Write :meth:`figures` as PNG files into ``out_dir``; returns the paths."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = []
        for stem, png in self._figure_pngs().items():
            path = out / f"{stem}.png"
            path.write_bytes(png)
            paths.append(path)
        return paths

    def to_html(self, path=None) -> str:
        """One self-contained HTML page (figures embedded as PNG data URIs); written to ``path`` when given."""
        esc = html.escape
        body = ["<h1>Utility report</h1>"]
        for line in self._header_lines():
            if line:
                body.append("<p>" + esc(line).replace("**", "") + "</p>")
        body.append("<h2>Verdict</h2><ul>")
        body += [f"<li>{esc(line)}</li>" for line in self.verdict().splitlines()]
        body.append("</ul>")
        pct = round(self.confidence * 100)

        def table(header, rows):
            head = "".join(f"<th>{esc(h)}</th>" for h in header)
            cells = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows)
            return f"<table><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>"

        for model in self.models:
            h1, r1, h2, r2 = self._model_tables(model)
            body.append(f"<h2>{esc(model)}</h2><p>Mean ± std over folds (test folds only; * = augmenter)</p>")
            body.append(table(h1, r1))
            body.append(f"<p>Difference to the best baseline [{pct}% CI]</p>")
            body.append(table(h2, r2))
        fh, fr = self._fidelity_rows()
        if fr:
            body.append(f"<h2>Fidelity of the synthetic rows</h2><p>{esc(self._FIDELITY_TEXT)}</p>")
            body.append(table(fh, fr))
        body.append("<h2>Figures</h2>")
        for stem, png in self._figure_pngs().items():
            data = base64.b64encode(png).decode("ascii")
            body.append(f'<figure><img alt="{esc(stem)}" src="data:image/png;base64,{data}"><figcaption>{esc(stem)}</figcaption></figure>')
        body.append("<h2>Arms</h2><ul>")
        body += [f"<li><b>{esc(r.name)}</b> ({esc(r.family)}): {esc(r.description)}</li>" for r in self.arms.itertuples()]
        body.append("</ul>")
        if self.notes:
            body.append("<h2>Notes</h2><ul>" + "".join(f"<li>{esc(n)}</li>" for n in self.notes) + "</ul>")
        style = (
            "body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}"
            "table{border-collapse:collapse;margin:0.5em 0 1.5em;font-size:0.9em}"
            "th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}th:first-child,td:first-child{text-align:left}"
            "thead{background:#f3f3f3}img{max-width:100%}"
        )
        page = (
            "<!DOCTYPE html><html><head><meta charset='utf-8'><title>ganaug utility report</title>"
            f"<style>{style}</style></head><body>{''.join(body)}</body></html>\n"
        )
        if path is not None:
            Path(path).write_text(page, encoding="utf-8")
        return page

    def __repr__(self) -> str:
        return (
            f"UtilityReport(models={self.models}, arms={list(self.arms['name'])}, "
            f"folds={self.results['fold'].nunique()}, metrics={self.metrics})"
        )
