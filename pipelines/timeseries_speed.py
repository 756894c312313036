"""Wall time of the default series fit a new user tries first: the TimeGAN "stocks" windows.

Issue 22's goal: ``TimeSeriesAugmenter(random_state=0).from_series(load_stocks(window=None),
window=24)`` (3 662 windows of 24 days x 6 channels, the augmenter's defaults)
fits in at most 2 minutes of wall time on 2 idle cores. This script times
exactly that call (plus drawing as many windows as it was fitted on), in one
process, and writes the ``_bench`` header (commit, command, load before and
after, threads) with the result. ``--epochs`` times a shorter fit instead (the
default is the augmenter's own).

Run (one benchmark at a time, idle machine)::

    flock /tmp/ganaug-bench.lock env OMP_NUM_THREADS=2 .venv/bin/python pipelines/timeseries_speed.py \\
        --out results/timeseries_speed
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="results/timeseries_speed")
    p.add_argument("--epochs", type=int, default=None,
                   help="GAN epochs (default: the augmenter's own default, which is what the goal is about)")
    p.add_argument("--window", type=int, default=24)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    os.environ.setdefault("GANAUG_PROGRESS", "0")
    import _bench

    bench = _bench.start([sys.argv[0], *(argv if argv is not None else sys.argv[1:])])
    t_import = time.perf_counter()
    from ganaug import TimeSeriesAugmenter
    from ganaug.datasets import load_stocks

    series = load_stocks(window=None)
    import_s = time.perf_counter() - t_import
    options = {} if args.epochs is None else {"epochs": int(args.epochs)}
    aug = TimeSeriesAugmenter(random_state=0, **options)
    t0 = time.perf_counter()
    aug.from_series(series, window=args.window)
    fit_s = time.perf_counter() - t0
    n_windows = len(series) - args.window + 1
    t1 = time.perf_counter()
    drawn = aug.sample(n_windows, random_state=0)
    sample_s = time.perf_counter() - t1
    shape = tuple(getattr(drawn[0] if isinstance(drawn, tuple) else drawn, "shape", ()))
    bench = _bench.finish(bench)
    epochs = aug.get_params().get("epochs")
    goal = fit_s <= 120.0
    lines = ["# Default series fit on the stocks windows", "", *_bench.markdown(bench), "",
             f"`TimeSeriesAugmenter(random_state=0{'' if args.epochs is None else f', epochs={args.epochs}'})"
             f".from_series(load_stocks(window=None), window={args.window})`: {len(series)} days x "
             f"{series.shape[1]} channels, {n_windows} windows, {epochs} epochs.", "",
             "| step | wall seconds |", "|---|---|",
             f"| import ganaug and load the series | {import_s:.1f} |",
             f"| fit (`from_series`) | {fit_s:.1f} |",
             f"| sample {n_windows} windows | {sample_s:.1f} |", "",
             ("Goal (issue 22): fit <= 120 s wall with the defaults: " + ("met." if goal else "NOT met.")
              if args.epochs is None else "Not the goal run (the goal is about the default epochs).")]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "speed.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (out / "speed.json").write_text(json.dumps({"bench": _bench.facts(bench), "epochs": epochs, "windows": n_windows,
                                                "import_s": import_s, "fit_s": fit_s, "sample_s": sample_s,
                                                "sample_shape": list(shape)}, indent=2))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
