"""Image-to-image translation on MNIST-4k: pix2pix (paired) and CycleGAN (unpaired).

Data: the 4000 bundled MNIST digits (``ganaug.datasets.load_mnist``), split
once (stratified, seed 0) into 3000 training and 1000 held-out test digits.
Every number below is measured on the held-out digits.

Paired task - edges to digit
    Input: the Canny edge map of a digit (OpenCV, 50/150 thresholds); target:
    the digit. Arms: *identity* (the edge map itself), an *L1-only U-Net*
    (the pix2pix generator trained with L1 alone, same epochs) and *pix2pix*
    (same generator + PatchGAN, loss = GAN + 100 * L1). Metrics: L1 (mean
    absolute error, 0..1), SSIM (11x11 Gaussian window), and the accuracy of
    a digit classifier (trained on real digits of domain A) on the outputs.

Unpaired tasks - two domains, no pairs
    The 3000 training digits are halved: domain A = the first half as they
    are, domain B = the other half transformed, so no digit is in both
    domains. Tasks: ``invert`` (255 - x) and ``rotate-thicken`` (3x3 grey
    dilation, then rotation by ``--angle`` degrees). Arms for B -> A:
    *untranslated* B, *histogram matching* (a monotone grey-level map fitted
    on the two unpaired sets: the simple unpaired alternative) and *CycleGAN*
    (U-Net generators, 16 base channels) with each PatchGAN depth of
    ``--discriminator-layers`` (default: the size-scaled ``auto``, 16-pixel
    patches, and 2 layers, 34-pixel patches that cover the whole digit).
    Metrics: L1 of B -> A against the true digit (the test pairs are known,
    never used in training), cycle-reconstruction L1 (A -> B -> A and
    B -> A -> B) and the domain-A classifier's accuracy on B -> A.

The classifier is ``ganaug.image.classifier.CNNClassifier`` trained on the
1500 domain-A training digits. Results are mean +- std over ``--seeds``
(model seeds; the data split is fixed). Writes ``results.md``,
``results.json``, ``paired_samples.png``, ``unpaired_<task>_samples.png`` and
``curves.png`` to ``--out``. Runs in parallel processes (``--jobs``, one
thread each).

Run::

    python pipelines/translation_benchmark.py --out results/translation_benchmark
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without an install

UNPAIRED_TASKS = ("invert", "rotate-thicken")


# ----------------------------------------------------------------------- data
def split_mnist() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fixed stratified split of MNIST-4k: 3000 train, 1000 test."""
    from sklearn.model_selection import train_test_split

    from ganaug.datasets import load_mnist

    X, y = load_mnist()
    return tuple(train_test_split(X, y, test_size=1000, stratify=y, random_state=0))  # X_tr, X_te, y_tr, y_te


def edge_maps(X: np.ndarray, low: int = 50, high: int = 150) -> np.ndarray:
    """Canny edge maps of a (N, H, W) uint8 batch in one OpenCV call.

    The digits are padded by one black pixel and stacked into one tall image,
    so one ``cv2.Canny`` call serves the batch (MNIST digits keep a 4-pixel
    empty margin, so no edge crosses from one digit to the next).
    """
    import cv2

    n, h, w = X.shape
    tall = np.pad(X, ((0, 0), (1, 1), (1, 1))).reshape(n * (h + 2), w + 2)
    edges = cv2.Canny(np.ascontiguousarray(tall), low, high)
    return edges.reshape(n, h + 2, w + 2)[:, 1:-1, 1:-1].copy()


def rotate_thicken(X: np.ndarray, angle: float) -> np.ndarray:
    """3x3 grey dilation then rotation by ``angle`` degrees about the centre (whole batch at once)."""
    from scipy import ndimage

    thick = ndimage.grey_dilation(X, size=(1, 3, 3))
    rot = ndimage.rotate(thick.astype(np.float32), angle, axes=(2, 1), reshape=False, order=1, mode="constant")
    return np.clip(np.rint(rot), 0, 255).astype(np.uint8)


def unpaired_domains(task: str, X_tr: np.ndarray, X_te: np.ndarray, angle: float):
    """(A_train, B_train, A_test, B_test): B_train made from other digits than A_train."""
    half = len(X_tr) // 2
    make = (lambda x: 255 - x) if task == "invert" else (lambda x: rotate_thicken(x, angle))
    return X_tr[:half], make(X_tr[half:]), X_te, make(X_te)


