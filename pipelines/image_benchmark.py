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
7. real + ganaug mixed: the same balance, but only a share of the added
   images is synthetic and the rest repeat the real rare images
   (``AugmentedDataset(synthetic_share=s)``, i.e. random oversampling with a
   dose of GAN images);
8. real + ganaug mixed + albumentations;

and scored on the test split: balanced accuracy, macro-F1 and the mean recall
of the rare digits, mean ± std over seeds (seeds change the classifier's
initialisation and batches, the synthetic draws and the augmentation stream;
the split and the GAN are those of the first seed).

Mixing policy (issue 21), chosen without the test split: for every seed and
each of arms 7 and 8, a stratified validation split is cut from the
*training* split (``--val-size`` of each digit, at least 2 images of a rare
digit kept to fit on and at least 1 to validate on:
:func:`ganaug.evaluate.choose_synthetic_share`); a GAN with the same options
is fitted on the fit part only (it never sees a validation image), the arm's
CNN is trained on the fit part with each candidate share (``--shares``, 0 =
oversampling only, 1 = synthetic only) and scored by balanced accuracy on
the validation part; the best share (ties: the smaller one) is then used
for that seed's arm, trained on the whole training split with the GAN above.
The test split takes no part in the choice. ``--share s`` skips the choice
and forces ``s`` (an override, reported as such: not validation-chosen).

GAN fidelity, measured with a judge: the same CNN trained on the *full* real
training split (before digits were made rare). Conditional accuracy = share
of images generated for digit ``c`` that the judge calls ``c`` (goal >= 90%);
Fréchet distance per digit in the judge's feature space between generated
images and the real *test* images of that digit (with the distance of the
real training images to the same test images as the floor); density and
coverage (Naeem et al., 2020, k=5) in the same space against the same test
images, for the generated images and, as the reference, as many real
training images of the digit; with ``filter_synthetic`` in ``--gan-params``,
the filter's acceptance rate per digit.

