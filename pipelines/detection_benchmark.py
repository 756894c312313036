"""Detection benchmark: do GAN-made rare objects, pasted into scenes, help a detector find rare classes?

Data (real digits, synthetic placement): the bundled MNIST-4k is split 70/30,
stratified, *first*. Training scenes (64x64, 2 to 5 digits each on a noise
background, boxes from each digit's ink) are built from the training digits
only, with digits 0-4 made rare: each is drawn 20x less often than a digit
5-9, so the five rare digits together are about 5% of the training boxes.
Test scenes are built from the held-out test digits (never seen in training,
never used for crops or the GAN), all ten classes equally frequent.

The same small anchor-free detector (:class:`ganaug.detection.CenterNetDetector`,
same architecture and number of optimiser steps for every arm) is trained on

1. imbalanced scenes;
2. + albumentations (box-aware random affine, through ``AugmentedDataset``);
3. repeat-factor sampling (LVIS): images with rare classes drawn more often;
4. + copy-paste of real rare crops (``ObjectPasteAugmenter(source="real")``);
5. + GAN-made rare objects pasted (``ObjectPasteAugmenter(source="gan")``,
   a conditional GAN trained on the object crops of the training scenes);
6. + both kinds of pastes: half real crops, half GAN-made (``source="mixed"``, the same GAN);
7. + copy-paste + albumentations;
8. + GAN pastes + albumentations;

pastes fill every class up to the most common one (``sampling_strategy="auto"``
on box counts). Scored on the test scenes: AP@0.5 per class, mAP@0.5,
mAP@0.5:0.95 (COCO-style, 101-point) and the rare classes' mAP, mean ± std
over seeds (seeds change the detector's initialisation and batches, the
pasted draws and the augmentation stream; scenes, crops and the GAN are
those of the first seed).

Privacy (memorisation): the GAN-made rare objects against the object crops
of the training scenes, with the crops of the test scenes' rare digits as
the holdout (:func:`ganaug.privacy.privacy_report` in pixel space, at the
GAN's object size): DCR ratio, its 5 % quantile ratio, exact copies and the
membership-inference AUC, next to copy-paste (real crops drawn again).
``--privacy-only`` computes this table alone from the GAN a previous run
saved in ``--out``/gan_paste (same data arguments).

Writes ``results.md``, ``arms.csv``, ``per_class.csv``, ``privacy.md`` and PNGs (sample
scenes with boxes, pasted GAN and real objects, rare mAP per arm) to ``--out``.

Run::

    python pipelines/detection_benchmark.py --out results/detection_benchmark
    python pipelines/detection_benchmark.py --jobs 3     # the three seeds in three processes
    python pipelines/detection_benchmark.py --quick      # smoke run, ~1 minute
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("GANAUG_PROGRESS", "0")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

N_CLASSES = 10
RARE = (0, 1, 2, 3, 4)


def build_data(args):
    from sklearn.model_selection import train_test_split

    from ganaug.datasets import load_mnist
    from ganaug.detection import make_digit_scenes

    X, y = load_mnist()
    if args.data:
        with np.load(args.data) as f:
            X, y = f["X"], f["y"]
    idx_tr, idx_te = train_test_split(np.arange(len(y)), test_size=0.3, stratify=y, random_state=0)
    weights = {c: (args.rare_weight if c in RARE else 1.0) for c in range(N_CLASSES)}
    tr_images, tr_targets, _ = make_digit_scenes(X[idx_tr], y[idx_tr], args.train_scenes, image_size=args.size,
                                                 class_weights=weights, random_state=0)
    te_images, te_targets, _ = make_digit_scenes(X[idx_te], y[idx_te], args.test_scenes, image_size=args.size,
                                                 random_state=1)
    return tr_images, tr_targets, te_images, te_targets


def transform():
    import albumentations as A

    from ganaug.data import detection_compose

    return detection_compose([A.Affine(scale=(0.85, 1.15), translate_percent=(-0.1, 0.1), rotate=(-8, 8), p=0.9),
                              A.RandomBrightnessContrast(0.15, 0.15, p=0.5)], min_visibility=0.5)


def repeat_factor_weights(targets) -> np.ndarray:
    """LVIS repeat-factor sampling: r_c = max(1, sqrt(t / f_c)), t = the most common class's image frequency."""
    present = np.zeros((len(targets), N_CLASSES), bool)
    for i, t in enumerate(targets):
        present[i, np.asarray(t["labels"], int)] = True
    freq = present.mean(axis=0)
    r = np.where(freq > 0, np.sqrt(freq.max() / np.maximum(freq, 1e-12)), 1.0)
    return np.where(present, r[None, :], 1.0).max(axis=1)