def histogram_match(source: np.ndarray, reference: np.ndarray):
    """Monotone grey-level map that gives ``source``'s pixels ``reference``'s histogram (uint8 LUT)."""
    cdf_s = np.cumsum(np.bincount(source.ravel(), minlength=256)) / source.size
    cdf_r = np.cumsum(np.bincount(reference.ravel(), minlength=256)) / reference.size
    lut = np.clip(np.rint(np.interp(cdf_s, cdf_r, np.arange(256))), 0, 255).astype(np.uint8)
    return lambda x: lut[x]


# ----------------------------------------------------------------------- jobs
def _l1_unet_module(base_channels: int, lr: float):
    import lightning.pytorch as pl
    import torch

    from ganaug.image.translation import build_translation_generator

    class L1UNet(pl.LightningModule):
        """The pix2pix generator trained with L1 alone (no discriminator)."""

        def __init__(self):
            super().__init__()
            self.generator = build_translation_generator("unet", 1, 1, 28, base_channels=base_channels)

        def training_step(self, batch, batch_idx):
            a, b = batch
            return (self.generator(a) - b).abs().mean()

        def configure_optimizers(self):
            return torch.optim.Adam(self.generator.parameters(), lr=lr, betas=(0.5, 0.999))

    return L1UNet()


def run_job(job: dict) -> dict:
    """One arm with one seed; returns its test-set outputs (uint8) and timing."""
    import torch

    torch.set_num_threads(1)
    from ganaug.augment.translation import TranslationAugmenter
    from ganaug.core.data import tensor_loader
    from ganaug.core.trainer import build_trainer, quiet_lightning
    from ganaug.image.encoding import ImageEncoder
    from ganaug.utils import seed_everything

    X_tr, X_te, y_tr, _ = split_mnist()
    kind, seed, cfg = job["kind"], job["seed"], job["cfg"]
    out: dict = {"kind": kind, "seed": seed, "task": job.get("task"), "d_layers": job.get("d_layers")}
    start = time.perf_counter()
    if kind == "classifier":
        from ganaug.image.classifier import CNNClassifier

        half = len(X_tr) // 2
        clf = CNNClassifier(random_state=seed).fit(X_tr[:half], y_tr[:half])
        out["seconds"] = time.perf_counter() - start
        # predictions for every image set the main process will score, computed here with the fitted model
        out["predict"] = {name: clf.predict(imgs) for name, imgs in job["score_sets"].items()}
        out["features"] = {name: clf.transform(imgs) for name, imgs in job["score_sets"].items()}
        return out
    if kind == "pix2pix":
        aug = TranslationAugmenter("pix2pix", epochs=cfg["epochs_paired"], batch_size=cfg["batch_size"],
                                   base_channels=cfg["base_channels"], random_state=seed)
        aug.fit(edge_maps(X_tr), X_tr)
        out["seconds"] = time.perf_counter() - start
        out["pred"] = aug.transform(edge_maps(X_te))
        out["curves"] = aug.module_.epoch_history()
        return out
    if kind == "l1":
        seed_everything(seed)
        enc_a, enc_b = ImageEncoder().fit(X_tr), ImageEncoder().fit(X_tr)
        module = _l1_unet_module(cfg["base_channels"], 2e-4)
        loader = tensor_loader(enc_a.transform(edge_maps(X_tr)), enc_b.transform(X_tr), batch_size=cfg["batch_size"],
                               seed=seed)
        trainer = build_trainer(None, max_epochs=cfg["epochs_paired"], enable_progress_bar=False)
        with quiet_lightning():
            trainer.fit(module, loader)
        out["seconds"] = time.perf_counter() - start
        module.eval()
        with torch.no_grad():
            out["pred"] = enc_b.inverse_transform(module.generator(enc_a.transform(edge_maps(X_te))))
        return out
    if kind == "cyclegan":
        A, B, A_te, B_te = unpaired_domains(job["task"], X_tr, X_te, cfg["angle"])
        aug = TranslationAugmenter("cyclegan", epochs=cfg["epochs_unpaired"], batch_size=cfg["batch_size"],
                                   base_channels=cfg["cyclegan_base_channels"], generator=cfg["cyclegan_generator"],
                                   discriminator_layers=job["d_layers"], random_state=seed)
        aug.fit(A, B)
        out["seconds"] = time.perf_counter() - start
        a2b, b2a = aug.transform(A_te), aug.inverse_transform(B_te)
        out.update(a2b=a2b, b2a=b2a, a2b2a=aug.inverse_transform(a2b), b2a2b=aug.transform(b2a))
        out["curves"] = aug.module_.epoch_history()
        return out
    raise ValueError(f"unknown job kind {kind!r}")


