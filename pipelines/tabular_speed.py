"""Speed and memory of ganaug's tabular GAN against ``ctgan.CTGAN``, in the same run.

Measured (ratios = CTGAN / ganaug, so > 1 means ganaug is faster or lighter):

1. **Training time per epoch** at the same data, batch size and network
   width (embedding 128, generator and discriminator (256, 256), pac 10,
   batch 500): both fitted for ``E1`` and ``E2`` epochs; per epoch =
   ``(t(E2) - t(E1)) / (E2 - E1)``, which removes the fixed costs (data
   encoding, set-up) from both. Median of ``--repeats``.
2. **Sampling 100 000 rows** from the fitted models (median of ``--repeats``).
   ganaug is timed with the discriminator filter (it draws 1.25x the rows
   and scores them with the critic) and without it (the default).
3. **Peak memory** of a fresh process that imports, fits and samples 100 000
   rows (``VmHWM``), and its increase over the same process right after
   the imports.
4. **Scale**: ganaug fit time (``--scale-epochs`` epochs, default widths) on
   the credit table replicated (with small noise) to 10k / 100k / 1M rows, and
   ``sample(1_000_000)`` with its peak memory (generated in chunks).

The tables use the bundled credit data (CTGAN needs its missing values
imputed, so both get the same imputed table). Writes ``speed.md``,
``speed.json`` and ``speed.png`` to ``--out``. Report timings from a quiet
machine: ``flock /tmp/ganaug-bench.lock python pipelines/tabular_speed.py``.

``--concurrent`` measures instead whether two fits sharing the machine stall
each other (issue 20): for ganaug (``TabularAugmenter``, default settings)
and for ``ctgan.CTGAN`` (the widths above), each with ``--concurrent-epochs``
epochs (default 30), the wall time of two fits in fresh processes run one
after the other, and of the same two fits started at the same time. Goal:
concurrent / sequential <= 1.3. Writes ``concurrent.md`` and
``concurrent.json``. ``GANAUG_ADAPTIVE_THREADS=0`` in the environment reaches
the workers (today's fixed thread count, for an A/B run).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

WIDTH = dict(embedding_dim=128, generator_dim=(256, 256), discriminator_dim=(256, 256), pac=10, batch_size=500)


def _table(name: str = "credit", rows: int | None = None, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """The bundled table with numeric NaN imputed by the median (CTGAN refuses NaN), optionally replicated."""
    from ganaug.datasets import load_tabular

    X, y = load_tabular(name)
    X = X.copy()
    for col in X.select_dtypes("number"):
        X[col] = X[col].fillna(X[col].median())
    for col in X.select_dtypes("category"):
        if X[col].isna().any():
            X[col] = X[col].cat.add_categories("missing").fillna("missing")
    if rows is not None and rows != len(X):
        rng = np.random.default_rng(seed)
        idx = rng.integers(0, len(X), rows)
        X, y = X.iloc[idx].reset_index(drop=True), y.iloc[idx].reset_index(drop=True)
        for col in X.select_dtypes("float"):
            X[col] = X[col] + rng.normal(0, 0.01 * X[col].std(), rows)
    return X, y


def _ctgan_frame(X: pd.DataFrame, y: pd.Series) -> tuple[pd.DataFrame, list]:
    df = X.copy()
    for col in df.select_dtypes("category"):
        df[col] = df[col].astype(str)
    df["__target__"] = y.astype(str).to_numpy()
    return df, [c for c in df.columns if df[c].dtype == object]


#: concurrent fits / the same fits one after the other (issue 20)
CONCURRENT_GOAL = 1.3


def _fit_ganaug(X, y, epochs: int, width: bool = True, seed: int = 0):
    from ganaug.augment.tabular import TabularAugmenter

    params = dict(WIDTH) if width else {}
    # the filter on for the first timing and in the memory worker (the heavier way to sample)
    aug = TabularAugmenter(epochs=epochs, random_state=seed, trainer={"enable_progress_bar": False},
                           filter_synthetic=True, **params)
    t0 = _clock()
    aug.fit(X, y)
    return aug, _clock() - t0


def _fit_ctgan(X, y, epochs: int, seed: int = 0):
    import torch
    from ctgan import CTGAN

    df, discrete = _ctgan_frame(X, y)
    w = dict(WIDTH)
    model = CTGAN(embedding_dim=w["embedding_dim"], generator_dim=w["generator_dim"],
                  discriminator_dim=w["discriminator_dim"], pac=w["pac"], batch_size=w["batch_size"], epochs=epochs,
                  verbose=False)
    model.set_random_state(seed)
    torch.manual_seed(seed)
    t0 = _clock()
    model.fit(df, discrete)
    return model, _clock() - t0


#: "wall" (time.perf_counter) or "cpu" (time.process_time: this process's CPU seconds, all threads)
CLOCK = {"name": "wall"}


def _clock() -> float:
    return time.process_time() if CLOCK["name"] == "cpu" else time.perf_counter()


def _ms(values, digits: int = 2) -> str:
    """``median [mean ± std]`` of repeated timings."""
    v = np.asarray(values, dtype=float)
    return f"{np.median(v):.{digits}f} [{v.mean():.{digits}f} ± {v.std(ddof=1) if len(v) > 1 else 0.0:.{digits}f}]"


def _sample(model, n: int) -> float:
    t0 = _clock()
    model.sample(n)
    return _clock() - t0


def _rss_mb(field: str = "VmRSS") -> float:
    """Resident memory (``VmRSS``) or its peak so far (``VmHWM``) of this process, in MB.

    ``VmHWM`` belongs to the process's own address space, so a worker started
    by ``subprocess`` does not inherit its parent's peak (``ru_maxrss`` does:
    Linux keeps it across ``fork`` + ``exec``).
    """
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _thread_probe():
    """A Lightning callback counting the training batches run at each torch thread count."""
    import lightning.pytorch as pl
    import torch

    class _Probe(pl.Callback):
        def __init__(self):
            self.batches: dict[int, int] = {}

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            n = torch.get_num_threads()
            self.batches[n] = self.batches.get(n, 0) + 1

    return _Probe()


def _fit_worker(args) -> int:
    """``--worker fit-ganaug`` / ``fit-ctgan``: one fit in a fresh process (the --concurrent mode); prints JSON."""
    warnings.filterwarnings("ignore")
    import torch

    lib = args.worker.removeprefix("fit-")
    result = {"torch_threads_at_start": torch.get_num_threads()}
    X, y = _table()
    if lib == "ctgan":
        _, result["fit_time"] = _fit_ctgan(X, y, args.epochs, seed=args.seed)
    else:
        from ganaug.augment.tabular import TabularAugmenter

        probe = _thread_probe()  # a user callback: ganaug still adds its own ThreadGuard
        aug = TabularAugmenter(epochs=args.epochs, random_state=args.seed,
                               trainer={"enable_progress_bar": False, "callbacks": [probe]})
        t0 = time.perf_counter()
        aug.fit(X, y)
        result["fit_time"] = time.perf_counter() - t0
        result["batches_per_thread_count"] = {str(k): v for k, v in sorted(probe.batches.items())}
    print("RESULT " + json.dumps(result))
    return 0


def _worker(args) -> int:
    """Runs in a fresh process: import, fit, sample; prints JSON with memory figures."""
    if args.worker.startswith("fit-"):
        return _fit_worker(args)
    warnings.filterwarnings("ignore")
    import torch  # noqa: F401  (both methods import torch)

    if args.worker == "ctgan":
        import ctgan  # noqa: F401
    else:
        import ganaug.augment.tabular  # noqa: F401
    X, y = _table(rows=args.rows)
    base = _rss_mb()
    t0 = _clock()
    if args.worker == "ctgan":
        model, _ = _fit_ctgan(X, y, args.epochs)
    elif args.worker == "ganaug":
        model, _ = _fit_ganaug(X, y, args.epochs, width=True)
    else:  # ganaug-scale: default widths, fit then a big chunked sample
        model, _ = _fit_ganaug(X, y, args.epochs, width=False)
    fit_time = _clock() - t0
    after_fit = _rss_mb("VmHWM")
    t1 = _clock()
    out = model.sample(args.sample)
    sample_time = _clock() - t1
    frame = out[0] if isinstance(out, tuple) else out
    result = {
        "base_rss_mb": base, "peak_rss_mb": _rss_mb("VmHWM"),
        "peak_after_fit_mb": after_fit, "fit_time": fit_time, "sample_time": sample_time,
        "output_mb": float(frame.memory_usage(deep=True).sum() / 2**20) if hasattr(frame, "memory_usage") else None,
    }
    print("RESULT " + json.dumps(result))
    return 0


def _run_worker(kind: str, rows: int | None, epochs: int, sample: int) -> dict:
    cmd = [sys.executable, __file__, "--worker", kind, "--epochs", str(epochs), "--sample", str(sample),
           "--clock", CLOCK["name"]]
    if rows:
        cmd += ["--rows", str(rows)]
    env = dict(os.environ, GANAUG_PROGRESS="0")
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"worker {kind} failed:\n{out.stderr[-3000:]}")


def _start_fit(lib: str, epochs: int, seed: int, log_dir: Path) -> tuple[subprocess.Popen, Path]:
    """Start one ``fit-<lib>`` worker; its output goes to a file (a full pipe would block it)."""
    cmd = [sys.executable, __file__, "--worker", f"fit-{lib}", "--epochs", str(epochs), "--seed", str(seed),
           "--clock", "wall"]
    log = log_dir / f"{lib}-seed{seed}-{time.monotonic_ns()}.log"
    env = dict(os.environ, GANAUG_PROGRESS="0")
    with open(log, "w") as fh:
        return subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, text=True, env=env), log


def _wait_fit(proc: subprocess.Popen, log: Path) -> dict:
    proc.wait()
    text = log.read_text()
    for line in text.splitlines():
        if line.startswith("RESULT "):
            log.unlink()
            return json.loads(line[7:])
    raise RuntimeError(f"fit worker failed (exit {proc.returncode}), see {log}:\n{text[-3000:]}")


def _pair(lib: str, epochs: int, log_dir: Path, together: bool) -> dict:
    """Wall time of two fits (seeds 0 and 1) in fresh processes: one after the other, or started at once."""
    t0 = time.perf_counter()
    if together:
        started = [_start_fit(lib, epochs, seed, log_dir) for seed in (0, 1)]
        fits = [_wait_fit(*p) for p in started]
    else:
        fits = [_wait_fit(*_start_fit(lib, epochs, seed, log_dir)) for seed in (0, 1)]
    wall = time.perf_counter() - t0
    times = [f["fit_time"] for f in fits]
    # fit only (no process start, no imports): the pair's fits overlap when started together
    fit_span = max(times) if together else sum(times)
    return {"wall_s": wall, "fit_span_s": fit_span, "fits": fits}


def _concurrent(args, bench: dict, out: Path) -> int:
    """``--concurrent``: do two fits sharing the machine stall each other? (issue 20)"""
    import _bench

    libs = [lib.strip() for lib in args.concurrent_libs.split(",") if lib.strip()]
    unknown = sorted(set(libs) - {"ganaug", "ctgan"})
    if unknown or not libs:
        raise SystemExit(f"--concurrent-libs takes ganaug and/or ctgan, got {args.concurrent_libs!r}")
    epochs = int(args.concurrent_epochs)
    adaptive = os.environ.get("GANAUG_ADAPTIVE_THREADS", "unset")
    log_dir = out / "concurrent_logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    print(f"two fits of {epochs} epochs, one after the other and at once; libraries {libs}; "
          f"GANAUG_ADAPTIVE_THREADS={adaptive}", flush=True)
    runs: dict[str, list] = {lib: [] for lib in libs}
    for r in range(args.concurrent_repeats):
        for lib in libs:
            seq = _pair(lib, epochs, log_dir, together=False)
            con = _pair(lib, epochs, log_dir, together=True)
            runs[lib].append({"sequential": seq, "concurrent": con, "ratio": con["wall_s"] / seq["wall_s"],
                              "fit_ratio": con["fit_span_s"] / seq["fit_span_s"]})
            threads = {k: [f.get("batches_per_thread_count") for f in p["fits"]] for k, p in (("after", seq),
                                                                                             ("at once", con))}
            print(f"repeat {r} {lib:6s}: one after the other {seq['wall_s']:.1f} s, at once {con['wall_s']:.1f} s, "
                  f"ratio {runs[lib][-1]['ratio']:.2f}x (fits only {runs[lib][-1]['fit_ratio']:.2f}x)"
                  + (f"; training batches per torch thread count: {threads}" if lib == "ganaug" else ""), flush=True)
    summary = {lib: {"ratio": float(np.median([x["ratio"] for x in v])),
                     "fit_ratio": float(np.median([x["fit_ratio"] for x in v])),
                     "sequential_s": float(np.median([x["sequential"]["wall_s"] for x in v])),
                     "concurrent_s": float(np.median([x["concurrent"]["wall_s"] for x in v])),
                     "goal_met": bool(np.median([x["ratio"] for x in v]) <= CONCURRENT_GOAL)}
               for lib, v in runs.items()}
    bench = _bench.finish(bench)
    names = {"ganaug": "ganaug `TabularAugmenter` (default settings)",
             "ctgan": f"`ctgan.CTGAN` (embedding {WIDTH['embedding_dim']}, {WIDTH['generator_dim']}, pac "
                      f"{WIDTH['pac']}, batch {WIDTH['batch_size']})"}
    X, _ = _table()
    lines = [
        "# Two fits sharing the machine: at once vs one after the other", "", *_bench.markdown(bench), "",
        f"Credit table ({len(X)} rows, NaN imputed), {epochs} epochs per fit, seeds 0 and 1, each fit in a fresh "
        f"process (imports included); wall seconds of the pair, median of {args.concurrent_repeats} repeat(s); "
        f"GANAUG_ADAPTIVE_THREADS={adaptive}. Goal: at once / one after the other <= {CONCURRENT_GOAL}x.", "",
        "| library | one after the other (s) | at once (s) | ratio | fits only (s, after / at once) | fits-only ratio "
        "| goal |", "|---|---|---|---|---|---|---|",
    ]
    for lib, v in runs.items():
        seq_fit = np.median([x["sequential"]["fit_span_s"] for x in v])
        con_fit = np.median([x["concurrent"]["fit_span_s"] for x in v])
        sm = summary[lib]
        lines.append(f"| {names[lib]} | {sm['sequential_s']:.1f} | {sm['concurrent_s']:.1f} | {sm['ratio']:.2f}x | "
                     f"{seq_fit:.1f} / {con_fit:.1f} | {sm['fit_ratio']:.2f}x | "
                     f"{'met' if sm['goal_met'] else 'NOT met'} |")
    if "ganaug" in runs:
        seen = {k: [f.get("batches_per_thread_count") for x in runs["ganaug"] for f in x[k]["fits"]]
                for k in ("sequential", "concurrent")}
        lines += ["", "ganaug training batches per torch thread count (ThreadGuard's choice; alone it should keep "
                      f"every core): one after the other {seen['sequential']}, at once {seen['concurrent']}"]
    text = "\n".join(lines) + "\n"
    (out / "concurrent.md").write_text(text)
    (out / "concurrent.json").write_text(json.dumps({"bench": _bench.facts(bench), "epochs": epochs,
                                                     "adaptive_threads": adaptive, "goal": CONCURRENT_GOAL,
                                                     "summary": summary, "runs": runs}, indent=2))
    try:
        log_dir.rmdir()  # empty unless a worker failed
    except OSError:
        pass
    print("\n" + text)
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="results/tabular_speed")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--e1", type=int, default=2)
    ap.add_argument("--e2", type=int, default=12)
    ap.add_argument("--scale-rows", default="10000,100000,1000000")
    ap.add_argument("--scale-epochs", type=int, default=1)
    ap.add_argument("--skip-scale", action="store_true")
    ap.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                    help="time by wall clock, or by this process's CPU time (robust when other jobs share the "
                         "cores; use with OMP_NUM_THREADS=1)")
    ap.add_argument("--concurrent", action="store_true",
                    help="instead of the above: two fits in fresh processes, one after the other and at once, "
                         "for ganaug and CTGAN; writes concurrent.md/.json (goal: at once <= 1.3x one after the other)")
    ap.add_argument("--concurrent-epochs", type=int, default=30, help="epochs per fit in --concurrent (default 30)")
    ap.add_argument("--concurrent-repeats", type=int, default=1, help="repeats of --concurrent (default 1)")
    ap.add_argument("--concurrent-libs", default="ganaug,ctgan", help="libraries of --concurrent (default ganaug,ctgan)")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--rows", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--epochs", type=int, default=2, help=argparse.SUPPRESS)
    ap.add_argument("--sample", type=int, default=100_000, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    CLOCK["name"] = args.clock
    if args.worker:
        return _worker(args)
    warnings.filterwarnings("ignore")
    import _bench
    import torch

    bench = _bench.start([sys.argv[0], *(argv if argv is not None else sys.argv[1:])])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.concurrent:
        return _concurrent(args, bench, out)
    X, y = _table()
    info = {"rows": len(X), "columns": X.shape[1], "torch_threads": torch.get_num_threads(), **WIDTH}
    print(f"credit table {X.shape}, torch threads {torch.get_num_threads()}, widths {WIDTH}", flush=True)

    # 1. per-epoch time, 2. sampling time
    per_epoch = {"ganaug": [], "ctgan": []}
    sampling = {"ganaug": [], "ctgan": [], "ganaug_nofilter": []}
    for fit in (_fit_ganaug, _fit_ctgan):  # warm-up: first-call costs (lazy imports, allocator) hit neither timing
        fit(X, y, 1)[0].sample(100)
    for r in range(args.repeats):  # interleaved, so that machine load hits both alike
        for name, fit in (("ganaug", _fit_ganaug), ("ctgan", _fit_ctgan)):
            _, t1 = fit(X, y, args.e1, seed=r)
            model, t2 = fit(X, y, args.e2, seed=r)
            per_epoch[name].append((t2 - t1) / (args.e2 - args.e1))
            model.sample(1000)  # warm-up
            sampling[name].append(_sample(model, 100_000))
            extra = ""
            if name == "ganaug":
                model.set_params(filter_synthetic=False)
                sampling["ganaug_nofilter"].append(_sample(model, 100_000))
                extra = f" ({sampling['ganaug_nofilter'][-1]:.2f} s without the filter)"
            print(f"repeat {r} {name:6s}: {per_epoch[name][-1]:.3f} s/epoch, sample 100k {sampling[name][-1]:.2f} s"
                  + extra, flush=True)
    med = {k: {"epoch_s": float(np.median(per_epoch[k])), "sample_100k_s": float(np.median(sampling[k]))}
           for k in per_epoch}
    med["ganaug"]["sample_100k_nofilter_s"] = float(np.median(sampling["ganaug_nofilter"]))

    # 3. peak memory in fresh processes
    mem = {k: _run_worker(k, None, args.e1, 100_000) for k in ("ganaug", "ctgan")}
    for k in mem:
        mem[k]["increase_mb"] = mem[k]["peak_rss_mb"] - mem[k]["base_rss_mb"]
        print(f"memory {k:6s}: peak {mem[k]['peak_rss_mb']:.0f} MB, after imports {mem[k]['base_rss_mb']:.0f} MB, "
              f"increase {mem[k]['increase_mb']:.0f} MB", flush=True)
    ratios = {
        "epoch_speedup": med["ctgan"]["epoch_s"] / med["ganaug"]["epoch_s"],
        "sample_speedup": med["ctgan"]["sample_100k_s"] / med["ganaug"]["sample_100k_s"],
        "sample_speedup_nofilter": med["ctgan"]["sample_100k_s"] / med["ganaug"]["sample_100k_nofilter_s"],
        "peak_memory_ratio": mem["ctgan"]["peak_rss_mb"] / mem["ganaug"]["peak_rss_mb"],
        "memory_increase_ratio": mem["ctgan"]["increase_mb"] / max(mem["ganaug"]["increase_mb"], 1e-9),
    }

    # 4. scale
    scale = []
    if not args.skip_scale:
        for rows in [int(r) for r in args.scale_rows.split(",") if r]:
            res = _run_worker("ganaug-scale", rows, args.scale_epochs, 1_000_000 if rows == 1_000_000 else 1000)
            scale.append({"rows": rows, **res})
            print(f"scale {rows:>8d} rows: fit {res['fit_time']:.1f} s ({args.scale_epochs} epoch(s)), peak "
                  f"{res['peak_rss_mb']:.0f} MB" + (f", sample(1_000_000) {res['sample_time']:.1f} s, output "
                                                     f"{res['output_mb']:.0f} MB" if rows == 1_000_000 else ""),
                  flush=True)

    goals = {
        "per-epoch training >= 3x faster": ratios["epoch_speedup"] >= 3,
        "sampling 100k >= 10x faster (default, no filter)": ratios["sample_speedup_nofilter"] >= 10,
        "sampling 100k >= 10x faster with the filter": ratios["sample_speedup"] >= 10,
        "peak memory <= ctgan's": ratios["peak_memory_ratio"] >= 1,
    }
    bench = _bench.finish(bench)
    lines = [
        "# ganaug vs ctgan.CTGAN: speed and memory", "", *_bench.markdown(bench), "",
        f"Credit table ({len(X)} rows, {X.shape[1]} columns + target; NaN imputed for both), batch "
        f"{WIDTH['batch_size']}, embedding {WIDTH['embedding_dim']}, generator/discriminator "
        f"{WIDTH['generator_dim']}, pac {WIDTH['pac']}, {info['torch_threads']} torch thread(s); "
        f"median [mean ± std] of {args.repeats} interleaved repeats (seeds 0..{args.repeats - 1}); "
        f"{'CPU seconds of the process' if args.clock == 'cpu' else 'wall-clock seconds'}.", "",
        "| | ganaug | CTGAN | ratio of medians (CTGAN / ganaug) |", "|---|---|---|---|",
        f"| training time per epoch (s) | {_ms(per_epoch['ganaug'], 3)} | {_ms(per_epoch['ctgan'], 3)} | "
        f"{ratios['epoch_speedup']:.2f}x |",
        f"| sampling 100 000 rows, with the filter (s) | {_ms(sampling['ganaug'])} | {_ms(sampling['ctgan'])} | "
        f"{ratios['sample_speedup']:.2f}x |",
        f"| sampling 100 000 rows, no filter (s) | {_ms(sampling['ganaug_nofilter'])} | {_ms(sampling['ctgan'])} | "
        f"{ratios['sample_speedup_nofilter']:.2f}x |",
        f"| peak memory, fit + sample 100k (MB) | {mem['ganaug']['peak_rss_mb']:.0f} | {mem['ctgan']['peak_rss_mb']:.0f} | "
        f"{ratios['peak_memory_ratio']:.2f}x |",
        f"| memory increase over imports (MB) | {mem['ganaug']['increase_mb']:.0f} | {mem['ctgan']['increase_mb']:.0f} | "
        f"{ratios['memory_increase_ratio']:.2f}x |", "",
        "Goals: " + ", ".join(f"{k}: {'met' if v else 'NOT met'}" for k, v in goals.items()), "",
    ]
    if scale:
        lines += [f"## Scale (ganaug, default widths, {args.scale_epochs} epoch(s), credit replicated with noise)", "",
                  "| rows | fit time (s) | s per 1k rows | peak memory (MB) |", "|---|---|---|---|"]
        for s in scale:
            lines.append(f"| {s['rows']:,} | {s['fit_time']:.1f} | {1000 * s['fit_time'] / s['rows']:.3f} | "
                         f"{s['peak_rss_mb']:.0f} |")
        big = [s for s in scale if s["rows"] == 1_000_000]
        if big:
            lines += ["", f"`sample(1_000_000)`: {big[0]['sample_time']:.1f} s; the returned DataFrame holds "
                          f"{big[0]['output_mb']:.0f} MB; generated in chunks of 50 000 rows."]
    text = "\n".join(lines) + "\n"
    (out / "speed.md").write_text(text)
    (out / "speed.json").write_text(json.dumps({"bench": _bench.facts(bench), "info": info, "median": med,
                                                "memory": mem, "ratios": ratios, "scale": scale,
                                                "raw": {"per_epoch": per_epoch, "sampling": sampling}}, indent=2))
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2 if scale else 1, figsize=(10 if scale else 5, 3.5), squeeze=False)
        ax = axes[0, 0]
        names = ["per epoch", "sample 100k", "peak memory"]
        vals = [ratios["epoch_speedup"], ratios["sample_speedup"], ratios["peak_memory_ratio"]]
        ax.bar(names, vals, color=["tab:blue", "tab:orange", "tab:green"])
        for x, goal in zip(range(3), (3, 10, 1)):
            ax.hlines(goal, x - 0.4, x + 0.4, colors="k", linestyles="--")
        ax.set_ylabel("CTGAN / ganaug (higher is better)")
        ax.set_title("ratios (dashed: goals)")
        if scale:
            ax = axes[0, 1]
            ax.loglog([s["rows"] for s in scale], [s["fit_time"] for s in scale], "o-")
            ax.set_xlabel("rows")
            ax.set_ylabel("fit time (s)")
            ax.set_title("ganaug fit time vs rows")
        fig.tight_layout()
        fig.savefig(out / "speed.png", dpi=120)
    except Exception as exc:  # plotting must not lose the numbers
        print(f"plot failed: {exc}")
    print("\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
