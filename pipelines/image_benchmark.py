"""Image benchmark: does GAN augmentation help a CNN learn rare digits?

Data: the bundled MNIST-4k (4000 digits, ~400 per class). It is split 70/30,
stratified, *first*; the test split (1200 images, balanced) is never touched
again. In the training split, digits 0-4 are made rare: 5% of their images
are kept (14 per digit), digits 5-9 keep all (~280).

The same small CNN (:class:`ganaug.image.CNNClassifier`, written in ganaug,
same architecture and the same number of optimiser steps for every arm) is
trained on

1. real only (the imbalanced training set);
2. real + albumentations (random affine);
3. real + random oversampling (imbalanced-learn ``RandomOverSampler``);
4. real + random oversampling + albumentations (the strongest simple alternative);
5. real + ganaug: ``AugmentedDataset`` filling digits 0-4 up to the majority
   with ``ImageAugmenter`` images (its defaults: hinge loss, projection
   discriminator with an auxiliary classifier), new synthetic images every epoch;
6. real + ganaug + albumentations (the same, with the same transform on real
   and synthetic images);
7. real + ganaug mixed: the same balance, but a quarter of the added images are
   synthetic and three quarters repeat the real rare images
   (``AugmentedDataset(synthetic_share=0.25)``, i.e. random oversampling
   with a dose of GAN images);
8. real + ganaug mixed + albumentations;

and scored on the test split: balanced accuracy, macro-F1 and the mean recall
of the rare digits, mean ± std over seeds (seeds change the classifier's
initialisation and batches, the synthetic draws and the augmentation stream;
the split and the GAN are those of the first seed).

GAN fidelity, measured with a judge: the same CNN trained on the *full* real
training split (before digits were made rare). Conditional accuracy = share
of images generated for digit ``c`` that the judge calls ``c`` (goal >= 90%);
Fréchet distance per digit in the judge's feature space between generated
images and the real *test* images of that digit (with the distance of the
real training images to the same test images as the floor).

Loss choice: hinge + projection (ImageAugmenter's default, which adds an
auxiliary classifier trained on real images) vs ACGAN (non-saturating +
auxiliary classifier on real and generated images) vs WGAN-GP (projection +
auxiliary classifier, no spectral norm), same networks, epochs and seed, with
their training time, fidelity and the downstream balanced accuracy of arm 5
(first seed). ``--losses all`` adds the plain projection discriminator.

Privacy (memorisation): the images each GAN adds for digits 0-4 (as many as
the 'ganaug' arms add) against the kept rare training images, with the test
images of digits 0-4 as the holdout (:func:`ganaug.privacy.privacy_report`),
in pixel space and in the judge's feature space: DCR ratio, its 5 % quantile
ratio, exact copies and the membership-inference AUC; random oversampling
(copies of the kept images) and the same copies through albumentations in
the same table.

Writes ``results.md``, ``arms.csv``, ``losses.csv``, ``fidelity.csv``, ``privacy.csv`` and
PNGs (sample grids per loss, latent interpolation, training curves, real
rare digits) to ``--out``.

Run::

    python pipelines/image_benchmark.py --out results/image_benchmark
    python pipelines/image_benchmark.py --quick          # smoke run, ~1 minute
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

RARE = (0, 1, 2, 3, 4)
KEEP_SHARE = 0.05
TEST_SIZE = 0.3

LOSSES: dict[str, dict] = {
    # ImageAugmenter's defaults: projection head plus an auxiliary classifier trained on real images
    "hinge + projection (+ aux. classifier, default)": dict(conditioning="projection", loss="hinge"),
    "ACGAN (non-saturating + auxiliary classifier)": dict(conditioning="acgan", loss="nonsaturating"),
    "WGAN-GP (projection + aux. classifier, no spectral norm)": dict(conditioning="projection", loss="wgan-gp",
                                                                   betas=(0.5, 0.9)),
    # opt-in (--losses): the plain projection discriminator, no auxiliary classifier
    "hinge + projection only": dict(conditioning="projection", loss="hinge", aux_weight=0.0),
}
DEFAULT_LOSSES = list(LOSSES)[:3]
MAIN_LOSS = list(LOSSES)[0]
SHORT = {name: key for name, key in zip(LOSSES, ("hinge", "acgan", "wgan-gp", "hinge-no-aux"))}


def make_split(X, y, seed: int = 0):
    """Stratified train/test split first; then keep 5% of digits 0-4 in train."""
    from sklearn.model_selection import train_test_split

    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=TEST_SIZE, stratify=y, random_state=seed)
    rng = np.random.default_rng(seed)
    keep = np.ones(len(y_tr), dtype=bool)
    for c in RARE:
        idx = np.flatnonzero(y_tr == c)
        n_keep = max(2, int(round(KEEP_SHARE * len(idx))))
        keep[rng.permutation(idx)[n_keep:]] = False
    return (X_tr, y_tr), (X_tr[keep], y_tr[keep]), (X_te, y_te)


def albumentations_transform():
    import albumentations as A

    return A.Compose([
        A.Affine(scale=(0.9, 1.1), translate_percent=(-0.08, 0.08), rotate=(-12, 12), shear=(-8, 8),
                 border_mode=0, p=0.9),
    ])


def score(clf, X_te, y_te) -> dict:
    from sklearn.metrics import balanced_accuracy_score, f1_score, recall_score

    pred = clf.predict(X_te)
    recalls = recall_score(y_te, pred, labels=list(range(10)), average=None)
    return {
        "balanced_accuracy": balanced_accuracy_score(y_te, pred),
        "macro_f1": f1_score(y_te, pred, average="macro"),
        "rare_recall": float(np.mean(recalls[list(RARE)])),
    }


def train_gan(X, y, loss_options: dict, args, seed: int):
    """ImageAugmenter with its defaults (only the loss choice, and --gan-epochs/--gan-width when given, differ)."""
    from ganaug.augment.image import ImageAugmenter

    options = dict(loss_options)
    if args.gan_epochs is not None:
        options["epochs"] = args.gan_epochs
    if args.gan_width is not None:
        options["width"] = args.gan_width
    aug = ImageAugmenter(random_state=seed, trainer={"enable_progress_bar": False}, **options)
    start = time.perf_counter()
    aug.fit(X, y)
    return aug, time.perf_counter() - start


def fidelity(aug, judge, real_feats, X_full, y_full, X_te, y_te, n_per_class: int, seed: int) -> dict:
    from ganaug.metrics.fidelity import class_frechet_distances, conditional_accuracy

    X_gen, y_gen = aug.sample({c: n_per_class for c in range(10)}, random_state=seed + 1000)
    overall, per_class = conditional_accuracy(y_gen, judge.predict(X_gen))
    test_feats = real_feats["test"]
    fd = class_frechet_distances(test_feats, y_te, judge.transform(X_gen), y_gen)
    return {"cond_acc": overall, "cond_acc_per_class": per_class, "fd": fd}


from _privacy_columns import PRIVACY_METRICS  # noqa: E402 - privacy_report key -> header, shared by the benchmarks


def added_counts(y_rare) -> dict:
    """Images the 'ganaug' arms add per rare digit (up to the majority count)."""
    counts = np.bincount(y_rare, minlength=10)
    return {c: int(counts.max() - counts[c]) for c in RARE if counts.max() > counts[c]}


def privacy_rows(gans: dict, judge, data: dict, seed: int) -> list[dict]:
    """privacy_report of the added rare-digit images, pixel and judge-feature space, per source of images."""
    from imblearn.over_sampling import RandomOverSampler

    from ganaug.privacy import privacy_report

    X_r, y_r = data["rare"]
    X_te, y_te = data["test"]
    wanted = added_counts(y_r)
    n_r = len(y_r)
    idx, y_idx = RandomOverSampler(sampling_strategy=wanted, random_state=seed).fit_resample(
        np.arange(n_r)[:, None], y_r)
    copies, y_copies = X_r[idx[n_r:, 0]], y_idx[n_r:]
    transform = albumentations_transform()
    transform.set_random_seed(seed)
    jittered = np.stack([transform(image=img)["image"] for img in copies])  # a benchmark, not a hot path
    sources = {"random oversampling (copies)": (copies, y_copies),
               "random oversampling + albumentations": (jittered, y_copies)}
    for name, (aug, _, _) in gans.items():
        sources[f"ganaug: {name}"] = aug.sample(wanted, random_state=seed + 2000)
    rows = []
    for name, (X_syn, y_syn) in sources.items():
        row = {"source": name, "n_added": len(y_syn)}
        for space, encoder in (("pixels", None), ("judge features", judge.transform)):
            rep = privacy_report(X_r, X_syn, X_te, y_r, y_syn, y_te, kind="image", encoder=encoder,
                                 random_state=seed)
            row.update({f"{head} ({space})": rep[key] for key, head in PRIVACY_METRICS.items()})
            row["n_members"] = int(np.isin(y_r, np.unique(y_syn)).sum())
            row["n_holdout"] = rep["n_holdout"]
        rows.append(row)
    return rows


def run_arm(name: str, data: dict, aug, args, seed: int) -> tuple[dict, float]:
    """Train the CNN for one arm and score it on the test split."""
    from imblearn.over_sampling import RandomOverSampler

    from ganaug.data import AugmentedDataset
    from ganaug.image import CNNClassifier

    X_r, y_r = data["rare"]
    transform = albumentations_transform() if "albumentations" in name else None
    if transform is not None:
        transform.set_random_seed(seed)
    clf = CNNClassifier(max_steps=args.clf_steps, random_state=seed, num_workers=args.workers if transform else 0)
    start = time.perf_counter()
    if "oversampling" in name:
        idx, _ = RandomOverSampler(random_state=seed).fit_resample(np.arange(len(y_r))[:, None], y_r)
        X_fit, y_fit = X_r[idx[:, 0]], y_r[idx[:, 0]]
    else:
        X_fit, y_fit = X_r, y_r
    if "ganaug" in name:
        share = args.share if "mixed" in name else 1.0
        ds = AugmentedDataset(X_fit, aug, y=y_fit, transform=transform, synthetic_share=share, random_state=seed)
        clf.fit(ds)
    elif transform is not None:
        clf.fit(AugmentedDataset(X_fit, None, y=y_fit, transform=transform, random_state=seed))
    else:
        clf.fit(X_fit, y_fit)
    elapsed = time.perf_counter() - start
    return score(clf, *data["test"]), elapsed


ARMS = (
    "real only",
    "real + albumentations",
    "real + random oversampling",
    "real + random oversampling + albumentations",
    "real + ganaug",
    "real + ganaug + albumentations",
    "real + ganaug mixed",
    "real + ganaug mixed + albumentations",
)


def _fmt(values) -> str:
    v = np.asarray(values, dtype=float)
    return f"{100 * v.mean():.1f} ± {100 * v.std():.1f}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="results/image_benchmark")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--gan-epochs", type=int, default=None, help="default: ImageAugmenter's (30)")
    parser.add_argument("--gan-width", type=int, default=None, help="default: ImageAugmenter's (64)")
    parser.add_argument("--clf-steps", type=int, default=300)
    parser.add_argument("--share", type=float, default=0.25,
                        help="synthetic share of the added images in the 'ganaug mixed' arms")
    parser.add_argument("--workers", type=int, default=2, help="DataLoader workers for the albumentations arms")
    parser.add_argument("--per-class", type=int, default=200, help="generated images per digit for fidelity")
    parser.add_argument("--losses", default="default",
                        help="'default' (the three compared), 'all' (also projection without aux. classifier), "
                             "'main' (the default GAN only) or comma-separated short names: " + ", ".join(SHORT.values()))
    parser.add_argument("--data", default=None, help="an mnist_4k.npz to use instead of the bundled copy")
    parser.add_argument("--quick", action="store_true", help="tiny smoke run (few epochs and steps, one seed)")
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.gan_epochs, args.clf_steps, args.per_class, args.gan_width = [0], 2, 40, 20, 16

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    import _bench

    bench = _bench.start([sys.argv[0], *(argv if argv is not None else sys.argv[1:])])
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    from ganaug.core.diagnostics import plot_training_curves
    from ganaug.datasets import load_mnist
    from ganaug.image import CNNClassifier, image_grid, plot_interpolation, plot_samples
    from ganaug.metrics.fidelity import class_frechet_distances

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t_total = time.perf_counter()
    if args.data:
        with np.load(args.data, allow_pickle=False) as d:
            X, y = d["X"], d["y"].astype(np.int64)
    else:
        X, y = load_mnist()
    seed0 = args.seeds[0]
    full, rare, test = make_split(X, y, seed0)
    data = {"full": full, "rare": rare, "test": test}
    counts = np.bincount(rare[1], minlength=10)
    print(f"train (imbalanced) {len(rare[1])} images, per digit {counts.tolist()}; test {len(test[1])} images")

    # ---------------------------------------------------------------- judge
    t = time.perf_counter()
    judge = CNNClassifier(max_steps=args.clf_steps, random_state=seed0).fit(*full)
    judge_scores = score(judge, *test)
    t_judge = time.perf_counter() - t
    print(f"judge (CNN on the full real training split): test balanced accuracy "
          f"{100 * judge_scores['balanced_accuracy']:.1f}% ({t_judge:.0f} s)")
    real_feats = {"test": judge.transform(test[0])}
    fd_floor = class_frechet_distances(real_feats["test"], test[1], judge.transform(full[0]), full[1])
    fd_kept = class_frechet_distances(real_feats["test"], test[1], judge.transform(rare[0]), rare[1])

    # ------------------------------------------------------------------ GANs
    by_short = {v: k for k, v in SHORT.items()}
    if args.losses in ("default", "all", "main"):
        names = {"default": DEFAULT_LOSSES, "all": list(LOSSES), "main": [MAIN_LOSS]}[args.losses]
    else:
        names = [by_short[n.strip()] for n in args.losses.split(",")]
    if MAIN_LOSS not in names:
        names.insert(0, MAIN_LOSS)
    gans, loss_rows = {}, []
    for name in names:
        aug, seconds = train_gan(*rare, LOSSES[name], args, seed0)
        fid = fidelity(aug, judge, real_feats, *full, *test, args.per_class, seed0)
        gans[name] = (aug, seconds, fid)
        rare_acc = np.mean([fid["cond_acc_per_class"][c] for c in RARE])
        print(f"GAN {name}: {seconds:.0f} s, conditional accuracy {100 * fid['cond_acc']:.1f}% "
              f"(rare digits {100 * rare_acc:.1f}%)")
        fig = plot_samples(aug, per_class=10, random_state=seed0, title=f"{name}, {aug.epochs} epochs")
        fig.savefig(out / f"samples_{SHORT[name]}.png", dpi=110)
        plt.close(fig)

    main_aug = gans[MAIN_LOSS][0]
    main_aug.save(out / "gan_default")  # JSON + safetensors: ImageAugmenter.load(out / "gan_default")
    fig = plot_interpolation(main_aug, steps=10, random_state=seed0, title="latent interpolation (default GAN)")
    fig.savefig(out / "interpolation.png", dpi=110)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    plot_training_curves(main_aug.module_.epoch_history(), ax=ax, title="default GAN: losses and gradient norms")
    fig.tight_layout()
    fig.savefig(out / "curves.png", dpi=110)
    plt.close(fig)
    kept = np.concatenate([rare[0][rare[1] == c][:10] for c in RARE])[:, None] / 255.0
    plt.imsave(out / "real_rare_digits.png", image_grid(kept, ncol=10), cmap="gray", vmin=0, vmax=1)

    # ------------------------------------------------------------------ arms
    rows = []
    for seed in args.seeds:
        for arm in ARMS:
            scores, seconds = run_arm(arm, data, main_aug, args, seed)
            rows.append({"arm": arm, "seed": seed, "seconds": seconds, **scores})
            print(f"seed {seed} {arm:<45s} balanced acc {100 * scores['balanced_accuracy']:.1f}%  "
                  f"macro-F1 {100 * scores['macro_f1']:.1f}%  rare recall {100 * scores['rare_recall']:.1f}%  "
                  f"({seconds:.0f} s)", flush=True)
    arms = pd.DataFrame(rows)
    arms.to_csv(out / "arms.csv", index=False)

    # downstream value of each loss (arm 5, first seed)
    for name in names:
        aug, seconds, fid = gans[name]
        if name == MAIN_LOSS:
            down = arms[(arms.arm == "real + ganaug") & (arms.seed == seed0)].iloc[0]
            down_scores = {k: down[k] for k in ("balanced_accuracy", "rare_recall")}
        else:
            down_scores, _ = run_arm("real + ganaug", data, aug, args, seed0)
        loss_rows.append({
            "loss": name, "seconds": seconds, "cond_acc": fid["cond_acc"],
            "cond_acc_rare": np.mean([fid["cond_acc_per_class"][c] for c in RARE]),
            "fd_rare": np.mean([fid["fd"][c] for c in RARE]),
            "fd_common": np.mean([fid["fd"][c] for c in range(5, 10)]),
            "balanced_accuracy": down_scores["balanced_accuracy"], "rare_recall": down_scores["rare_recall"],
        })
    losses = pd.DataFrame(loss_rows)
    losses.to_csv(out / "losses.csv", index=False)
    fid_main = gans[MAIN_LOSS][2]
    fidelity_rows = [{
        "digit": c, "rare": c in RARE, "real_train_images": int(counts[c]),
        "cond_acc": fid_main["cond_acc_per_class"][c], "fd_ganaug": fid_main["fd"][c],
        "fd_real_kept": fd_kept[c], "fd_real_full_train": fd_floor[c],
    } for c in range(10)]
    fidelity_df = pd.DataFrame(fidelity_rows)
    fidelity_df.to_csv(out / "fidelity.csv", index=False)
    priv_rows = privacy_rows(gans, judge, data, seed0)
    pd.DataFrame(priv_rows).to_csv(out / "privacy.csv", index=False)

    # ---------------------------------------------------------------- report
    total = time.perf_counter() - t_total
    bench = _bench.finish(bench, settle_seconds=_bench.quick_settle() if args.quick else None)
    lines = [
        "# Image benchmark: MNIST-4k with digits 0-4 made rare",
        "",
        *_bench.markdown(bench),
        "",
        f"Train: {len(rare[1])} images ({', '.join(f'{c}: {counts[c]}' for c in range(10))}); "
        f"test: {len(test[1])} images, balanced, untouched. CNN: {args.clf_steps} steps of 64 for every arm. "
        f"'ganaug' arms fill the rare digits up to the majority with synthetic images; 'mixed' arms make "
        f"{args.share:g} of the added images synthetic and repeat real rare images for the rest. "
        f"GAN: ImageAugmenter defaults ({main_aug.epochs} epochs, width {main_aug.width}). Seeds {args.seeds}. "
        f"Total time {total / 60:.1f} min, torch threads {torch.get_num_threads()}.",
        "",
        "## Classifier on the test split (mean ± std over seeds, %)",
        "",
        "| arm | balanced accuracy | macro-F1 | recall of rare digits 0-4 | seconds per run |",
        "|---|---|---|---|---|",
    ]
    for arm in ARMS:
        sub = arms[arms.arm == arm]
        lines.append(f"| {arm} | {_fmt(sub.balanced_accuracy)} | {_fmt(sub.macro_f1)} | {_fmt(sub.rare_recall)} "
                     f"| {sub.seconds.mean():.0f} |")
    best = max(ARMS, key=lambda a: arms[arms.arm == a].balanced_accuracy.mean())
    lines += [
        f"| *judge: CNN on the full real training split (not an arm)* | {100 * judge_scores['balanced_accuracy']:.1f} "
        f"| {100 * judge_scores['macro_f1']:.1f} | {100 * judge_scores['rare_recall']:.1f} | {t_judge:.0f} |",
        "",
        f"Best balanced accuracy: **{best}**.",
        "",
        "## GAN fidelity per digit (default GAN: hinge + projection + auxiliary classifier)",
        "",
        "Conditional accuracy: share of 200 generated images of a digit that the judge labels as that digit. "
        "FD: Fréchet distance in the judge's feature space to the real test images of the digit; "
        "'real kept' = the few real training images of the digit, 'real full' = all ~280 real training images "
        "of the digit (the floor).",
        "",
        "| digit | real train images | conditional accuracy % | FD ganaug | FD real kept | FD real full |",
        "|---|---|---|---|---|---|",
    ]
    for r in fidelity_rows:
        lines.append(f"| {r['digit']}{' (rare)' if r['rare'] else ''} | {r['real_train_images']} | "
                     f"{100 * r['cond_acc']:.1f} | {r['fd_ganaug']:.1f} | {r['fd_real_kept']:.1f} | "
                     f"{r['fd_real_full_train']:.1f} |")
    lines += [
        f"| **all** | | **{100 * fid_main['cond_acc']:.1f}** | | | |",
        "",
        "## Loss choice (same networks, epochs and seed)",
        "",
        "| loss | train seconds | conditional accuracy % | rare digits % | mean FD rare | mean FD common "
        "| balanced acc. of real + ganaug % | rare recall % |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in loss_rows:
        lines.append(f"| {r['loss']} | {r['seconds']:.0f} | {100 * r['cond_acc']:.1f} | {100 * r['cond_acc_rare']:.1f} "
                     f"| {r['fd_rare']:.1f} | {r['fd_common']:.1f} | {100 * r['balanced_accuracy']:.1f} "
                     f"| {100 * r['rare_recall']:.1f} |")
    priv_cols = [c for c in priv_rows[0] if c not in ("source", "n_added", "n_members", "n_holdout")]
    lines += [
        "",
        "## Privacy: are the added images new images? (seed " + str(seed0) + ")",
        "",
        f"`privacy_report` of the images added to digits 0-4 ({priv_rows[0]['n_added']} per source) against the "
        f"{priv_rows[0]['n_members']} kept training images of those digits, holdout = the "
        f"{priv_rows[0]['n_holdout']} test images of digits 0-4; in pixel space and in the judge's feature space "
        "(the judge was trained on the full training split). DCR ratio = median distance to the closest training "
        "image / the same for fresh test images (0 = copies, ~1 = as new as real images); q05 = the same at the 5 % "
        "quantile; MIA AUC = membership inference with the added images (0.5 = no leak; with "
        f"{priv_rows[0]['n_members']} members its standard error is about "
        f"{0.41 / np.sqrt(max(1, priv_rows[0]['n_members'])):.2f}).",
        "",
        "| source | " + " | ".join(priv_cols) + " |",
        "|---|" + "---|" * len(priv_cols),
    ]
    for r in priv_rows:
        lines.append(f"| {r['source']} | " + " | ".join(f"{r[c]:.2f}" for c in priv_cols) + " |")
    lines += ["", "Figures: " + ", ".join(sorted(p.name for p in out.glob("*.png"))), ""]
    (out / "results.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