# ---------------------------------------------------------------- reporting
def _ms(values) -> str:
    v = np.asarray(values, dtype=float)
    return f"{v.mean():.3f} ± {v.std(ddof=1):.3f}" if len(v) > 1 else f"{v.mean():.3f}"


def _d_layers(value):
    return value if value == "auto" else int(value)


def _d_name(d_layers) -> str:
    from ganaug.image.translation_networks import auto_patch_layers, patch_receptive_field

    n = auto_patch_layers(28, 28) if d_layers == "auto" else int(d_layers)
    return f"CycleGAN, PatchGAN {patch_receptive_field(n)} px" + (" (auto)" if d_layers == "auto" else "")


def sec_cell(seconds) -> str:
    return f"{np.mean(seconds):.0f}"


def _grid(rows: list[tuple[str, np.ndarray]], path: Path, n: int = 12) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(rows), n, figsize=(n * 0.8, len(rows) * 0.9))
    for r, (label, imgs) in enumerate(rows):
        for c in range(n):
            ax = axes[r, c]
            ax.imshow(imgs[c], cmap="gray", vmin=0, vmax=255)
            ax.set_xticks([]), ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _curves(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = [r for r in results if r.get("curves") and r["seed"] == min(x["seed"] for x in results)]
    fig, axes = plt.subplots(1, len(runs), figsize=(4.2 * len(runs), 3.2), squeeze=False)
    for ax, r in zip(axes[0], runs):
        keys = [k for k in ("d_loss", "g_adv", "l1", "cycle") if k in r["curves"][0]]
        for k in keys:
            ax.plot([c["epoch"] for c in r["curves"]], [c[k] for c in r["curves"]], label=k)
        title = r["kind"] if r["kind"] != "cyclegan" else f"cyclegan {r['task']} D={r['d_layers']}"
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("epoch")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="results/translation_benchmark")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs-paired", type=int, default=6)
    parser.add_argument("--epochs-unpaired", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--base-channels", type=int, default=32)
    parser.add_argument("--cyclegan-generator", choices=["unet", "resnet"], default="unet")
    parser.add_argument("--cyclegan-base-channels", type=int, default=16)
    parser.add_argument("--angle", type=float, default=30.0, help="rotation of the rotate-thicken domain, degrees")
    parser.add_argument("--tasks", nargs="+", choices=UNPAIRED_TASKS, default=list(UNPAIRED_TASKS))
    parser.add_argument("--discriminator-layers", nargs="+", default=["auto", "2"],
                        help="CycleGAN PatchGAN depths to compare ('auto' = 16-pixel patches on 28-pixel digits)")
    parser.add_argument("--jobs", type=int, default=None, help="parallel processes (default: usable cores)")
    args = parser.parse_args(argv)

    from ganaug.metrics.fidelity import frechet_distance
    from ganaug.metrics.image_quality import mean_absolute_error, ssim
    from ganaug.utils import available_cpus

    import _bench

    bench = _bench.start([sys.argv[0], *(argv if argv is not None else sys.argv[1:])])
    t0 = time.perf_counter()
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    cfg = {k: getattr(args, k) for k in ("epochs_paired", "epochs_unpaired", "batch_size", "base_channels",
                                         "cyclegan_generator", "cyclegan_base_channels", "angle")}
    X_tr, X_te, y_tr, y_te = split_mnist()
    edges_te = edge_maps(X_te)

    jobs = []
    for seed in args.seeds:
        jobs += [{"kind": "pix2pix", "seed": seed, "cfg": cfg}, {"kind": "l1", "seed": seed, "cfg": cfg}]
        jobs += [{"kind": "cyclegan", "seed": seed, "task": t, "d_layers": _d_layers(d), "cfg": cfg}
                 for t in args.tasks for d in args.discriminator_layers]
    n_jobs = args.jobs or min(available_cpus(), len(jobs))
    print(f"{len(jobs)} training runs on {n_jobs} process(es) ...", flush=True)
    with mp.get_context("spawn").Pool(n_jobs) as pool:
        results = pool.map(run_job, sorted(jobs, key=lambda j: j["kind"] != "pix2pix"), chunksize=1)

    # every image set the domain-A classifier must label
    score_sets = {"real A test": X_te, "edges": edges_te}
    for t in args.tasks:
        _, B, _, B_te = unpaired_domains(t, X_tr, X_te, args.angle)
        to_a = histogram_match(B, X_tr[: len(X_tr) // 2])  # fitted on the two unpaired training sets
        score_sets[f"{t}/untranslated"] = B_te
        score_sets[f"{t}/histogram"] = to_a(B_te)
    for r in results:
        if r["kind"] in ("pix2pix", "l1"):
            score_sets[f"{r['kind']}/{r['seed']}"] = r["pred"]
        else:
            score_sets[f"{r['task']}/cyclegan-{r['d_layers']}/{r['seed']}"] = r["b2a"]
    clf = run_job({"kind": "classifier", "seed": 0, "cfg": cfg, "score_sets": score_sets})
    acc = {name: float((pred == y_te).mean()) for name, pred in clf["predict"].items()}
    real_feats = clf["features"]["real A test"]
    fd = {name: frechet_distance(f, real_feats) for name, f in clf["features"].items()}

    report: dict = {"config": cfg, "seeds": args.seeds, "classifier_seconds": clf["seconds"],
                    "classifier_accuracy_real_test": acc["real A test"], "paired": {}, "unpaired": {}}
    # ------------------------------------------------------------ paired
    paired = {"identity (edge map)": [{"pred": edges_te, "seconds": 0.0, "acc": acc["edges"], "fd": fd["edges"]}]}
    for r in results:
        if r["kind"] in ("pix2pix", "l1"):
            name = "pix2pix (GAN + 100 L1)" if r["kind"] == "pix2pix" else "U-Net, L1 only"
            key = f"{r['kind']}/{r['seed']}"
            paired.setdefault(name, []).append({"pred": r["pred"], "seconds": r["seconds"], "acc": acc[key],
                                                "fd": fd[key]})
    lines = ["| arm | L1 (test) ↓ | SSIM (test) ↑ | classifier accuracy on output ↑ | Fréchet distance to real digits ↓ "
             "| fit seconds |",
             "|---|---|---|---|---|---|"]
    for name, runs in paired.items():
        l1 = [mean_absolute_error(r["pred"], X_te).mean() for r in runs]
        ss = [ssim(r["pred"], X_te).mean() for r in runs]
        ac = [r["acc"] for r in runs]
        fds = [r["fd"] for r in runs]
        sec = [r["seconds"] for r in runs]
        report["paired"][name] = {"l1": l1, "ssim": ss, "accuracy": ac, "frechet": fds, "seconds": sec}
        lines.append(f"| {name} | {_ms(l1)} | {_ms(ss)} | {_ms(ac)} | {_ms(fds)} | {sec_cell(sec)} |")
    lines.append(f"| (real test digits) | 0 | 1 | {acc['real A test']:.3f} | 0 | |")
    paired_md = "\n".join(lines)

    # ---------------------------------------------------------- unpaired
    unpaired_md = []
    for t in args.tasks:
        _, B, A_te, B_te = unpaired_domains(t, X_tr, X_te, args.angle)
        hist = score_sets[f"{t}/histogram"]
        rows = {
            "untranslated B": {"b2a_l1": [mean_absolute_error(B_te, A_te).mean()], "acc": [acc[f"{t}/untranslated"]],
                               "fd": [fd[f"{t}/untranslated"]]},
            "histogram matching B→A": {"b2a_l1": [mean_absolute_error(hist, A_te).mean()],
                                       "acc": [acc[f"{t}/histogram"]], "fd": [fd[f"{t}/histogram"]]},
        }
        grid_rows = [("A", A_te), ("B", B_te), ("hist. B→A", hist)]
        for d in args.discriminator_layers:
            runs = [r for r in results if r["kind"] == "cyclegan" and r["task"] == t and r["d_layers"] == _d_layers(d)]
            keys = [f"{t}/cyclegan-{r['d_layers']}/{r['seed']}" for r in runs]
            rows[_d_name(_d_layers(d))] = {
                "b2a_l1": [mean_absolute_error(r["b2a"], A_te).mean() for r in runs],
                "a2b_l1": [mean_absolute_error(r["a2b"], B_te).mean() for r in runs],
                "cycle_aba": [mean_absolute_error(r["a2b2a"], A_te).mean() for r in runs],
                "cycle_bab": [mean_absolute_error(r["b2a2b"], B_te).mean() for r in runs],
                "acc": [acc[k] for k in keys],
                "fd": [fd[k] for k in keys],
                "seconds": [r["seconds"] for r in runs],
            }
            first = min(runs, key=lambda r: r["seed"])
            tag = "auto" if d == "auto" else f"D{d}"
            grid_rows += [(f"B→A {tag}", first["b2a"]), (f"B→A→B {tag}", first["b2a2b"]),
                          (f"A→B {tag}", first["a2b"]), (f"A→B→A {tag}", first["a2b2a"])]
        report["unpaired"][t] = rows
        lines = [f"**{t}**" + (f" (3x3 dilation, rotation {args.angle:g}°)" if t == "rotate-thicken" else " (255 - x)"),
                 "",
                 "| arm | L1 of B→A vs true digit ↓ | L1 of A→B vs true B ↓ | cycle L1 A→B→A ↓ | cycle L1 B→A→B ↓ "
                 "| domain-A classifier accuracy on B→A ↑ | Fréchet distance of B→A to real A ↓ | fit seconds |",
                 "|---|---|---|---|---|---|---|---|"]
        for name, m in rows.items():
            cell = lambda k: _ms(m[k]) if k in m else "–"  # noqa: E731
            sec = sec_cell(m["seconds"]) if "seconds" in m else "0"
            lines.append(f"| {name} | {cell('b2a_l1')} | {cell('a2b_l1')} | {cell('cycle_aba')} | {cell('cycle_bab')} "
                         f"| {cell('acc')} | {cell('fd')} | {sec} |")
        lines.append(f"| (real A test digits) | 0 | | | | {acc['real A test']:.3f} | 0 | |")
        unpaired_md.append("\n".join(lines))
        _grid(grid_rows, out_dir / f"unpaired_{t}_samples.png")

    s0 = min(args.seeds)
    pred = {r["kind"]: r["pred"] for r in results if r["kind"] in ("pix2pix", "l1") and r["seed"] == s0}
    _grid([("edges", edges_te), ("L1 U-Net", pred["l1"]), ("pix2pix", pred["pix2pix"]), ("target", X_te)],
          out_dir / "paired_samples.png")
    _curves([r for r in results if r["kind"] in ("pix2pix", "cyclegan")], out_dir / "curves.png")

    total = time.perf_counter() - t0
    report["total_seconds"] = total
    bench = _bench.finish(bench)
    report["bench"] = _bench.facts(bench)
    md = [
        "# Translation benchmark (MNIST-4k, held-out 1000 digits)", "", *_bench.markdown(bench), "",
        f"Seeds {args.seeds}; epochs paired {args.epochs_paired}, unpaired {args.epochs_unpaired}; batch "
        f"{args.batch_size}; base channels {args.base_channels} (pix2pix, U-Net), {args.cyclegan_base_channels} "
        f"(CycleGAN, {args.cyclegan_generator} generators). "
        f"Total {total / 60:.1f} min on {n_jobs} process(es). Fit seconds are the mean per run.", "",
        "## Paired: Canny edges -> digit", "", paired_md, "",
        "## Unpaired: domain A = digits, domain B = transformed other digits", "", *[u + "\n" for u in unpaired_md],
        f"Domain-A classifier: CNNClassifier on the 1500 domain-A training digits ({clf['seconds']:.0f} s).",
    ]
    (out_dir / "results.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    (out_dir / "results.json").write_text(json.dumps(report, indent=2, default=float), encoding="utf-8")
    print("\n".join(md))
    print(f"\nwrote {out_dir}/results.md, results.json and plots")
    return 0


if __name__ == "__main__":
    sys.exit(main())