``--gan-params '{"lecam_weight": 0.01, "ada_target": 0.6, "filter_synthetic": true}'``
passes more options to every ``ImageAugmenter`` of the run (the loss
comparison's and the choice's GANs included).

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
(copies of the kept images), the same copies through albumentations, the
default GAN's images through albumentations and the mixed arms' added images
(first seed's share) in the same table; the classifier table shows each
arm's membership-attack AUC (pixels) from it.

Writes ``results.md``, ``arms.csv``, ``share_choice.csv``, ``losses.csv``, ``fidelity.csv``,
``privacy.csv`` and PNGs (sample grids per loss, latent interpolation, training curves, real
rare digits) to ``--out``.

Run::

    python pipelines/image_benchmark.py --out results/image_benchmark
    python pipelines/image_benchmark.py --quick          # smoke run, a few minutes
"""

from __future__ import annotations

import argparse
import json
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


from _gan_params import parse_gan_params, parse_shares as _shares  # noqa: E402 - --gan-params, shared with the other image benchmark


def gan_options(loss_options: dict, args) -> dict:
    """ImageAugmenter options of a run: the loss choice, --gan-epochs/--gan-width, then --gan-params."""
    options = dict(loss_options)
    if args.gan_epochs is not None:
        options["epochs"] = args.gan_epochs
    if args.gan_width is not None:
        options["width"] = args.gan_width
    options.update(args.gan_params)
    return options


def train_gan(X, y, loss_options: dict, args, seed: int):
    """ImageAugmenter with its defaults (only the loss choice, --gan-epochs/--gan-width and --gan-params differ)."""
    from ganaug.augment.image import ImageAugmenter

    aug = ImageAugmenter(random_state=seed, trainer={"enable_progress_bar": False}, **gan_options(loss_options, args))
    start = time.perf_counter()
    aug.fit(X, y)
    return aug, time.perf_counter() - start


def real_reference(X_full, y_full, n_per_class: int, seed: int):
    """At most ``n_per_class`` real training images per digit (the reference for density and coverage)."""
    rng = np.random.default_rng(seed)
    idx = np.concatenate([rng.permutation(np.flatnonzero(y_full == c))[:n_per_class] for c in range(10)])
    return X_full[idx], y_full[idx]


def fidelity(aug, judge, real_feats, X_full, y_full, X_te, y_te, n_per_class: int, seed: int) -> dict:
    """Conditional accuracy, FD, density and coverage per digit (judge features, vs the test images)."""
    from ganaug.metrics.fidelity import class_density_coverage, class_frechet_distances, conditional_accuracy

    X_gen, y_gen = aug.sample({c: n_per_class for c in range(10)}, random_state=seed + 1000)
    acceptance = dict(aug.acceptance_rate_) if getattr(aug, "filter_synthetic", False) else None
    overall, per_class = conditional_accuracy(y_gen, judge.predict(X_gen))
    test_feats = real_feats["test"]
    gen_feats = judge.transform(X_gen)
    fd = class_frechet_distances(test_feats, y_te, gen_feats, y_gen)
    dc = class_density_coverage(test_feats, y_te, gen_feats, y_gen, k=5)
    return {"cond_acc": overall, "cond_acc_per_class": per_class, "fd": fd, "dc": dc, "acceptance": acceptance}


from _privacy_columns import PRIVACY_METRICS  # noqa: E402 - privacy_report key -> header, shared by the benchmarks


def added_counts(y_rare) -> dict:
    """Images the 'ganaug' arms add per rare digit (up to the majority count)."""
    counts = np.bincount(y_rare, minlength=10)
    return {c: int(counts.max() - counts[c]) for c in RARE if counts.max() > counts[c]}


def mixed_added(X_r, y_r, aug, share: float, seed: int):
    """One draw of the images a 'ganaug' arm adds: per rare digit round(share * deficit) synthetic, the rest copies.

    The same counts as ``AugmentedDataset(synthetic_share=share)``; ``share=0`` is random oversampling (copies
    only), ``share=1`` the GAN only.
    """
    wanted = added_counts(y_r)
    n_syn = {c: int(np.rint(share * n)) for c, n in wanted.items()}
    rng = np.random.default_rng(seed)
    copies = np.concatenate([rng.choice(np.flatnonzero(y_r == c), n - n_syn[c], replace=True)
                             for c, n in wanted.items()]).astype(np.int64)
    X_parts, y_parts = [X_r[copies]], [y_r[copies]]
    if any(n_syn.values()):
        X_syn, y_syn = aug.sample({c: n for c, n in n_syn.items() if n}, random_state=seed + 2000)
        X_parts.append(np.asarray(X_syn).astype(X_r.dtype))
        y_parts.append(np.asarray(y_syn))
    return np.concatenate(X_parts), np.concatenate(y_parts)


def jitter(X, seed: int):
    """The albumentations arms' transform applied once to every image (a benchmark, not a hot path)."""
    transform = albumentations_transform()
    transform.set_random_seed(seed)
    return np.stack([transform(image=img)["image"] for img in X])


#: the privacy source whose membership-attack AUC the classifier table shows for each arm
#: ("{main}" = the default GAN's source; mixed arms get their first seed's share filled in)
ARM_PRIVACY_SOURCE = {
    "real + random oversampling": "random oversampling (copies)",
    "real + random oversampling + albumentations": "random oversampling + albumentations",
    "real + ganaug": "ganaug: {main}",
    "real + ganaug + albumentations": "ganaug + albumentations",
    "real + ganaug mixed": "ganaug mixed",
    "real + ganaug mixed + albumentations": "ganaug mixed + albumentations",
}


def privacy_rows(gans: dict, judge, data: dict, seed: int, mixed_shares: dict) -> list[dict]:
    """privacy_report of the added rare-digit images, pixel and judge-feature space, per source of images.

    ``mixed_shares``: arm -> the share its first seed used (the mixed arms' added images are drawn with it).
    """
    from ganaug.privacy import privacy_report

    X_r, y_r = data["rare"]
    X_te, y_te = data["test"]
    main_aug = gans[MAIN_LOSS][0]
    copies = mixed_added(X_r, y_r, None, 0.0, seed)
    sources = {"random oversampling (copies)": copies,
               "random oversampling + albumentations": (jitter(copies[0], seed), copies[1])}
    for name, (aug, _, _) in gans.items():
        sources[f"ganaug: {name}"] = mixed_added(X_r, y_r, aug, 1.0, seed)
    X_gan, y_gan = sources[f"ganaug: {MAIN_LOSS}"]
    sources["ganaug + albumentations"] = (jitter(X_gan, seed), y_gan)
    for arm, key in (("real + ganaug mixed", "ganaug mixed"),
                     ("real + ganaug mixed + albumentations", "ganaug mixed + albumentations")):
        X_mix, y_mix = mixed_added(X_r, y_r, main_aug, mixed_shares[arm], seed)
        sources[key] = (jitter(X_mix, seed), y_mix) if "albumentations" in key else (X_mix, y_mix)
    rows = []
    for name, (X_syn, y_syn) in sources.items():
        row = {"source": name, "n_added": len(y_syn)}
        if name.startswith("ganaug mixed"):
            row["share"] = mixed_shares["real + " + name]
        for space, encoder in (("pixels", None), ("judge features", judge.transform)):
            rep = privacy_report(X_r, X_syn, X_te, y_r, y_syn, y_te, kind="image", encoder=encoder,
                                 random_state=seed)
            row.update({f"{head} ({space})": rep[key] for key, head in PRIVACY_METRICS.items()})
            row["n_members"] = int(np.isin(y_r, np.unique(y_syn)).sum())
            row["n_holdout"] = rep["n_holdout"]
        rows.append(row)
    return rows


def fit_classifier(arm: str, X_r, y_r, aug, args, seed: int, share: float = 1.0):
    """Train the CNN of ``arm`` on the training images ``X_r, y_r`` (``share``: synthetic share of 'ganaug' arms)."""
    from imblearn.over_sampling import RandomOverSampler

    from ganaug.data import AugmentedDataset
    from ganaug.image import CNNClassifier

    transform = albumentations_transform() if "albumentations" in arm else None
    if transform is not None:
        transform.set_random_seed(seed)
    clf = CNNClassifier(max_steps=args.clf_steps, random_state=seed, num_workers=args.workers if transform else 0)
    if "oversampling" in arm:
        idx, _ = RandomOverSampler(random_state=seed).fit_resample(np.arange(len(y_r))[:, None], y_r)
        X_fit, y_fit = X_r[idx[:, 0]], y_r[idx[:, 0]]
    else:
        X_fit, y_fit = X_r, y_r
    if "ganaug" in arm:
        ds = AugmentedDataset(X_fit, aug, y=y_fit, transform=transform, synthetic_share=share, random_state=seed)
        return clf.fit(ds)
    if transform is not None:
        return clf.fit(AugmentedDataset(X_fit, None, y=y_fit, transform=transform, random_state=seed))
    return clf.fit(X_fit, y_fit)


def run_arm(name: str, data: dict, aug, args, seed: int, share: float | None = None) -> tuple[dict, float]:
    """Train the CNN for one arm on the training split and score it on the test split.

    ``share``: the synthetic share of a 'ganaug mixed' arm (required there); other 'ganaug' arms use 1.
    """
    if "mixed" in name and share is None:
        raise ValueError(f"arm {name!r} needs its synthetic share (chosen on validation, or --share)")
    start = time.perf_counter()
    clf = fit_classifier(name, *data["rare"], aug, args, seed, share if "mixed" in name else 1.0)
    elapsed = time.perf_counter() - start
    return score(clf, *data["test"]), elapsed


def choose_share(arm: str, train: tuple, args, seed: int, gan_cache: dict | None = None):
    """The synthetic share of a 'ganaug mixed' arm, chosen on a validation split of the training images only.

    ``train`` is the (imbalanced) training split ``(X_r, y_r)``: nothing else reaches this function. A
    stratified validation split is cut from it (:func:`ganaug.evaluate.choose_synthetic_share`; each rare
    digit keeps at least 2 images to fit on, which the GAN needs, and at least 1 to validate on), a GAN with
    the run's options is fitted on the fit part only (cached in ``gan_cache`` by split, so the two mixed arms
    of a seed share it), and the arm's CNN is trained on the fit part with every candidate share and scored
    by balanced accuracy on the validation part. Returns the :class:`~ganaug.evaluate.ShareChoice`.
    """
    from sklearn.metrics import balanced_accuracy_score

    from ganaug.evaluate import choose_synthetic_share

    X_r, y_r = train
    gan_cache = {} if gan_cache is None else gan_cache

    def score_shares(fit_index, val_index, shares):
        key = fit_index.tobytes()
        if key not in gan_cache:
            gan_cache[key] = train_gan(X_r[fit_index], y_r[fit_index], LOSSES[MAIN_LOSS], args, seed)[0]
        X_fit, y_fit, X_val, y_val = X_r[fit_index], y_r[fit_index], X_r[val_index], y_r[val_index]
        out = []
        for share in shares:  # one CNN per candidate share
            clf = fit_classifier(arm, X_fit, y_fit, gan_cache[key], args, seed, float(share))
            out.append(balanced_accuracy_score(y_val, clf.predict(X_val)))
        return out

    return choose_synthetic_share(score_shares, y_r, shares=args.shares, val_size=args.val_size,
                                  n_splits=args.choice_splits, min_fit=2, random_state=seed)


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


def parse_args(argv=None):
    from ganaug.evaluate import DEFAULT_SHARES

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="results/image_benchmark")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--gan-epochs", type=int, default=None, help="default: ImageAugmenter's (30)")
    parser.add_argument("--gan-width", type=int, default=None, help="default: ImageAugmenter's (64)")
    parser.add_argument("--gan-params", default=None,
                        help="JSON object of more ImageAugmenter options for every GAN of the run, e.g. "
                             "'{\"lecam_weight\": 0.01, \"ada_target\": 0.6, \"filter_synthetic\": true}'")
    parser.add_argument("--clf-steps", type=int, default=300)
    parser.add_argument("--share", type=float, default=None,
                        help="OVERRIDE: force this synthetic share of the added images in the 'ganaug mixed' arms "
                             "(not validation-chosen; default: chosen per seed on a validation split of the "
                             "training split)")
    parser.add_argument("--shares", type=_shares, default=DEFAULT_SHARES,
                        help="candidate shares for the validation choice (comma-separated; default "
                             + ",".join(f"{v:g}" for v in DEFAULT_SHARES) + ")")
    parser.add_argument("--val-size", type=float, default=0.25,
                        help="share of each digit of the training split cut off to validate the share on")
    parser.add_argument("--choice-splits", type=int, default=1,
                        help="validation splits per seed (scores averaged; each refits the choice GAN)")
    parser.add_argument("--workers", type=int, default=2, help="DataLoader workers for the albumentations arms")
    parser.add_argument("--per-class", type=int, default=200, help="generated images per digit for fidelity")
    parser.add_argument("--losses", default="default",
                        help="'default' (the three compared), 'all' (also projection without aux. classifier), "
                             "'main' (the default GAN only) or comma-separated short names: " + ", ".join(SHORT.values()))
    parser.add_argument("--data", default=None, help="an mnist_4k.npz to use instead of the bundled copy")
    parser.add_argument("--quick", action="store_true",
                        help="tiny smoke run (few epochs and steps, one seed, shares 0, 0.5, 1)")
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.gan_epochs, args.clf_steps, args.per_class, args.gan_width = [0], 2, 40, 20, 16
        if args.shares == DEFAULT_SHARES:
            args.shares = (0.0, 0.5, 1.0)
    args.shares = tuple(sorted(set(args.shares)))
    if args.share is not None and not 0.0 <= args.share <= 1.0:
        parser.error(f"--share must be in [0, 1], got {args.share}")
    try:
        args.gan_params_text = args.gan_params
        args.gan_params = parse_gan_params(args.gan_params)
    except ValueError as exc:
        parser.error(str(exc))
    return args


