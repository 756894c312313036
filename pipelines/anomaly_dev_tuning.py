"""Design study of the table anomaly detectors on the *development* ADBench sets only (never the benchmark sets).

Each (set, seed): stratified 70/30 split, standardised on the training rows,
every detector fitted on all training rows (unlabelled, contaminated) and
scored on the held-out 30 %. Component scores are cached in ``--cache`` so
that combinations and few-label variants can be compared without refitting.

Two steps, as the detector defaults were chosen (docs/anomaly.md, docs/anomaly_fewlabel.md)::

    # 1. cache each member's scores (iforest, ecod, knn, and the GAN detector's components)
    env OMP_NUM_THREADS=1 .venv/bin/python pipelines/anomaly_dev_tuning.py --members iforest,ecod,knn
    env OMP_NUM_THREADS=1 .venv/bin/python pipelines/anomaly_dev_tuning.py --members gan --refresh gan \
        --gan-params '{"score": "neighbor", "members": ["gan"], "n_estimators": 1, "max_samples": 1024}'
    # 2. compare ensembles (no labels) and few-label variants (gamma 1/5/10 %) on the cache
    env OMP_NUM_THREADS=1 .venv/bin/python pipelines/anomaly_dev_tuning.py --report

Step 2 prints mean ROC-AUC / AP over the development sets of every member,
every sum of 2-3 standardised members (z: median/IQR on the training rows;
q: training quantiles), and of the few-label variants: HGB on the partial
labels, HGB + SMOTE, HGB (balanced class weights or not) on the rows plus the
members' scores, and their label-aware blends with the unsupervised score for
several ``prior_strength`` values.

Step 1 adds the facts of its run (commit, command, machine load, threads,
wall time: ``_bench``) to ``--cache/bench.json``, as the cached ``sec_*``
timings come from those runs; step 2 prints them first.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from _adbench import DEV_SETS, load_set, quiet, split_scale

#: large dev sets are subsampled (as in the detector's own tuning, see docs/anomaly.md)
DEV_MAX_ROWS = 6000


def unsupervised_components(Ztr, Zte, seed, only=None, gan_params=None) -> dict[str, tuple[np.ndarray, np.ndarray, float]]:
    """name -> (train scores, test scores, seconds) of each member the detectors can use."""
    from ganaug.anomaly import GANAnomalyDetector
    from ganaug.anomaly.classical import ECODScorer, IsolationScorer, NearestNeighborScorer

    out = {}
    members = {
        "iforest": lambda: IsolationScorer(random_state=seed),
        "ecod": lambda: ECODScorer(),
        "knn": lambda: NearestNeighborScorer(random_state=seed),
        "gan": lambda: GANAnomalyDetector(random_state=seed, **(gan_params or {})),
    }
    for name, make in members.items():
        if only and name not in only:
            continue
        t0 = time.perf_counter()
        with quiet():
            det = make().fit(Ztr)
            s_tr = det.decision_function(Ztr)
            s_te = det.decision_function(Zte)
        out[name] = (np.asarray(s_tr, float), np.asarray(s_te, float), time.perf_counter() - t0)
        if name == "gan" and hasattr(det, "score_components"):
            with quiet():
                ctr, cte = det.score_components(Ztr), det.score_components(Zte)
            for c in ctr.columns:
                out[f"gan_{c}"] = (ctr[c].to_numpy(), cte[c].to_numpy(), 0.0)
    return out


def _z(tr: np.ndarray, te: np.ndarray) -> np.ndarray:
    from ganaug.anomaly.classical import robust_stats

    st = robust_stats(tr)
    return (te - st["median"]) / st["iqr"]


def _q(ref: np.ndarray, s: np.ndarray) -> np.ndarray:
    r = np.sort(ref)
    return np.searchsorted(r, s, side="right") / len(r)


def _cached(cache: Path):
    for f in sorted(cache.glob("*.npz")):
        name, seed = f.stem.rsplit("_", 1)
        yield name, int(seed), dict(np.load(f))


def report_unsupervised(cache: Path) -> pd.DataFrame:
    """Mean over sets of ROC-AUC / AP for each member and each sum of 2-3 standardised members."""
    import itertools

    from sklearn.metrics import average_precision_score, roc_auc_score

    members = ["iforest", "ecod", "knn", "gan_neighbor", "gan_discriminator"]
    rows = []
    for name, seed, d in _cached(cache):
        have = [m for m in members if f"te_{m}" in d]
        for r in range(1, 4):
            for combo in itertools.combinations(have, r):
                s = sum(_z(d[f"tr_{m}"], d[f"te_{m}"]) for m in combo)
                rows.append({"set": name, "seed": seed, "arm": "+".join(combo),
                             "roc_auc": roc_auc_score(d["yte"], s), "ap": average_precision_score(d["yte"], s)})
    df = pd.DataFrame(rows)
    return df.groupby(["set", "arm"])[["roc_auc", "ap"]].mean().groupby("arm").mean().sort_values("roc_auc")


def report_fewlabel(cache: Path, members=("iforest", "knn", "gan_neighbor"), gammas=(0.01, 0.05, 0.1)) -> pd.DataFrame:
    """Few-label variants on the cached members: mean AP / ROC-AUC per gamma."""
    import warnings

    from imblearn.over_sampling import SMOTE, RandomOverSampler
    from sklearn.ensemble import HistGradientBoostingClassifier as HGB
    from sklearn.metrics import average_precision_score, roc_auc_score

    from ganaug.anomaly.fewlabel import mask_labels

    warnings.simplefilter("ignore")
    rows = []
    for name, seed, d in _cached(cache):
        Ztr, Zte, ytr, yte = d["Ztr"], d["Zte"], d["ytr"], d["yte"]
        Mtr = np.column_stack([_z(d[f"tr_{m}"], d[f"tr_{m}"]) for m in members])
        Mte = np.column_stack([_z(d[f"tr_{m}"], d[f"te_{m}"]) for m in members])
        Utr, Ute = Mtr.sum(1), Mte.sum(1)
        Ftr, Fte = np.hstack([Ztr, Mtr]), np.hstack([Zte, Mte])
        for g in gammas:
            yl = mask_labels(ytr, g, random_state=seed)
            n = int(yl.sum())
            sampler = SMOTE(k_neighbors=min(5, n - 1), random_state=seed) if n >= 2 else RandomOverSampler(
                random_state=seed)
            Xs, ys = sampler.fit_resample(Ztr, yl)
            bal = HGB(random_state=seed, class_weight="balanced").fit(Ftr, yl)
            s_tr, s_te = bal.predict_proba(Ftr)[:, 1], bal.predict_proba(Fte)[:, 1]
            arms = {"unsupervised (sum of members)": Ute,
                    "HGB": HGB(random_state=seed).fit(Ztr, yl).predict_proba(Zte)[:, 1],
                    "HGB+SMOTE": HGB(random_state=seed).fit(Xs, ys).predict_proba(Zte)[:, 1],
                    "HGB balanced": HGB(random_state=seed, class_weight="balanced").fit(Ztr, yl).predict_proba(
                        Zte)[:, 1],
                    "HGB on rows+scores": HGB(random_state=seed).fit(Ftr, yl).predict_proba(Fte)[:, 1],
                    "HGB balanced on rows+scores": s_te}
            for c in (0.25, 0.5, 1, 2, 5, 10):
                w = n / (n + c)
                arms[f"blend, prior_strength={c:g}"] = (1 - w) * _q(Utr, Ute) + w * _q(s_tr, s_te)
            for arm, s in arms.items():
                rows.append({"set": name, "seed": seed, "gamma": g, "n": n, "arm": arm,
                             "roc_auc": roc_auc_score(yte, s), "ap": average_precision_score(yte, s)})
    df = pd.DataFrame(rows)
    sm = df.groupby(["gamma", "set", "arm"])[["ap", "roc_auc"]].mean().reset_index()
    return sm.groupby(["arm", "gamma"])[["ap", "roc_auc"]].mean().unstack("gamma")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--sets", default=",".join(DEV_SETS))
    ap.add_argument("--cache", default="results/anomaly_dev/cache")
    ap.add_argument("--refresh", default="", help="comma-separated members to recompute")
    ap.add_argument("--members", default="iforest,ecod,knn,gan")
    ap.add_argument("--gan-params", default="{}", help="JSON keyword arguments of GANAnomalyDetector")
    ap.add_argument("--report", action="store_true", help="compare ensembles and few-label variants on the cache")
    args = ap.parse_args(argv)
    os.environ.setdefault("GANAUG_PROGRESS", "0")
    import _bench

    cache = Path(args.cache)
    runs_file = cache / "bench.json"
    if args.report:
        for run in json.loads(runs_file.read_text()) if runs_file.is_file() else []:
            print(f"cache run ({run.get('members', '?')} on {run.get('sets', '?')}):")
            print("\n".join(_bench.markdown(run)))
        pd.set_option("display.width", 200)
        print(report_unsupervised(cache).round(3).to_string())
        print(report_fewlabel(cache).round(3).to_string())
        return 0
    bench = _bench.start([sys.argv[0], *(argv if argv is not None else sys.argv[1:])])
    cache.mkdir(parents=True, exist_ok=True)
    refresh = {m for m in args.refresh.split(",") if m}
    for name in [s for s in args.sets.split(",") if s]:
        X, y = load_set(name, max_rows=DEV_MAX_ROWS)
        for seed in range(args.seeds):
            f = cache / f"{name}_{seed}.npz"
            old = dict(np.load(f)) if f.exists() else {}
            if old and not refresh:
                continue
            Ztr, Zte, ytr, yte = split_scale(X, y, seed)
            members = [m for m in args.members.split(",") if m]
            if old and refresh:
                members = [m for m in members if m in refresh]
            comps = unsupervised_components(Ztr, Zte, seed, members, json.loads(args.gan_params))
            data = dict(old)
            data.update({"Ztr": Ztr, "Zte": Zte, "ytr": ytr, "yte": yte})
            for k, (a, b, secs) in comps.items():
                data[f"tr_{k}"], data[f"te_{k}"], data[f"sec_{k}"] = a, b, np.array(secs)
            np.savez(f, **data)
            print(name, seed, {k: round(float(v[2]), 2) for k, v in comps.items()}, flush=True)
    runs = json.loads(runs_file.read_text()) if runs_file.is_file() else []
    runs.append({**_bench.facts(_bench.finish(bench)), "members": args.members, "sets": args.sets,
                 "refresh": args.refresh})
    runs_file.write_text(json.dumps(runs, indent=1))
    print("\n".join(_bench.markdown(runs[-1])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
