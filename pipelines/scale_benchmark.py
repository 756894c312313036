"""Scale benchmark: TabularAugmenter fit on 10k / 100k / 1M rows, and 10M rows streamed to disk.

The table is the bundled credit data (4454 rows, 13 mixed columns with
missing values) replicated to the target size with noise (numeric columns
jittered by 5 % of their spread, integer columns kept whole, missing values
and categories drawn as in the data), so every size has the same columns,
types and class mix. Each measurement runs in a fresh Python process, which
reports its own wall time per phase and peak resident memory (``ru_maxrss``),
so sizes do not share caches or memory.

* ``fit``: ``TabularAugmenter(epochs=1, ...)`` on N rows: one epoch is
  ``N // batch_size`` steps (CTGAN's definition), so time should grow
  linearly in N; memory holds the table, its encoding and the networks.
* ``stream``: a model fitted on 10k rows writes ``--stream-rows`` synthetic
  rows with ``sample_to_file`` in chunks of ``--chunk`` rows; the simple
  alternative, ``sample(n)`` in memory then ``DataFrame.to_parquet``, is run
  at 1M rows (at 10M it would need several GB).

Usage::

    flock /tmp/ganaug-bench.lock env OMP_NUM_THREADS=2 .venv/bin/python pipelines/scale_benchmark.py \\
        --out results/scale_benchmark
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------- the table
def replicated_table(n_rows: int, seed: int):
    """The credit table replicated to ``n_rows`` with noise (same columns, dtypes and class mix)."""
    import pandas as pd

    from ganaug.datasets import load_credit

    X, y = load_credit()
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(X), n_rows)
    out = X.iloc[idx].reset_index(drop=True)
    y_out = y.iloc[idx].reset_index(drop=True)
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_float_dtype(s) or pd.api.types.is_integer_dtype(s):
            spread = float(np.nanstd(X[col].to_numpy(dtype=float))) or 1.0
            noise = rng.normal(0.0, 0.05 * spread, n_rows)
            vals = s.to_numpy(dtype=float) + noise
            if pd.api.types.is_integer_dtype(s):
                lo, hi = float(X[col].min()), float(X[col].max())
                vals = np.clip(np.round(vals), lo, hi)
                if s.isna().any():
                    out[col] = pd.array(np.where(s.isna(), np.nan, vals), dtype=s.dtype)
                else:
                    out[col] = vals.astype(s.dtype)
            else:
                out[col] = np.where(s.isna(), np.nan, vals)
    return out, y_out


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _model(seed: int, epochs: int):
    from ganaug.augment.tabular import TabularAugmenter

    return TabularAugmenter(epochs=epochs, random_state=seed, trainer={"enable_progress_bar": False})


# ------------------------------------------------------------------ workers
def worker_fit(rows: int, seed: int, epochs: int) -> dict:
    import torch  # noqa: F401  (baseline memory includes torch and Lightning)
    import lightning  # noqa: F401

    base_mb = _peak_mb()
    t0 = time.perf_counter()
    X, y = replicated_table(rows, seed)
    t_data = time.perf_counter() - t0
    table_mb = X.memory_usage(deep=True).sum() / 2**20
    aug = _model(seed, epochs)
    t0 = time.perf_counter()
    aug.fit(X, y)
    t_fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    aug.sample(10_000, random_state=seed)
    t_sample = time.perf_counter() - t0
    return {"rows": rows, "seed": seed, "data_s": t_data, "fit_s": t_fit, "steps": len(aug.history_),
            "sample10k_s": t_sample, "table_mb": float(table_mb), "baseline_mb": base_mb, "peak_mb": _peak_mb()}


def worker_stream(rows: int, seed: int, chunk: int, mode: str, fmt: str, tmp: str) -> dict:
    import pandas as pd

    X, y = replicated_table(10_000, seed)
    aug = _model(seed, 1).fit(X, y)
    base_mb = _peak_mb()
    path = Path(tmp) / f"synthetic_{mode}_{rows}.{fmt}"
    t0 = time.perf_counter()
    if mode == "stream":
        written = aug.sample_to_file(path, rows, chunk_size=chunk, random_state=seed)
    else:  # the simple alternative: everything in memory, then one write
        X_new, y_new = aug.sample(rows, random_state=seed)
        frame = X_new.assign(Status=np.asarray(y_new))
        frame.to_parquet(path, index=False) if fmt == "parquet" else frame.to_csv(path, index=False)
        written = len(frame)
    elapsed = time.perf_counter() - t0
    size_mb = path.stat().st_size / 2**20
    if fmt == "parquet":
        import pyarrow.parquet as pq

        assert pq.ParquetFile(path).metadata.num_rows == rows
    path.unlink()
    return {"rows": rows, "mode": mode, "chunk": chunk, "seconds": elapsed, "rows_per_s": written / elapsed,
            "file_mb": size_mb, "baseline_mb": base_mb, "peak_mb": _peak_mb(), "pandas": pd.__version__}


def _run_child(args: list[str]) -> dict:
    env = dict(os.environ)
    env.setdefault("GANAUG_PROGRESS", "0")
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"worker {args} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _fmt(values, digits=1) -> str:
    v = np.asarray(values, dtype=float)
    return f"{v.mean():.{digits}f}" if len(v) == 1 else f"{v.mean():.{digits}f} ± {v.std(ddof=1):.{digits}f}"


# --------------------------------------------------------------------- main
def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default="results/scale_benchmark")
    p.add_argument("--sizes", default="10000,100000,1000000", help="rows for the fit measurements")
    p.add_argument("--seeds", default="0,1", help="seeds per size (the largest size uses the first only)")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--stream-rows", type=int, default=10_000_000)
    p.add_argument("--chunk", type=int, default=200_000)
    p.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    p.add_argument("--part", choices=["all", "fit", "stream", "report"], default="all",
                   help="run only the fit or the stream measurements (results kept in --out), or only the report")
    p.add_argument("--worker", choices=["fit", "stream"], help=argparse.SUPPRESS)
    p.add_argument("--rows", type=int, help=argparse.SUPPRESS)
    p.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--mode", default="stream", help=argparse.SUPPRESS)
    p.add_argument("--tmp", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.worker == "fit":
        print(json.dumps(worker_fit(args.rows, args.seed, args.epochs)))
        return 0
    if args.worker == "stream":
        print(json.dumps(worker_stream(args.rows, args.seed, args.chunk, args.mode, args.format, args.tmp)))
        return 0

    import _bench

    info = _bench.start([sys.argv[0], *(argv if argv is not None else sys.argv[1:])])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sizes = [int(s) for s in args.sizes.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    fits, streams = [], []
    if args.part in ("all", "fit"):
        for i, rows in enumerate(sizes):
            for seed in (seeds[:1] if i == len(sizes) - 1 and len(sizes) > 1 else seeds):
                r = _run_child(["--worker", "fit", "--rows", str(rows), "--seed", str(seed),
                                "--epochs", str(args.epochs)])
                fits.append(r)
                print(f"fit  {rows:>9,} rows seed {seed}: {r['fit_s']:7.1f} s ({r['steps']} steps), "
                      f"peak {r['peak_mb']:7.0f} MB (baseline {r['baseline_mb']:.0f} MB, table {r['table_mb']:.1f} MB)",
                      flush=True)
        (out / "fit.json").write_text(json.dumps(fits, indent=2))
    if args.part in ("all", "stream"):
        tmp = out / "tmp"
        tmp.mkdir(exist_ok=True)
        cmp_rows = min(1_000_000, args.stream_rows)
        for mode, rows in (("memory", cmp_rows), ("stream", cmp_rows), ("stream", args.stream_rows)):
            r = _run_child(["--worker", "stream", "--rows", str(rows), "--mode", mode, "--chunk", str(args.chunk),
                            "--format", args.format, "--tmp", str(tmp)])
            streams.append(r)
            print(f"{mode:6s} {rows:>11,} rows: {r['seconds']:7.1f} s ({r['rows_per_s']:,.0f} rows/s), peak "
                  f"{r['peak_mb']:7.0f} MB (after fit {r['baseline_mb']:.0f} MB), file {r['file_mb']:.0f} MB",
                  flush=True)
        tmp.rmdir()
        (out / "stream.json").write_text(json.dumps(streams, indent=2))
    if args.part in ("fit", "stream"):  # the facts of this part's run, for a later --part report
        (out / f"{args.part}_bench.json").write_text(json.dumps(_bench.facts(_bench.finish(info)), indent=2))
        return 0
    if args.part == "report":
        fits = json.loads((out / "fit.json").read_text()) if (out / "fit.json").is_file() else []
        streams = json.loads((out / "stream.json").read_text()) if (out / "stream.json").is_file() else []
        sizes = sorted({r["rows"] for r in fits})
        bench = {part: json.loads((out / f"{part}_bench.json").read_text())
                 for part in ("fit", "stream") if (out / f"{part}_bench.json").is_file()}
        head = []
        for part, facts in bench.items():
            head += [f"{part.capitalize()} measurements:", "", *_bench.markdown(facts), ""]
        if not bench:
            head = ["(no fit_bench.json / stream_bench.json in the folder: commit and load of the measuring runs "
                    "unknown)", ""]
    else:
        bench = _bench.facts(_bench.finish(info))
        head = [*_bench.markdown(bench), ""]

    lines = ["# Scale benchmark", "", *head,
             f"`pipelines/scale_benchmark.py` (epochs={args.epochs}, default TabularAugmenter networks, "
             "credit table replicated with noise).", "",
             "## Fit", "", "| rows | seeds | fit time (s) | steps | s per 1k rows | peak RSS (MB) | table (MB) |",
             "|---:|---:|---:|---:|---:|---:|---:|"]
    for rows in sizes:
        rs = [r for r in fits if r["rows"] == rows]
        lines.append(f"| {rows:,} | {len(rs)} | {_fmt([r['fit_s'] for r in rs])} | {rs[0]['steps']} | "
                     f"{_fmt([1000 * r['fit_s'] / rows for r in rs], 3)} | {_fmt([r['peak_mb'] for r in rs], 0)} | "
                     f"{rs[0]['table_mb']:.1f} |")
    lines += ["", f"## Writing synthetic rows ({args.format}, chunk {args.chunk:,})", "",
              "| how | rows | time (s) | rows/s | peak RSS (MB) | growth over the fitted model (MB) | file (MB) |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for r in streams:
        how = "sample_to_file (streamed)" if r["mode"] == "stream" else "sample() in memory + to_parquet"
        lines.append(f"| {how} | {r['rows']:,} | {r['seconds']:.1f} | {r['rows_per_s']:,.0f} | {r['peak_mb']:.0f} | "
                     f"{r['peak_mb'] - r['baseline_mb']:.0f} | {r['file_mb']:.0f} |")
    (out / "scale_benchmark.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = {"bench": bench, "fit": fits, "stream": streams}  # bench: this run's facts, or {part: facts}
    (out / "scale_benchmark.json").write_text(json.dumps(report, indent=2))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    rows = np.array(sizes, dtype=float)
    t = np.array([np.mean([r["fit_s"] for r in fits if r["rows"] == n]) for n in sizes])
    m = np.array([np.mean([r["peak_mb"] for r in fits if r["rows"] == n]) for n in sizes])
    axes[0].loglog(rows, t, "o-", label="fit (1 epoch)")
    axes[0].loglog(rows, t[0] * rows / rows[0], "--", color="grey", label="linear")
    axes[0].set_xlabel("rows"), axes[0].set_ylabel("seconds"), axes[0].legend()
    axes[1].semilogx(rows, m, "o-", label="fit peak RSS")
    st_rows = [r["rows"] for r in streams if r["mode"] == "stream"]
    st_mem = [r["peak_mb"] for r in streams if r["mode"] == "stream"]
    axes[1].semilogx(st_rows, st_mem, "s-", label="sample_to_file peak RSS")
    mem = [r for r in streams if r["mode"] == "memory"]
    axes[1].semilogx([r["rows"] for r in mem], [r["peak_mb"] for r in mem], "x", ms=10, label="in-memory sample")
    axes[1].set_xlabel("rows"), axes[1].set_ylabel("MB"), axes[1].legend()
    fig.tight_layout()
    fig.savefig(out / "scale_benchmark.png", dpi=110)
    print(f"wrote {out / 'scale_benchmark.md'} and {out / 'scale_benchmark.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