MIXED_ARMS = tuple(a for a in ARMS if "mixed" in a)


def main(argv=None) -> int:
    args = parse_args(argv)

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
    from ganaug.metrics.fidelity import class_density_coverage, class_frechet_distances

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
    X_ref, y_ref = real_reference(*full, args.per_class, seed0)  # as many real images as generated ones
    dc_floor = class_density_coverage(real_feats["test"], test[1], judge.transform(X_ref), y_ref, k=5)

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
        rare_cov = np.mean([fid["dc"][c]["coverage"] for c in RARE])
        print(f"GAN {name}: {seconds:.0f} s, conditional accuracy {100 * fid['cond_acc']:.1f}% "
              f"(rare digits {100 * rare_acc:.1f}%), rare coverage {rare_cov:.2f}")
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

    # ------------------------------------------------- mixing policy + arms
    rows, choice_rows = [], []
    chosen: dict = {}  # (arm, seed) -> share used
    t_choice = 0.0
    for seed in args.seeds:
        gan_cache: dict = {}  # the choice GAN of this seed's split(s), shared by the two mixed arms
        for arm in MIXED_ARMS:
            if args.share is not None:
                chosen[arm, seed] = args.share
                continue
            t = time.perf_counter()
            choice = choose_share(arm, data["rare"], args, seed, gan_cache)  # the training split only
            t_choice += time.perf_counter() - t
            chosen[arm, seed] = choice.share
            for i, (fit_index, val_index) in enumerate(choice.splits):
                for share, value in zip(choice.shares, choice.split_scores[i]):
                    choice_rows.append({"arm": arm, "seed": seed, "split": i, "share": share,
                                        "val_balanced_accuracy": value, "chosen": share == choice.share,
                                        "n_fit": len(fit_index), "n_val": len(val_index)})
            print(f"seed {seed} {arm}: validation balanced accuracy per share "
                  + ", ".join(f"{s:g}: {100 * v:.1f}" for s, v in choice.as_dict().items())
                  + f" -> share {choice.share:g}", flush=True)
        del gan_cache
        for arm in ARMS:
            share = chosen.get((arm, seed))
            scores, seconds = run_arm(arm, data, main_aug, args, seed, share)
            rows.append({"arm": arm, "seed": seed, "share": share, "seconds": seconds, **scores})
            print(f"seed {seed} {arm:<45s} balanced acc {100 * scores['balanced_accuracy']:.1f}%  "
                  f"macro-F1 {100 * scores['macro_f1']:.1f}%  rare recall {100 * scores['rare_recall']:.1f}%  "
                  f"({seconds:.0f} s)", flush=True)
    arms = pd.DataFrame(rows)
    arms.to_csv(out / "arms.csv", index=False)
    choices = pd.DataFrame(choice_rows, columns=["arm", "seed", "split", "share", "val_balanced_accuracy", "chosen",
                                                 "n_fit", "n_val"])
    choices.to_csv(out / "share_choice.csv", index=False)

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
            "coverage_rare": np.mean([fid["dc"][c]["coverage"] for c in RARE]),
            "density_rare": np.mean([fid["dc"][c]["density"] for c in RARE]),
            "balanced_accuracy": down_scores["balanced_accuracy"], "rare_recall": down_scores["rare_recall"],
        })
    losses = pd.DataFrame(loss_rows)
    losses.to_csv(out / "losses.csv", index=False)
    fid_main = gans[MAIN_LOSS][2]
    acceptance = fid_main["acceptance"]
    fidelity_rows = [{
        "digit": c, "rare": c in RARE, "real_train_images": int(counts[c]),
        "cond_acc": fid_main["cond_acc_per_class"][c], "fd_ganaug": fid_main["fd"][c],
        "fd_real_kept": fd_kept[c], "fd_real_full_train": fd_floor[c],
        "density_ganaug": fid_main["dc"][c]["density"], "coverage_ganaug": fid_main["dc"][c]["coverage"],
        "density_real_full_train": dc_floor[c]["density"], "coverage_real_full_train": dc_floor[c]["coverage"],
        "filter_acceptance": acceptance[c] if acceptance else float("nan"),
    } for c in range(10)]
    fidelity_df = pd.DataFrame(fidelity_rows)
    fidelity_df.to_csv(out / "fidelity.csv", index=False)
    priv_rows = privacy_rows(gans, judge, data, seed0, {arm: chosen[arm, seed0] for arm in MIXED_ARMS})
    pd.DataFrame(priv_rows).to_csv(out / "privacy.csv", index=False)
    mia = {r["source"]: r["MIA AUC (pixels)"] for r in priv_rows}

    # ---------------------------------------------------------------- report
    total = time.perf_counter() - t_total
    bench = _bench.finish(bench, settle_seconds=_bench.quick_settle() if args.quick else None)
    if args.share is not None:
        policy = (f"'mixed' arms: synthetic share **{args.share:g} forced with --share (an override, NOT "
                  "chosen on validation)**; the rest of the added images repeat real rare images.")
    else:
        policy = ("'mixed' arms: the synthetic share of the added images is chosen per seed on a validation split "
                  "cut from the training split (never the test split; table below); the rest of the added images "
                  "repeat real rare images.")
    gan_text = (f"GAN: ImageAugmenter defaults ({main_aug.epochs} epochs, width {main_aug.width})"
                + (f" with --gan-params `{args.gan_params_text}`" if args.gan_params else "") + ".")
    lines = [
        "# Image benchmark: MNIST-4k with digits 0-4 made rare",
        "",
        *_bench.markdown(bench),
        "",
        f"Train: {len(rare[1])} images ({', '.join(f'{c}: {counts[c]}' for c in range(10))}); "
        f"test: {len(test[1])} images, balanced, untouched. CNN: {args.clf_steps} steps of 64 for every arm. "
        f"'ganaug' arms fill the rare digits up to the majority with synthetic images; {policy} "
        f"{gan_text} Seeds {args.seeds}. "
        f"Total time {total / 60:.1f} min (of which the share choice {t_choice / 60:.1f} min), "
        f"torch threads {torch.get_num_threads()}.",
        "",
        "## Classifier on the test split (mean ± std over seeds, %)",
        "",
        f"MIA AUC: membership-inference AUC (pixels) of the images the arm adds, against the kept rare training "
        f"images (seed {seed0}'s draw; privacy section below); 0.5 = no leak.",
        "",
        "| arm | synthetic share per seed | balanced accuracy | macro-F1 | recall of rare digits 0-4 | MIA AUC "
        "| seconds per run |",
        "|---|---|---|---|---|---|---|",
    ]
    for arm in ARMS:
        sub = arms[arms.arm == arm]
        if "mixed" in arm:
            shares = ", ".join(f"{v:g}" for v in sub.share) + (" (--share override)" if args.share is not None
                                                                 else " (validation)")
        else:
            shares = "1" if "ganaug" in arm else "-"
        source = ARM_PRIVACY_SOURCE.get(arm, "").format(main=MAIN_LOSS)
        mia_text = f"{mia[source]:.2f}" if source in mia else "-"
        lines.append(f"| {arm} | {shares} | {_fmt(sub.balanced_accuracy)} | {_fmt(sub.macro_f1)} "
                     f"| {_fmt(sub.rare_recall)} | {mia_text} | {sub.seconds.mean():.0f} |")
    best = max(ARMS, key=lambda a: arms[arms.arm == a].balanced_accuracy.mean())
    lines += [
        f"| *judge: CNN on the full real training split (not an arm)* | | {100 * judge_scores['balanced_accuracy']:.1f} "
        f"| {100 * judge_scores['macro_f1']:.1f} | {100 * judge_scores['rare_recall']:.1f} | | {t_judge:.0f} |",
        "",
        f"Best balanced accuracy: **{best}**.",
        "",
    ]
    if args.share is None:
        n_val = choices.drop_duplicates(["seed", "split"]).n_val.tolist()
        lines += [
            "## Mixing policy: synthetic share chosen on validation (training split only)",
            "",
            f"Per seed and arm: a stratified validation split ({args.val_size:g} of each digit of the training "
            f"split, {args.choice_splits} split(s) per seed; validation sizes {n_val}; each rare digit keeps >= 2 "
            "images to fit on and >= 1 to validate on), a GAN with the same options fitted on the fit part only, "
            "the arm's CNN trained on the fit part with each share, balanced accuracy on the validation part (%, "
            "mean over splits). Chosen = best, ties to the smaller share. The test split plays no part.",
            "",
            "| arm | seed | " + " | ".join(f"share {s:g}" for s in args.shares) + " | chosen |",
            "|---|---|" + "---|" * (len(args.shares) + 1),
        ]
        means = choices.groupby(["arm", "seed", "share"]).val_balanced_accuracy.mean()
        for arm in MIXED_ARMS:
            for seed in args.seeds:
                vals = " | ".join(f"{100 * means[arm, seed, s]:.1f}" for s in sorted(args.shares))
                lines.append(f"| {arm} | {seed} | {vals} | **{chosen[arm, seed]:g}** |")
            picked = [chosen[arm, s] for s in args.seeds]
            counts_text = " | ".join(f"chosen {picked.count(s)}x" for s in sorted(args.shares))
            lines.append(f"| {arm}: across seeds | | {counts_text} | median {np.median(picked):g} |")
        lines.append("")
    acc_head, acc_sep = (" filter acceptance % |", "---|") if acceptance else ("", "")
    lines += [
        "## GAN fidelity per digit (default GAN: hinge + projection + auxiliary classifier)",
        "",
        f"Conditional accuracy: share of {args.per_class} generated images of a digit that the judge labels as "
        "that digit. FD: Fréchet distance in the judge's feature space to the real test images of the digit; "
        "'real kept' = the few real training images of the digit, 'real full' = all ~280 real training images "
        "of the digit (the floor). Density / coverage (Naeem et al. 2020, k=5, same space, same test images): "
        "density ~1 and coverage ~0.97 for a fresh sample of real images; low coverage = too little variety. "
        f"'real' = {args.per_class} real training images of the digit (the reference, same sample size)."
        + (" Filter acceptance: share of the drawn images that passed the filter." if acceptance else ""),
        "",
        "| digit | real train images | conditional accuracy % | FD ganaug | FD real kept | FD real full "
        "| density ganaug | density real | coverage ganaug | coverage real |" + acc_head,
        "|---|---|---|---|---|---|---|---|---|---|" + acc_sep,
    ]
    for r in fidelity_rows:
        acc = f" {100 * r['filter_acceptance']:.1f} |" if acceptance else ""
        lines.append(f"| {r['digit']}{' (rare)' if r['rare'] else ''} | {r['real_train_images']} | "
                     f"{100 * r['cond_acc']:.1f} | {r['fd_ganaug']:.1f} | {r['fd_real_kept']:.1f} | "
                     f"{r['fd_real_full_train']:.1f} | {r['density_ganaug']:.2f} | {r['density_real_full_train']:.2f} "
                     f"| {r['coverage_ganaug']:.2f} | {r['coverage_real_full_train']:.2f} |" + acc)
    lines += [
        f"| **all** | | **{100 * fid_main['cond_acc']:.1f}** | | | | | | | |" + (" |" if acceptance else ""),
        "",
        "## Loss choice (same networks, epochs and seed)",
        "",
        "| loss | train seconds | conditional accuracy % | rare digits % | mean FD rare | mean FD common "
        "| mean coverage rare | balanced acc. of real + ganaug % | rare recall % |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in loss_rows:
        lines.append(f"| {r['loss']} | {r['seconds']:.0f} | {100 * r['cond_acc']:.1f} | {100 * r['cond_acc_rare']:.1f} "
                     f"| {r['fd_rare']:.1f} | {r['fd_common']:.1f} | {r['coverage_rare']:.2f} "
                     f"| {100 * r['balanced_accuracy']:.1f} | {100 * r['rare_recall']:.1f} |")
    skip = ("source", "n_added", "n_members", "n_holdout", "share")
    priv_cols = [c for c in priv_rows[0] if c not in skip]
    lines += [
        "",
        "## Privacy: are the added images new images? (seed " + str(seed0) + ")",
        "",
        f"`privacy_report` of the images added to digits 0-4 ({priv_rows[0]['n_added']} per source) against the "
        f"{priv_rows[0]['n_members']} kept training images of those digits, holdout = the "
        f"{priv_rows[0]['n_holdout']} test images of digits 0-4; in pixel space and in the judge's feature space "
        "(the judge was trained on the full training split). 'mixed' sources: the share seed "
        f"{seed0} used, synthetic images and copies of kept images; '+ albumentations': the arm's transform applied "
        "once to every added image. DCR ratio = median distance to the closest training "
        "image / the same for fresh test images (0 = copies, ~1 = as new as real images); q05 = the same at the 5 % "
        "quantile; MIA AUC = membership inference with the added images (0.5 = no leak; with "
        f"{priv_rows[0]['n_members']} members its standard error is about "
        f"{0.41 / np.sqrt(max(1, priv_rows[0]['n_members'])):.2f}).",
        "",
        "| source | " + " | ".join(priv_cols) + " |",
        "|---|" + "---|" * len(priv_cols),
    ]
    for r in priv_rows:
        name = r["source"] + (f" (share {r['share']:g})" if "share" in r else "")
        lines.append(f"| {name} | " + " | ".join(f"{r[c]:.2f}" for c in priv_cols) + " |")
    lines += ["", "Figures: " + ", ".join(sorted(p.name for p in out.glob("*.png"))), ""]
    (out / "results.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