def fit_detector(train, args, seed: int, augment: bool = False, sample_weight=None):
    from ganaug.data import AugmentedDataset
    from ganaug.detection import CenterNetDetector

    images, targets = train
    det = CenterNetDetector(N_CLASSES, steps=args.steps, batch_size=args.batch_size, width=args.width,
                            random_state=seed)
    if augment:
        ds = AugmentedDataset((images, targets), transform=transform(), random_state=seed)
        return det.fit(ds, sample_weight=sample_weight)
    return det.fit(images, targets, sample_weight=sample_weight)


def concat(images, targets, new_images, new_targets):
    new_images = np.asarray(new_images).reshape(-1, *images.shape[1:]).astype(images.dtype)
    clean = [{"boxes": t["boxes"], "labels": t["labels"]} for t in new_targets]
    return np.concatenate([images, new_images]), list(targets) + clean


def _fmt(values) -> str:
    v = np.asarray(values, dtype=float) * 100
    return f"{v.mean():.1f} ± {v.std():.1f}"


def draw_scenes(path, images, targets, title, n=6, rare=RARE):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    fig, axes = plt.subplots(1, n, figsize=(2.1 * n, 2.4))
    for ax, im, t in zip(np.atleast_1d(axes), images[:n], targets[:n]):
        ax.imshow(im, cmap="gray", vmin=0, vmax=255)
        pasted = t.get("pasted", np.zeros(len(t["labels"]), bool))
        for b, c, p in zip(t["boxes"], t["labels"], pasted):
            colour = "magenta" if p else ("orange" if int(c) in rare else "lime")
            ax.add_patch(Rectangle((b[0], b[1]), b[2] - b[0], b[3] - b[1], fill=False, color=colour, lw=1.2))
            ax.text(b[0], b[1] - 1, str(int(c)), color=colour, fontsize=7)
        ax.axis("off")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


_SHARED: dict = {}


def _pastes(key: str):
    """The fitted paste augmenter of ``key`` (the GAN ones are read from disk: fitted in another process)."""
    from ganaug.detection import ObjectPasteAugmenter

    sh = _SHARED
    if key == "real":
        return sh["real_paste"]
    aug = ObjectPasteAugmenter.load(sh["gan_dir"])
    if key == "mixed":  # the same crops and GAN; half of the pasted objects are real crops
        aug.source, aug.real_share = "mixed", 0.5
    return aug


def fit_gan_task(_=None) -> float:
    """Fit the GAN paste augmenter on the training scenes and save it; returns seconds."""
    import torch

    from ganaug.augment.image import ImageAugmenter
    from ganaug.detection import ObjectPasteAugmenter

    sh = _SHARED
    args = sh["args"]
    torch.set_num_threads(1 if args.jobs > 1 else int(os.environ.get("OMP_NUM_THREADS", "2")))
    t0 = time.time()
    gan = ImageAugmenter(epochs=args.gan_epochs, width=args.gan_width)
    aug = ObjectPasteAugmenter(source="gan", gan=gan, gan_max_per_class=args.gan_max_per_class, random_state=0)
    aug.fit(*sh["tr"])
    elapsed = time.time() - t0
    aug.save(sh["gan_dir"])
    return elapsed


