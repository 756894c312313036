"""Design study of the table anomaly detectors on the *development* ADBench sets only (never the benchmark sets).

Each (set, seed): stratified 70/30 split, standardised on the training rows,
every detector fitted on all training rows (unlabelled, contaminated) and
scored on the held-out 30 %. Component scores are cached in ``--cache`` so
that combinations and few-label variants can be compared without refitting.

Run::

    env OMP_NUM_THREADS=2 .venv/bin/python pipelines/anomaly_dev_tuning.py --seeds 3 --out results/anomaly_dev
"""

from __future__ import annotations

import argparse
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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--sets", default=",".join(DEV_SETS))
    ap.add_argument("--cache", default="results/anomaly_dev/cache")
    ap.add_argument("--refresh", default="", help="comma-separated members to recompute")
    ap.add_argument("--members", default="iforest,ecod,knn,gan")
    ap.add_argument("--gan-params", default="{}", help="JSON keyword arguments of GANAnomalyDetector")
    args = ap.parse_args(argv)
    os.environ.setdefault("GANAUG_PROGRESS", "0")
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    refresh = {m for m in args.refresh.split(",") if m}
    for name in [s for s in args.sets.split(",") if s]:
        X, y = load_set(name, max_rows=DEV_MAX_ROWS)
        for seed in range(args.seeds):
            f = cache / f"{name}_{seed}.npz"
            old = dict(np.load(f)) if f.exists() else {}
            if old and not refresh:
                continue
            if f.exists() and refresh:
                pass
            Ztr, Zte, ytr, yte = split_scale(X, y, seed)
            import json

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
    return 0


if __name__ == "__main__":
    sys.exit(main())
