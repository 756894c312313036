"""Benchmark: few labelled anomalies (ADBench's weakly supervised setting) on the classical ADBench sets.

Protocol (Han et al., ADBench, NeurIPS 2022, "weakly supervised"), per set and seed:

* stratified 70/30 split; features standardised on the training rows;
* of the training anomalies, a ratio ``gamma`` stays labelled (at least one
  row, :func:`ganaug.anomaly.fewlabel.mask_labels`; the labelled sets are nested
  across gammas); every other training anomaly stays in the training data,
  *unlabelled* (y = 0);
* every arm scores the held-out 30 %: ROC-AUC and average precision (AP).

Arms:

``IForest``, ``ECOD``           pyod, unsupervised (fitted on all training rows, no labels)
``ganaug unsupervised``         ``GANAnomalyDetector`` with its defaults, fitted on all training rows, no labels
``HGB``                         ``HistGradientBoostingClassifier`` on the partially labelled rows
``HGB+ROS``, ``HGB+SMOTE``      the same after imbalanced-learn's ``RandomOverSampler`` / ``SMOTE`` (balanced;
                                SMOTE's ``k_neighbors = min(5, n_labelled - 1)``; with one labelled anomaly SMOTE
                                cannot run and the arm falls back to RandomOverSampler, flagged in the runs table)
``HGB+ganaug``                  the same HGB after ganaug-generated anomalies (label-conditioned ``TabularAugmenter``,
                                balanced): ``FewLabelAnomalyDetector(detector=None)``'s score
``ganaug label-aware``          ``FewLabelAnomalyDetector``: the GAN detector's score and HGB+ganaug's, blended by
                                their quantiles with weight ``n_labelled / (n_labelled + 5)`` on the supervised one

The unsupervised arms do not depend on gamma: each is fitted once per set and
seed and its numbers repeat across gammas. To share that cost, the label-aware
arm uses the same fitted GAN detector (``prefit_detector=True``: fitted on all
training rows, no labels) instead of refitting it on the unlabelled rows, and
HGB+ganaug is read from the same fit (``score_components``), so the two ganaug
arms see the very same generated anomalies. pyod and imbalanced-learn's
samplers are imported here only, as the comparison.

Run::

    env OMP_NUM_THREADS=1 .venv/bin/python pipelines/anomaly_fewlabel_benchmark.py --seeds 1 \\
        --out results/anomaly_fewlabel_benchmark
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from _adbench import DEFAULT_SETS, load_set, quiet, split_scale
from _privacy_columns import PRIVACY_METRICS
ARMS = ["IForest", "ECOD", "ganaug unsupervised", "HGB", "HGB+ROS", "HGB+SMOTE", "HGB+ganaug", "ganaug label-aware"]
GANAUG_ARMS = ["ganaug unsupervised", "HGB+ganaug", "ganaug label-aware"]
#: Nemenyi test, two-tailed alpha = 0.05, critical values q_alpha by number of arms (Demsar 2006, table 5)
NEMENYI_Q05 = {2: 1.960, 3: 2.343, 4: 2.569, 5: 2.728, 6: 2.850, 7: 2.949, 8: 3.031, 9: 3.102, 10: 3.164}


def _hgb(seed: int):
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(random_state=seed)


#: privacy_report keys kept as columns of the runs table (NaN for arms that add no rows)
PRIVACY_COLUMNS = {**PRIVACY_METRICS, "n_members": "members"}


#: fewer labelled anomalies than this: no membership-attack AUC (reported empty)
MIN_MEMBERS = 10


def _privacy(Ztr, y_lab, X_added, Zte, yte, seed) -> dict:
    """Memorisation of the added anomalies: against the training rows, fresh held-out anomalies as reference.

    Like for like: the holdout is restricted to held-out anomalies and the
    attack's members to the *labelled* training anomalies (the rows the
    sampler learnt the anomaly class from).
    """
    from ganaug.privacy import privacy_report

    X_added = np.asarray(X_added, dtype=np.float64)
    if len(X_added) == 0:
        return {}
    rep = privacy_report(Ztr, X_added, Zte, y_lab, np.ones(len(X_added), dtype=np.int64), yte, random_state=seed)
    rep["n_members"] = int(y_lab.sum())
    if rep["n_members"] < MIN_MEMBERS:  # an AUC over a handful of members says nothing (1 member: 0, 0.5 or 1)
        rep["mia_auc"] = float("nan")
    return rep


def _privacy_columns(privacy: dict | None) -> dict:
    privacy = privacy or {}
    return {key: float(privacy.get(key, np.nan)) for key in PRIVACY_COLUMNS}


def privacy_table(df: pd.DataFrame) -> pd.DataFrame:
    """Mean over sets and seeds of the privacy columns, per sampler arm and gamma."""
    have = df.dropna(subset=["dcr_ratio"]) if "dcr_ratio" in df else df.iloc[0:0]
    if have.empty:
        return pd.DataFrame()
    cols = list(PRIVACY_COLUMNS)
    tab = have.groupby(["arm", "gamma"])[cols].mean().rename(columns=PRIVACY_COLUMNS)
    tab["runs"] = have.groupby(["arm", "gamma"]).size()
    tab["MIA runs"] = have.groupby(["arm", "gamma"])["mia_auc"].count()
    return tab


def run(sets, seeds, gammas, max_train, log, with_privacy: bool = True) -> pd.DataFrame:
    from imblearn.over_sampling import SMOTE, RandomOverSampler
    from pyod.models.ecod import ECOD
    from pyod.models.iforest import IForest
    from sklearn.metrics import average_precision_score, roc_auc_score

    from ganaug.anomaly import GANAnomalyDetector
    from ganaug.anomaly.fewlabel import FewLabelAnomalyDetector, mask_labels

    rows = []
    for name in sets:
        X, y = load_set(name)
        for seed in seeds:
            Ztr, Zte, ytr, yte = split_scale(X, y, seed, max_train=max_train)
            contamination = float(min(max(ytr.mean(), 0.01), 0.5))

            def record(arm, scores, secs, gamma, n_lab, note="", privacy=None):
                s = np.asarray(scores, dtype=np.float64)
                if not np.isfinite(s).all():
                    log(f"  {name} seed {seed} {arm}: non-finite scores, counted as failed")
                    return
                rows.append({"set": name, "seed": seed, "gamma": gamma, "arm": arm, "n_labelled": n_lab,
                             "roc_auc": roc_auc_score(yte, s), "ap": average_precision_score(yte, s),
                             "seconds": secs, "n_train": len(Ztr), "anomaly_share": float(yte.mean()),
                             "note": note, **_privacy_columns(privacy)})

            unsup = {}
            for arm in ("IForest", "ECOD", "ganaug unsupervised"):
                t0 = time.perf_counter()
                with quiet():
                    if arm == "IForest":
                        det = IForest(contamination=contamination, random_state=seed)
                    elif arm == "ECOD":
                        det = ECOD(contamination=contamination)
                    else:
                        det = GANAnomalyDetector(contamination=contamination, random_state=seed)
                    det.fit(Ztr)
                    unsup[arm] = (det, det.decision_function(Zte), time.perf_counter() - t0)
            for gamma in gammas:
                y_lab = mask_labels(ytr, gamma, random_state=seed)
                n_lab = int(y_lab.sum())
                for arm, (_, s, secs) in unsup.items():
                    record(arm, s, secs, gamma, n_lab)
                for arm in ("HGB", "HGB+ROS", "HGB+SMOTE"):
                    t0 = time.perf_counter()
                    note, privacy = "", None
                    Xf, yf = Ztr, y_lab
                    with quiet():
                        if arm == "HGB+ROS" or (arm == "HGB+SMOTE" and n_lab < 2):
                            note = "ROS fallback (1 label)" if arm == "HGB+SMOTE" else ""
                            Xf, yf = RandomOverSampler(random_state=seed).fit_resample(Ztr, y_lab)
                        elif arm == "HGB+SMOTE":
                            Xf, yf = SMOTE(k_neighbors=min(5, n_lab - 1), random_state=seed).fit_resample(Ztr, y_lab)
                        clf = _hgb(seed).fit(Xf, yf)
                        s = clf.predict_proba(Zte)[:, 1]
                    secs = time.perf_counter() - t0
                    if with_privacy and arm != "HGB":
                        privacy = _privacy(Ztr, y_lab, Xf[len(Ztr):], Zte, yte, seed)
                    record(arm, s, secs, gamma, n_lab, note, privacy)
                t0 = time.perf_counter()
                with quiet():
                    few = FewLabelAnomalyDetector(contamination=contamination, detector=unsup["ganaug unsupervised"][0],
                                                  prefit_detector=True, random_state=seed).fit(Ztr, y_lab)
                    comp = few.score_components(Zte)
                    s_aware = few.decision_function(Zte)
                secs = time.perf_counter() - t0
                privacy = None
                if with_privacy and few.augmenter_ is not None and few.n_synthetic_ > 0:
                    # a fresh draw of as many anomalies from the same fitted generator (the fit's own draw is not kept)
                    X_syn, _ = few.augmenter_.sample({1: few.n_synthetic_}, random_state=seed)
                    privacy = _privacy(Ztr, y_lab, np.asarray(X_syn, dtype=np.float64), Zte, yte, seed)
                record("HGB+ganaug", comp["supervised"].to_numpy(), secs, gamma, n_lab, privacy=privacy)
                record("ganaug label-aware", s_aware, secs + unsup["ganaug unsupervised"][2], gamma, n_lab)
                done = [r for r in rows if r["set"] == name and r["seed"] == seed and r["gamma"] == gamma]
                log(f"  {name} seed {seed} gamma {gamma:g} ({n_lab} labelled): "
                    + ", ".join(f"{r['arm']} {r['ap']:.3f}" for r in done))
    return pd.DataFrame(rows)


# ----------------------------------------------------------------- report
def _md_table(frame: pd.DataFrame, index: bool = True) -> str:
    frame = frame.reset_index() if index else frame
    cols = [str(c) for c in frame.columns]
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in frame.iterrows():
        out.append("| " + " | ".join("" if (isinstance(v, float) and np.isnan(v)) else
                                     (f"{v:.3f}" if isinstance(v, float) else str(v)) for v in r.tolist()) + " |")
    return "\n".join(out)


def set_means(df: pd.DataFrame) -> pd.DataFrame:
    """Mean over seeds per (gamma, set, arm)."""
    return df.groupby(["gamma", "set", "arm"])[["roc_auc", "ap", "seconds"]].mean().reset_index()


def overall(df: pd.DataFrame) -> pd.DataFrame:
    sm = set_means(df)
    ap = sm.pivot_table(index="arm", columns="gamma", values="ap").reindex(ARMS)
    roc = sm.pivot_table(index="arm", columns="gamma", values="roc_auc").reindex(ARMS)
    ap.columns = [f"AP γ={g:g}" for g in ap.columns]
    roc.columns = [f"ROC γ={g:g}" for g in roc.columns]
    secs = sm.groupby("arm")["seconds"].mean().reindex(ARMS).rename("seconds")
    return pd.concat([ap, roc, secs], axis=1)


def mean_ranks(df: pd.DataFrame, metric: str = "ap") -> tuple[pd.DataFrame, list[str]]:
    """Critical-difference style table: mean rank of each arm over sets (1 = best), Friedman p, Nemenyi CD."""
    from scipy.stats import friedmanchisquare

    sm = set_means(df)
    out, notes = {}, []
    for gamma, part in sm.groupby("gamma"):
        wide = part.pivot(index="set", columns="arm", values=metric).reindex(columns=ARMS).dropna()
        ranks = wide.rank(axis=1, ascending=False, method="average")
        out[f"γ={gamma:g}"] = ranks.mean()
        k, n = wide.shape[1], wide.shape[0]
        p = friedmanchisquare(*[wide[c].to_numpy() for c in wide.columns]).pvalue if n > 1 else float("nan")
        cd = NEMENYI_Q05.get(k, float("nan")) * np.sqrt(k * (k + 1) / (6.0 * n))
        notes.append(f"γ={gamma:g}: {n} sets, Friedman p = {p:.2g}, Nemenyi critical difference (α=0.05) = {cd:.2f}")
    return pd.DataFrame(out).reindex(ARMS), notes


def per_set(df: pd.DataFrame, gamma: float) -> pd.DataFrame:
    sm = set_means(df)
    wide = sm[sm["gamma"] == gamma].pivot(index="set", columns="arm", values="ap").reindex(columns=ARMS)
    best_g = wide[GANAUG_ARMS].max(axis=1)
    wide["best ganaug − SMOTE"] = best_g - wide["HGB+SMOTE"]
    wide["best arm"] = wide[ARMS].idxmax(axis=1)
    return wide


def verdict(df: pd.DataFrame, gammas=(0.01, 0.05)) -> list[str]:
    sm = set_means(df)
    lines = []
    for g in gammas:
        part = sm[np.isclose(sm["gamma"], g)]
        if part.empty:
            continue
        means = part.groupby("arm")["ap"].mean().reindex(ARMS).dropna()
        best = means.idxmax()
        wide = part.pivot(index="set", columns="arm", values="ap")
        g_best = means[GANAUG_ARMS].idxmax()
        wins = int((wide[g_best] > wide["HGB+SMOTE"]).sum())
        ok = best in GANAUG_ARMS and means[best] > means["HGB+SMOTE"]
        lines.append(
            f"- γ = {g:g}: best mean AP **{best}** ({means[best]:.3f}); best ganaug arm {g_best} "
            f"{means[g_best]:.3f} vs HGB+SMOTE {means['HGB+SMOTE']:.3f} (ganaug better on {wins}/{len(wide)} sets); "
            f"goal {'met' if ok else 'NOT met'}")
    return lines


def plot_ap(df: pd.DataFrame, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sm = set_means(df)
    mean = sm.groupby(["arm", "gamma"])["ap"].mean().unstack("gamma").reindex(ARMS)
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    for arm, row in mean.iterrows():
        style = "-" if arm in GANAUG_ARMS else "--"
        ax.plot(100 * row.index.to_numpy(), row.to_numpy(), style, marker="o", label=arm,
                lw=2.2 if arm in GANAUG_ARMS else 1.3)
    ax.set_xscale("log")
    ax.set_xticks(100 * mean.columns.to_numpy())
    ax.set_xticklabels([f"{100 * g:g} %" for g in mean.columns])
    ax.set_xlabel("γ: share of training anomalies labelled")
    ax.set_ylabel("mean average precision (held-out 30 %)")
    ax.set_title(f"AP against γ, mean over {sm['set'].nunique()} ADBench sets")
    ax.legend(fontsize=8, loc="best")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="results/anomaly_fewlabel_benchmark")
    ap.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1")
    ap.add_argument("--seed-list", default="", help="explicit comma-separated seeds (overrides --seeds)")
    ap.add_argument("--merge", default="",
                    help="runs.csv of an earlier run (same protocol) whose rows are added to the report")
    ap.add_argument("--sets", default=",".join(DEFAULT_SETS), help="comma-separated ADBench file stems")
    ap.add_argument("--gammas", default="0.01,0.05,0.1")
    ap.add_argument("--max-train", type=int, default=0,
                    help="stratified cap on the training rows per set (0 = no cap)")
    ap.add_argument("--no-privacy", action="store_true",
                    help="skip the privacy columns (DCR ratio, exact copies, membership-attack AUC) of the added rows")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("GANAUG_PROGRESS", "0")
    seeds = [int(v) for v in args.seed_list.split(",") if v] or list(range(args.seeds))
    sets = [s for s in args.sets.split(",") if s]
    gammas = [float(g) for g in args.gammas.split(",") if g]
    t_start = time.perf_counter()
    df = run(sets, seeds, gammas, args.max_train or None, lambda m: print(m, flush=True),
             with_privacy=not args.no_privacy)
    if args.merge:
        old = pd.read_csv(args.merge, keep_default_na=False, na_values=[""])
        old["note"] = old["note"].fillna("")
        old = old[old["set"].isin(sets) & old["gamma"].isin(gammas) & ~old["seed"].isin(seeds)]
        df = pd.concat([old, df], ignore_index=True)
        seeds = sorted(df["seed"].unique().tolist())
    df.to_csv(out / "runs.csv", index=False)
    ov = overall(df)
    ranks, rank_notes = mean_ranks(df)
    plot_ap(df, out / "ap_vs_gamma.png")
    cmd = " ".join([Path(sys.argv[0]).as_posix(), *(argv if argv is not None else sys.argv[1:])])
    md = ["# Few labelled anomalies: ADBench weakly supervised protocol", "",
          f"Command: `{cmd}`", "",
          f"Sets: {len(sets)}; seeds: {seeds}; γ: {gammas}; training cap: {args.max_train or 'none'}. "
          "Held-out 30 % of every set (stratified, per seed). Numbers are means over seeds, then over sets.", "",
          "## Mean over sets", "", _md_table(ov.round(3)), "",
          "## Mean rank by AP (1 = best; critical-difference style)", "", _md_table(ranks.round(2)), "",
          *[f"- {n}" for n in rank_notes], "", "## Goal: a ganaug arm best at γ = 1 % and 5 %, above HGB+SMOTE", "",
          *verdict(df), ""]
    priv = privacy_table(df)
    if not priv.empty:
        md += ["## Privacy of the added anomalies (mean over sets and seeds)", "",
               "`privacy_report` of the rows each sampler adds, against the training rows; the reference is "
               "the held-out anomalies, the attack's members the labelled training anomalies (`members`: "
               f"their mean count; the attack AUC is left out of runs with fewer than {MIN_MEMBERS} members, "
               "`MIA runs` counts the others, and it is noisy even then). HGB+ganaug: a fresh draw of as many "
               "anomalies from the same fitted generator.", "",
               _md_table(priv.round(3)), ""]
    for g in gammas:
        md += [f"## Per set, AP at γ = {g:g}", "", _md_table(per_set(df, g)), ""]
    fallback = df[df["note"] != ""][["set", "seed", "gamma"]].drop_duplicates()
    if len(fallback):
        md += [f"HGB+SMOTE fell back to RandomOverSampler (one labelled anomaly) in {len(fallback)} of "
               f"{len(df[['set', 'seed', 'gamma']].drop_duplicates())} (set, seed, γ) runs.", ""]
    md += ["![AP against gamma](ap_vs_gamma.png)", "", f"Total time: {time.perf_counter() - t_start:.0f} s"]
    (out / "results.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    print(ov.round(3).to_string())
    print(ranks.round(2).to_string())
    print("\n".join(verdict(df)))
    print(f"wrote {out / 'results.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