def run_task(task):
    """One arm for one seed; returns (seed, arm, report, seconds, sample pastes or None)."""
    import torch

    from ganaug.detection import detection_report

    seed, name, data, augment = task
    sh = _SHARED
    args = sh["args"]
    if args.jobs > 1:
        torch.set_num_threads(1)
    tr_images, tr_targets = sh["tr"]
    te_images, te_targets = sh["te"]
    t0 = time.time()
    weight, sample = None, None
    if data in ("real", "gan", "mixed"):
        new_images, new_targets = _pastes(data).paste(tr_images, tr_targets, random_state=1000 + seed)
        train = concat(tr_images, tr_targets, new_images, new_targets)
        sample = (np.asarray(new_images)[:6], new_targets[:6])
    else:
        train = (tr_images, tr_targets)
        if data == "rfs":
            weight = repeat_factor_weights(tr_targets)
    det = fit_detector(train, args, seed, augment=augment, sample_weight=weight)
    report = detection_report(det.predict(te_images), te_targets, N_CLASSES, RARE)
    elapsed = time.time() - t0
    print(f"seed {seed} {name:32s} mAP50 {report['mAP50']:.3f} rare mAP50 {report['rare_mAP50']:.3f} "
          f"mAP50:95 {report['mAP50_95']:.3f} ({elapsed:.0f}s)", flush=True)
    return seed, name, report, elapsed, sample


from _privacy_columns import PRIVACY_METRICS  # noqa: E402 - privacy_report key -> header, shared by the benchmarks


def privacy_table(gan_paste, te_images, te_targets, seed: int = 0) -> tuple[list[dict], str]:
    """privacy_report of GAN-made rare objects and of re-drawn real crops vs the training crops (pixel space).

    Every crop is resized to the GAN's object size, as the GAN's training crops were; the holdout is the
    crops of the test scenes (held-out digits) of the rare classes.
    """
    from ganaug.detection import ObjectPasteAugmenter
    from ganaug.privacy import privacy_report

    rng = np.random.default_rng(seed)
    train_crops = gan_paste._crop_array(np.arange(len(gan_paste.crop_labels_)))  # the crops the GAN learnt from
    y_train = gan_paste.crop_labels_
    test_paste = ObjectPasteAugmenter(source="real", object_size=gan_paste.object_size,
                                      context=gan_paste.context).fit(te_images, te_targets)
    hold = np.flatnonzero(np.isin(test_paste.crop_labels_, RARE))
    X_hold, y_hold = test_paste._crop_array(hold), test_paste.crop_labels_[hold]
    wanted = {c: int(gan_paste.sampling_strategy_[c]) for c in RARE if gan_paste.sampling_strategy_.get(c, 0) > 0}
    X_gan, y_gan = gan_paste.gan_.sample(wanted, random_state=seed + 3000)
    picks = np.concatenate([rng.choice(np.flatnonzero(y_train == c), n, replace=True) for c, n in wanted.items()])
    sources = {"copy-paste (real crops drawn again)": (train_crops[picks], y_train[picks]),
               "GAN-made objects": (np.asarray(X_gan).astype(train_crops.dtype), np.asarray(y_gan))}
    rows = []
    for name, (X_syn, y_syn) in sources.items():
        rep = privacy_report(train_crops, X_syn, X_hold, y_train, y_syn, y_hold, kind="image", random_state=seed)
        rows.append({"source": name, "n_added": len(y_syn), "n_members": int(np.isin(y_train, RARE).sum()),
                     "n_holdout": rep["n_holdout"], **{head: rep[key] for key, head in PRIVACY_METRICS.items()}})
    heads = list(PRIVACY_METRICS.values())
    md = [
        "## Privacy: are the pasted objects new objects?", "",
        f"`privacy_report` in pixel space ({gan_paste.object_size}x{gan_paste.object_size} crops with context) of "
        f"the {rows[0]['n_added']} objects added to digits 0-4 against the {len(y_train)} training crops "
        f"({rows[0]['n_members']} of digits 0-4: the attack's members), holdout = the {rows[0]['n_holdout']} crops "
        "of digits 0-4 in the test scenes (held-out digits). DCR ratio = median distance to the closest training "
        "crop / the same for fresh crops (0 = copies, ~1 = as new as real objects); MIA AUC = membership inference "
        f"(0.5 = no leak; standard error about {0.41 / np.sqrt(max(1, rows[0]['n_members'])):.2f}).", "",
        "| source | " + " | ".join(heads) + " |", "|---|" + "---|" * len(heads),
    ]
    md += [f"| {r['source']} | " + " | ".join(f"{r[h]:.2f}" for h in heads) + " |" for r in rows]
    return rows, "\n".join(md) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="results/detection_benchmark")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--train-scenes", type=int, default=800)
    parser.add_argument("--test-scenes", type=int, default=300)
    parser.add_argument("--size", type=int, default=64, help="canvas side (pixels)")
    parser.add_argument("--rare-weight", type=float, default=0.05, help="frequency of a rare digit vs a common one")
    parser.add_argument("--steps", type=int, default=300, help="detector optimiser steps (every arm)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--width", type=int, default=24, help="detector width")
    parser.add_argument("--gan-epochs", type=int, default=30)
    parser.add_argument("--gan-width", type=int, default=32, help="GAN width (ImageAugmenter's default is 64)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="seeds run in this many processes (one torch thread each) after the GAN is fitted")
    parser.add_argument("--gan-max-per-class", type=int, default=60, help="GAN trains on at most this many crops per class")
    parser.add_argument("--data", default=None, help="an mnist_4k.npz to use instead of the bundled copy")
    parser.add_argument("--quick", action="store_true", help="tiny smoke run (few steps, one seed)")
    parser.add_argument("--privacy-only", action="store_true",
                        help="only the privacy table, from the GAN a previous run saved in --out/gan_paste")
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.gan_epochs, args.train_scenes, args.test_scenes = 30, 1, 200, 60
        if args.jobs == 1:
            args.seeds = [0]

    import torch

    from ganaug.detection import ObjectPasteAugmenter

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    import _bench

    bench = _bench.start([sys.argv[0], *(argv if argv is not None else sys.argv[1:])])
    settle = _bench.quick_settle() if args.quick else None
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t_all = time.time()
    tr_images, tr_targets, te_images, te_targets = build_data(args)
    counts = np.bincount(np.concatenate([t["labels"] for t in tr_targets]), minlength=N_CLASSES)
    te_counts = np.bincount(np.concatenate([t["labels"] for t in te_targets]), minlength=N_CLASSES)
    print(f"train: {len(tr_images)} scenes, boxes per class {counts.tolist()} (rare share "
          f"{counts[list(RARE)].sum() / counts.sum():.1%}); test: {len(te_images)} scenes, {te_counts.tolist()}")

    if args.privacy_only:
        gan_paste = ObjectPasteAugmenter.load(out / "gan_paste")
        _, text = privacy_table(gan_paste, te_images, te_targets)
        bench = _bench.finish(bench, settle_seconds=settle)
        (out / "privacy.md").write_text("\n".join(_bench.markdown(bench)) + "\n\n" + text)
        print(text)
        return 0
    t0 = time.time()
    real_paste = ObjectPasteAugmenter(source="real", random_state=0).fit(tr_images, tr_targets)
    t_real_fit = time.time() - t0
    print(f"objects to add per class {real_paste.sampling_strategy_}", flush=True)
    arms = [
        ("imbalanced", "plain", False),
        ("+ albumentations", "plain", True),
        ("repeat-factor sampling", "rfs", False),
        ("+ copy-paste (real crops)", "real", False),
        ("+ GAN pastes", "gan", False),
        ("+ copy-paste and GAN pastes (half each)", "mixed", False),
        ("+ copy-paste + albumentations", "real", True),
        ("+ GAN pastes + albumentations", "gan", True),
    ]
    global _SHARED
    _SHARED = dict(args=args, tr=(tr_images, tr_targets), te=(te_images, te_targets), real_paste=real_paste,
                   gan_dir=str(out / "gan_paste"))
    tasks = [(seed, name, data, augment) for seed in args.seeds for name, data, augment in arms]
    first = [t for t in tasks if t[2] not in ("gan", "mixed")]
    later = [t for t in tasks if t[2] in ("gan", "mixed")]
    if args.jobs > 1:
        import multiprocessing as mp

        with mp.get_context("fork").Pool(args.jobs) as pool:
            gan_job = pool.apply_async(fit_gan_task)  # the GAN trains while the arms without it run
            done = pool.map_async(run_task, first)
            t_gan_fit = gan_job.get()
            print(f"GAN fit {t_gan_fit:.0f}s", flush=True)
            outputs = pool.map(run_task, later) + done.get()
    else:
        t_gan_fit = fit_gan_task()
        outputs = [run_task(t) for t in first + later]
    results = {name: [] for name, _, _ in arms}
    times = {name: [] for name, _, _ in arms}
    samples = {}
    for seed in args.seeds:  # in seed order
        for s_, name, report, elapsed, sample in outputs:
            if s_ == seed:
                results[name].append(report)
                times[name].append(elapsed)
                data = next(d for n, d, _ in arms if n == name)
                if sample is not None and data not in samples:
                    samples[data] = sample
    gan_paste = _pastes("gan")
    _, privacy_md = privacy_table(gan_paste, te_images, te_targets)
    (out / "privacy.md").write_text(privacy_md)

    # ---------------------------------------------------------------- tables
    lines = ["| arm | rare mAP@0.5 (digits 0-4) | common mAP@0.5 (5-9) | mAP@0.5 | mAP@0.5:0.95 | "
             "rare mAP@0.5:0.95 | time per seed (s) |", "|---|---|---|---|---|---|---|"]
    csv = ["arm,seed,rare_mAP50,mAP50,mAP50_95,rare_mAP50_95,seconds," + ",".join(f"AP50_{c}" for c in range(N_CLASSES))]
    for name, _, _ in arms:
        rs = results[name]
        common = [np.mean([r["AP50"][c] for c in range(N_CLASSES) if c not in RARE]) for r in rs]
        lines.append(f"| {name} | {_fmt([r['rare_mAP50'] for r in rs])} | {_fmt(common)} | "
                     f"{_fmt([r['mAP50'] for r in rs])} | {_fmt([r['mAP50_95'] for r in rs])} | "
                     f"{_fmt([r['rare_mAP50_95'] for r in rs])} | {np.mean(times[name]):.0f} |")
        for seed, r, t in zip(args.seeds, rs, times[name]):
            csv.append(f"{name},{seed},{r['rare_mAP50']:.4f},{r['mAP50']:.4f},{r['mAP50_95']:.4f},"
                       f"{r['rare_mAP50_95']:.4f},{t:.1f}," + ",".join(f"{r['AP50'][c]:.4f}" for c in range(N_CLASSES)))
    per_class = ["| arm | " + " | ".join(f"{c}{'*' if c in RARE else ''}" for c in range(N_CLASSES)) + " |",
                 "|---|" + "---|" * N_CLASSES]
    for name, _, _ in arms:
        rs = results[name]
        per_class.append(f"| {name} | " + " | ".join(f"{100 * np.mean([r['AP50'][c] for r in rs]):.1f}"
                                                     for c in range(N_CLASSES)) + " |")
    best_rare = max(results, key=lambda k: np.mean([r["rare_mAP50"] for r in results[k]]))
    gan_best = max(("+ GAN pastes", "+ GAN pastes + albumentations", "+ copy-paste and GAN pastes (half each)"),
                   key=lambda k: np.mean([r["rare_mAP50"] for r in results[k]]))
    cp_best = max(("+ copy-paste (real crops)", "+ copy-paste + albumentations"),
                  key=lambda k: np.mean([r["rare_mAP50"] for r in results[k]]))
    g = np.mean([r["rare_mAP50"] for r in results[gan_best]])
    c = np.mean([r["rare_mAP50"] for r in results[cp_best]])
    verdict = (f"Best rare-class mAP@0.5: **{best_rare}**. Best GAN arm ({gan_best}) {100 * g:.1f} vs best "
               f"copy-paste arm ({cp_best}) {100 * c:.1f}: "
               + ("the GAN is ahead." if g > c else ("a tie." if g == c else "**the GAN loses to copy-paste of real crops.**")))
    total = time.time() - t_all
    bench = _bench.finish(bench, settle_seconds=settle)
    md = [
        "# Detection benchmark", "", *_bench.markdown(bench), "",
        f"Train: {len(tr_images)} scenes {args.size}x{args.size}, boxes per class {counts.tolist()} "
        f"(digits 0-4 rare: {counts[list(RARE)].sum() / counts.sum():.1%} of boxes); test: {len(te_images)} "
        f"scenes of held-out digits, boxes per class {te_counts.tolist()}.",
        f"Detector: CenterNetDetector width {args.width}, {args.steps} steps of {args.batch_size}; "
        f"seeds {args.seeds}. GAN: ImageAugmenter defaults but width {args.gan_width}, {args.gan_epochs} epochs on at most "
        f"{args.gan_max_per_class} crops per class, fit {t_gan_fit:.0f} s. Pastes per class: "
        f"{real_paste.sampling_strategy_}. Total run {total / 60:.1f} min.", "",
        "## Test scenes (mean ± std over seeds, %)", "", *lines, "",
        "Time per seed: drawing the pasted images + detector training + prediction, wall clock in one process "
        f"({args.jobs} processes at once on a shared machine); the GAN fit "
        f"({t_gan_fit:.0f} s) and copy-paste fit ({t_real_fit:.1f} s) are done once.", "",
        "## AP@0.5 per class (mean over seeds, %; * = rare in training)", "", *per_class, "", verdict, "",
        privacy_md,
    ]
    (out / "results.md").write_text("\n".join(md))
    (out / "arms.csv").write_text("\n".join(csv) + "\n")
    (out / "per_class.csv").write_text("\n".join(per_class) + "\n")
    print("\n".join(md))

    # ----------------------------------------------------------------- plots
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    draw_scenes(out / "scenes_train.png", tr_images, tr_targets, "training scenes (orange: rare digits)")
    draw_scenes(out / "scenes_test.png", te_images, te_targets, "test scenes (held-out digits, balanced)")
    for key, label in (("real", "copy-paste of real crops"), ("gan", "GAN-made objects")):
        imgs, tg = samples[key]
        draw_scenes(out / f"pasted_{key}.png", imgs, tg, f"pasted {label} (magenta)")
    objs, labels = gan_paste.sample_objects({c: 8 for c in RARE}, random_state=0)
    fig, axes = plt.subplots(len(RARE), 8, figsize=(8, len(RARE)))
    for ax, o in zip(axes.ravel(), objs):
        ax.imshow(np.squeeze(o), cmap="gray", vmin=0, vmax=255)
        ax.axis("off")
    fig.suptitle("GAN-made rare objects (with context margin)", fontsize=9)
    fig.savefig(out / "gan_objects.png", dpi=110)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(7, 3.2))
    names = [n for n, _, _ in arms]
    means = [100 * np.mean([r["rare_mAP50"] for r in results[n]]) for n in names]
    stds = [100 * np.std([r["rare_mAP50"] for r in results[n]]) for n in names]
    ax.barh(names[::-1], means[::-1], xerr=stds[::-1], color="tab:blue")
    ax.set_xlabel("rare-class mAP@0.5 (%)")
    fig.tight_layout()
    fig.savefig(out / "rare_map.png", dpi=110)
    plt.close(fig)
    return 0


if __name__ == "__main__":
    sys.exit(main())
