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
6. + both kinds of pastes (``source="mixed"``, the same GAN): a share of the
   pasted objects GAN-made, the rest real crops; the share is chosen per seed
   on validation scenes (below), never on the test scenes;
7. + copy-paste + albumentations;
8. + GAN pastes + albumentations;

pastes fill every class up to the most common one (``sampling_strategy="auto"``
on box counts). Scored on the test scenes: AP@0.5 per class, mAP@0.5,
mAP@0.5:0.95 (COCO-style, 101-point) and the rare classes' mAP, mean ± std
over seeds (seeds change the detector's initialisation and batches, the
pasted draws and the augmentation stream; scenes, crops and the GAN are
those of the first seed).

Mixing policy (issue 21): the GAN share of the pasted objects in arm 6 is
chosen without the test scenes. The *training* digits are split, stratified
(``--val-size`` of each digit; :func:`ganaug.evaluate.choose_synthetic_share`),
into fit digits and validation digits; fit scenes are built from the fit
digits exactly as the training scenes are (same count, rare digits as rare),
validation scenes from the validation digits (all classes equally frequent,
like the test scenes). A GAN with the run's options is fitted on the fit
scenes' crops only; for every seed and candidate share (``--shares``) the
detector is trained on the fit scenes plus pastes with that GAN share and
scored by rare-class mAP@0.5 on the validation scenes. The best share (ties:
the smaller one) is used for that seed's arm 6, trained on the training
scenes with the GAN above. ``--share g`` skips the choice and forces ``g``
(an override, reported as such).

``--gan-params '{"lecam_weight": 0.01, "ada_target": 0.6, "filter_synthetic": true}'``
passes more ``ImageAugmenter`` options to the object GAN (and to the
choice's GAN).

Diversity: density and coverage (Naeem et al., 2020, k=5) per rare digit of
GAN-made objects and of copy-paste's objects (real training crops drawn
again) against the crops of the test scenes, in pixel space at the GAN's
object size (a crude space: compare the two rows, not with other benchmarks).

Privacy (memorisation): the GAN-made rare objects against the object crops
of the training scenes, with the crops of the test scenes' rare digits as
the holdout (:func:`ganaug.privacy.privacy_report` in pixel space, at the
GAN's object size): DCR ratio, its 5 % quantile ratio, exact copies and the
membership-inference AUC, next to copy-paste (real crops drawn again) and
arm 6's mix (first seed's share); the arms table shows each arm's AUC.
``--privacy-only`` computes this table alone from the GAN a previous run
saved in ``--out``/gan_paste (same data arguments).

Writes ``results.md``, ``arms.csv``, ``per_class.csv``, ``share_choice.csv``, ``privacy.md`` and PNGs (sample
scenes with boxes, pasted GAN and real objects, rare mAP per arm) to ``--out``.

Run::

    python pipelines/detection_benchmark.py --out results/detection_benchmark
    python pipelines/detection_benchmark.py --jobs 3     # the three seeds in three processes
    python pipelines/detection_benchmark.py --quick      # smoke run, a few minutes
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("GANAUG_PROGRESS", "0")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

N_CLASSES = 10
RARE = (0, 1, 2, 3, 4)


def load_digits(args):
    """MNIST-4k (or ``--data``) split 70/30, stratified, first: ``(X_train, y_train), (X_test, y_test)``."""
    from sklearn.model_selection import train_test_split

    from ganaug.datasets import load_mnist

    X, y = load_mnist()
    if args.data:
        with np.load(args.data) as f:
            X, y = f["X"], f["y"]
    idx_tr, idx_te = train_test_split(np.arange(len(y)), test_size=0.3, stratify=y, random_state=0)
    return (X[idx_tr], y[idx_tr]), (X[idx_te], y[idx_te])


def training_scenes(X, y, n_scenes: int, args, random_state: int):
    """Scenes of the digits ``X, y`` with digits 0-4 made rare (``--rare-weight``)."""
    from ganaug.detection import make_digit_scenes

    weights = {c: (args.rare_weight if c in RARE else 1.0) for c in range(N_CLASSES)}
    images, targets, _ = make_digit_scenes(X, y, n_scenes, image_size=args.size, class_weights=weights,
                                           random_state=random_state)
    return images, targets


def build_data(args):
    """Training scenes (rare digits rare) from the training digits, balanced test scenes from the test digits."""
    from ganaug.detection import make_digit_scenes

    (X_tr, y_tr), (X_te, y_te) = load_digits(args)
    tr_images, tr_targets = training_scenes(X_tr, y_tr, args.train_scenes, args, random_state=0)
    te_images, te_targets, _ = make_digit_scenes(X_te, y_te, args.test_scenes, image_size=args.size, random_state=1)
    return tr_images, tr_targets, te_images, te_targets


def validation_scenes(train_digits, args):
    """Fit and validation scenes for the share choice, built from the *training* digits only.

    The training digits are split, stratified (``--val-size`` of each digit, at least one on each side:
    :func:`ganaug.evaluate.stratified_validation_split` with ``random_state=0``, the first split
    :func:`~ganaug.evaluate.choose_synthetic_share` cuts with the same arguments). Fit scenes: the fit digits,
    as many scenes as the training scenes, rare digits as rare. Validation scenes: the validation digits,
    ``--val-scenes`` scenes, all classes equally frequent (like the test scenes).
    Returns ``(fit_images, fit_targets), (val_images, val_targets), (fit_index, val_index)``.
    """
    from ganaug.detection import make_digit_scenes
    from ganaug.evaluate import stratified_validation_split

    X, y = train_digits
    fit_index, val_index = stratified_validation_split(y, val_size=args.val_size, min_fit=1, random_state=0)
    fit = training_scenes(X[fit_index], y[fit_index], args.train_scenes, args, random_state=2)
    val_images, val_targets, _ = make_digit_scenes(X[val_index], y[val_index], args.val_scenes,
                                                   image_size=args.size, random_state=3)
    return fit, (val_images, val_targets), (fit_index, val_index)


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


def _pastes(key: str, gan_share: float | None = None):
    """The fitted paste augmenter of ``key`` (the GAN ones are read from disk: fitted in another process).

    ``key``: "real" (copy-paste), "gan" (the GAN fitted on the training scenes), "mixed" (the same GAN, a
    share ``gan_share`` of the pasted objects GAN-made, the rest real crops) or "choice" (the GAN fitted on
    the fit scenes of the share choice, mixed with ``gan_share``).
    """
    from ganaug.detection import ObjectPasteAugmenter

    sh = _SHARED
    if key == "real":
        return sh["real_paste"]
    aug = ObjectPasteAugmenter.load(sh["choice_gan_dir"] if key == "choice" else sh["gan_dir"])
    if key in ("mixed", "choice"):
        if gan_share is None:
            raise ValueError(f"pastes {key!r} need the GAN share of the pasted objects")
        aug.source, aug.real_share = "mixed", 1.0 - float(gan_share)
    return aug


from _gan_params import parse_gan_params, parse_shares as _shares  # noqa: E402 - --gan-params, shared with the other image benchmark


def fit_gan_task(which: str = "main") -> float:
    """Fit a GAN paste augmenter and save it; returns seconds.

    ``which="main"``: on the training scenes (arms 5, 6, 8); ``"choice"``: on the fit scenes of the share
    choice (never on a validation or test scene).
    """
    import torch

    from ganaug.augment.image import ImageAugmenter
    from ganaug.detection import ObjectPasteAugmenter

    sh = _SHARED
    args = sh["args"]
    torch.set_num_threads(1 if args.jobs > 1 else int(os.environ.get("OMP_NUM_THREADS", "2")))
    t0 = time.time()
    gan = ImageAugmenter(epochs=args.gan_epochs, width=args.gan_width, **args.gan_params)
    aug = ObjectPasteAugmenter(source="gan", gan=gan, gan_max_per_class=args.gan_max_per_class, random_state=0)
    aug.fit(*(sh["fit"] if which == "choice" else sh["tr"]))
    elapsed = time.time() - t0
    aug.save(sh["choice_gan_dir"] if which == "choice" else sh["gan_dir"])
    return elapsed


def run_task(task):
    """One arm for one seed; returns (seed, arm, report, seconds, sample pastes or None).

    ``task = (seed, arm, data, augment, gan_share)``; ``gan_share`` is the GAN share of the "mixed" pastes.
    """
    import torch

    from ganaug.detection import detection_report

    seed, name, data, augment, gan_share = task
    sh = _SHARED
    args = sh["args"]
    if args.jobs > 1:
        torch.set_num_threads(1)
    tr_images, tr_targets = sh["tr"]
    te_images, te_targets = sh["te"]
    t0 = time.time()
    weight, sample = None, None
    if data in ("real", "gan", "mixed"):
        new_images, new_targets = _pastes(data, gan_share).paste(tr_images, tr_targets, random_state=1000 + seed)
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


def run_choice_task(task):
    """Validation score of one candidate GAN share for one seed: detector on fit scenes + pastes, val scenes.

    ``task = (seed, gan_share)``; uses only the fit and validation scenes (training digits). Returns
    ``(seed, gan_share, rare mAP@0.5 on the validation scenes, seconds)``.
    """
    import torch

    from ganaug.detection import detection_report

    seed, gan_share = task
    sh = _SHARED
    args = sh["args"]
    if args.jobs > 1:
        torch.set_num_threads(1)
    fit_images, fit_targets = sh["fit"]
    val_images, val_targets = sh["val"]
    t0 = time.time()
    new_images, new_targets = _pastes("choice", gan_share).paste(fit_images, fit_targets, random_state=1000 + seed)
    det = fit_detector(concat(fit_images, fit_targets, new_images, new_targets), args, seed)
    report = detection_report(det.predict(val_images), val_targets, N_CLASSES, RARE)
    elapsed = time.time() - t0
    print(f"seed {seed} share choice: GAN share {gan_share:g}, validation rare mAP50 {report['rare_mAP50']:.3f} "
          f"({elapsed:.0f}s)", flush=True)
    return seed, float(gan_share), float(report["rare_mAP50"]), elapsed


def choose_shares(val_scores: dict, train_labels, split, args) -> dict:
    """Per seed, the GAN share with the best validation rare mAP@0.5 (ties: the smaller share).

    ``val_scores``: ``{(seed, share): score}`` from :func:`run_choice_task`; ``train_labels``: the labels of the
    training digits; ``split``: the ``(fit_index, val_index)`` the fit and validation scenes were built from.
    Returns ``{seed: ShareChoice}``.
    """
    from ganaug.evaluate import choose_synthetic_share

    out = {}
    for seed in args.seeds:
        def score(fit_index, val_index, shares, seed=seed):
            if not (np.array_equal(fit_index, split[0]) and np.array_equal(val_index, split[1])):
                raise RuntimeError("the choice's split differs from the one the validation scenes were built from")
            return [val_scores[seed, float(s)] for s in shares]

        out[seed] = choose_synthetic_share(score, train_labels, shares=args.shares, val_size=args.val_size,
                                           min_fit=1, random_state=0)
    return out


from _privacy_columns import PRIVACY_METRICS  # noqa: E402 - privacy_report key -> header, shared by the benchmarks


def holdout_crops(gan_paste, te_images, te_targets):
    """Crops of the test scenes' rare digits at the GAN's object size (with context), and their labels."""
    from ganaug.detection import ObjectPasteAugmenter

    test_paste = ObjectPasteAugmenter(source="real", object_size=gan_paste.object_size,
                                      context=gan_paste.context).fit(te_images, te_targets)
    hold = np.flatnonzero(np.isin(test_paste.crop_labels_, RARE))
    return test_paste._crop_array(hold), test_paste.crop_labels_[hold]


def added_objects(gan_paste, gan_share: float, seed: int = 0):
    """One draw of the objects arm 'mixed' adds to digits 0-4 (``gan_share`` 0: copy-paste, 1: GAN only).

    Per class ``round((1 - gan_share) * n)`` real training crops drawn again (as ``ObjectPasteAugmenter``
    with ``real_share = 1 - gan_share``) and the rest GAN-made, all at the GAN's object size.
    """
    rng = np.random.default_rng(seed)
    train_crops = gan_paste._crop_array(np.arange(len(gan_paste.crop_labels_)))  # the crops the GAN learnt from
    y_train = gan_paste.crop_labels_
    wanted = {c: int(gan_paste.sampling_strategy_[c]) for c in RARE if gan_paste.sampling_strategy_.get(c, 0) > 0}
    n_real = {c: int(round((1.0 - gan_share) * n)) for c, n in wanted.items()}
    picks = np.concatenate([rng.choice(np.flatnonzero(y_train == c), n_real[c], replace=True)
                            for c in wanted]).astype(np.int64)
    X_parts, y_parts = [train_crops[picks]], [y_train[picks]]
    n_gan = {c: n - n_real[c] for c, n in wanted.items() if n > n_real[c]}
    if n_gan:
        X_gan, y_gan = gan_paste.gan_.sample(n_gan, random_state=seed + 3000)
        X_parts.append(np.asarray(X_gan).reshape(-1, *train_crops.shape[1:]).astype(train_crops.dtype))
        y_parts.append(np.asarray(y_gan))
    return train_crops, y_train, np.concatenate(X_parts), np.concatenate(y_parts)


def privacy_table(gan_paste, te_images, te_targets, seed: int = 0, mixed_share: float | None = None
                  ) -> tuple[list[dict], str]:
    """privacy_report of GAN-made rare objects and of re-drawn real crops vs the training crops (pixel space).

    Every crop is resized to the GAN's object size, as the GAN's training crops were; the holdout is the
    crops of the test scenes (held-out digits) of the rare classes. ``mixed_share``: also the 'mixed' arm's
    objects with that GAN share.
    """
    from ganaug.privacy import privacy_report

    X_hold, y_hold = holdout_crops(gan_paste, te_images, te_targets)
    shares = {"copy-paste (real crops drawn again)": 0.0, "GAN-made objects": 1.0}
    if mixed_share is not None and float(mixed_share) not in (0.0, 1.0):  # 0 and 1 are the rows above
        shares[f"copy-paste and GAN objects (GAN share {mixed_share:g})"] = float(mixed_share)
    rows = []
    for name, share in shares.items():
        train_crops, y_train, X_syn, y_syn = added_objects(gan_paste, share, seed)
        rep = privacy_report(train_crops, X_syn, X_hold, y_train, y_syn, y_hold, kind="image", random_state=seed)
        rows.append({"source": name, "gan_share": share, "n_added": len(y_syn),
                     "n_members": int(np.isin(y_train, RARE).sum()), "n_holdout": rep["n_holdout"],
                     "n_train_crops": len(y_train), **{head: rep[key] for key, head in PRIVACY_METRICS.items()}})
    heads = list(PRIVACY_METRICS.values())
    md = [
        "## Privacy: are the pasted objects new objects?", "",
        f"`privacy_report` in pixel space ({gan_paste.object_size}x{gan_paste.object_size} crops with context) of "
        f"the {rows[0]['n_added']} objects added to digits 0-4 against the {rows[0]['n_train_crops']} training crops "
        f"({rows[0]['n_members']} of digits 0-4: the attack's members), holdout = the {rows[0]['n_holdout']} crops "
        "of digits 0-4 in the test scenes (held-out digits). DCR ratio = median distance to the closest training "
        "crop / the same for fresh crops (0 = copies, ~1 = as new as real objects); MIA AUC = membership inference "
        f"(0.5 = no leak; standard error about {0.41 / np.sqrt(max(1, rows[0]['n_members'])):.2f}).", "",
        "| source | " + " | ".join(heads) + " |", "|---|" + "---|" * len(heads),
    ]
    md += [f"| {r['source']} | " + " | ".join(f"{r[h]:.2f}" for h in heads) + " |" for r in rows]
    return rows, "\n".join(md) + "\n"


def diversity_table(gan_paste, te_images, te_targets, n_per_class: int = 200, seed: int = 0
                    ) -> tuple[list[dict], str]:
    """Density and coverage (k=5, pixel space) per rare digit: GAN objects and re-drawn real crops vs test crops.

    With ``filter_synthetic`` in the GAN's options, also the filter's acceptance rate per digit of that draw.
    """
    from ganaug.metrics.fidelity import class_density_coverage

    X_hold, y_hold = holdout_crops(gan_paste, te_images, te_targets)
    flat = lambda a: np.asarray(a, dtype=np.float64).reshape(len(a), -1) / 255.0  # noqa: E731
    train_crops = gan_paste._crop_array(np.arange(len(gan_paste.crop_labels_)))
    y_train = gan_paste.crop_labels_
    rng = np.random.default_rng(seed)
    picks = np.concatenate([rng.choice(np.flatnonzero(y_train == c), n_per_class, replace=True) for c in RARE])
    X_gan, y_gan = gan_paste.gan_.sample({c: n_per_class for c in RARE}, random_state=seed + 4000)
    acceptance = dict(gan_paste.gan_.acceptance_rate_) if gan_paste.gan_.filter_synthetic else {}
    X_gan = np.asarray(X_gan).reshape(-1, *train_crops.shape[1:])
    dc_gan = class_density_coverage(flat(X_hold), y_hold, flat(X_gan), np.asarray(y_gan), k=5)
    dc_real = class_density_coverage(flat(X_hold), y_hold, flat(train_crops[picks]), y_train[picks], k=5)
    rows = [{"digit": c, "train_crops": int((y_train == c).sum()), "test_crops": int((y_hold == c).sum()),
             "density_gan": dc_gan[c]["density"], "coverage_gan": dc_gan[c]["coverage"],
             "density_copy_paste": dc_real[c]["density"], "coverage_copy_paste": dc_real[c]["coverage"],
             "filter_acceptance": acceptance.get(c, float("nan"))}
            for c in RARE]
    acc_head, acc_sep = (" filter acceptance % |", "---|") if acceptance else ("", "")
    md = [
        "## Diversity of the pasted rare objects", "",
        f"Density and coverage (Naeem et al. 2020, k=5) of {n_per_class} objects per digit against the crops of "
        f"the test scenes, in pixel space at {gan_paste.object_size}x{gan_paste.object_size} (crops with "
        "context): density ~1 and coverage ~0.97 for fresh real objects of one distribution; low coverage = too "
        "little variety. Copy-paste draws from the training crops of the digit (their count limits its coverage)."
        + (" Filter acceptance: share of the GAN's drawn objects that passed its filter (`filter_synthetic`)."
           if acceptance else ""),
        "", "| digit | training crops | test crops | density GAN | coverage GAN | density copy-paste "
        "| coverage copy-paste |" + acc_head, "|---|---|---|---|---|---|---|" + acc_sep,
    ]
    md += [f"| {r['digit']} | {r['train_crops']} | {r['test_crops']} | {r['density_gan']:.2f} | "
           f"{r['coverage_gan']:.2f} | {r['density_copy_paste']:.2f} | {r['coverage_copy_paste']:.2f} |"
           + (f" {100 * r['filter_acceptance']:.1f} |" if acceptance else "") for r in rows]
    return rows, "\n".join(md) + "\n"


MIXED_ARM = "+ copy-paste and GAN pastes (mixed)"
ARMS = [
    ("imbalanced", "plain", False),
    ("+ albumentations", "plain", True),
    ("repeat-factor sampling", "rfs", False),
    ("+ copy-paste (real crops)", "real", False),
    ("+ GAN pastes", "gan", False),
    (MIXED_ARM, "mixed", False),
    ("+ copy-paste + albumentations", "real", True),
    ("+ GAN pastes + albumentations", "gan", True),
]


def parse_args(argv=None):
    from ganaug.evaluate import DEFAULT_SHARES

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
    parser.add_argument("--gan-params", default=None,
                        help="JSON object of more ImageAugmenter options for the object GAN, e.g. "
                             "'{\"lecam_weight\": 0.01, \"ada_target\": 0.6, \"filter_synthetic\": true}'")
    parser.add_argument("--share", type=float, default=None,
                        help="OVERRIDE: force this GAN share of the pasted objects in the mixed arm (not "
                             "validation-chosen; default: chosen per seed on validation scenes of training digits)")
    parser.add_argument("--shares", type=_shares, default=DEFAULT_SHARES,
                        help="candidate GAN shares for the validation choice (comma-separated; default "
                             + ",".join(f"{v:g}" for v in DEFAULT_SHARES) + ")")
    parser.add_argument("--val-size", type=float, default=0.25,
                        help="share of each digit of the training digits kept for the validation scenes")
    parser.add_argument("--val-scenes", type=int, default=300, help="validation scenes for the share choice")
    parser.add_argument("--jobs", type=int, default=1,
                        help="seeds run in this many processes (one torch thread each) after the GAN is fitted")
    parser.add_argument("--gan-max-per-class", type=int, default=60, help="GAN trains on at most this many crops per class")
    parser.add_argument("--data", default=None, help="an mnist_4k.npz to use instead of the bundled copy")
    parser.add_argument("--quick", action="store_true",
                        help="tiny smoke run (few steps, one seed, shares 0, 0.5, 1)")
    parser.add_argument("--privacy-only", action="store_true",
                        help="only the privacy table, from the GAN a previous run saved in --out/gan_paste")
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.gan_epochs, args.train_scenes, args.test_scenes, args.val_scenes = 30, 1, 200, 60, 60
        if args.jobs == 1:
            args.seeds = [0]
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


def main(argv=None) -> int:
    args = parse_args(argv)

    import torch

    from ganaug.detection import ObjectPasteAugmenter

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    import _bench

    bench = _bench.start([sys.argv[0], *(argv if argv is not None else sys.argv[1:])])
    settle = _bench.quick_settle() if args.quick else None
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t_all = time.time()
    train_digits, _ = load_digits(args)
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
    choosing = args.share is None
    fit_scenes = val_scenes = split = None
    if choosing:  # fit and validation scenes from the training digits only: the test scenes take no part
        fit_scenes, val_scenes, split = validation_scenes(train_digits, args)
        fit_counts = np.bincount(np.concatenate([t["labels"] for t in fit_scenes[1]]), minlength=N_CLASSES)
        print(f"share choice: {len(fit_scenes[0])} fit scenes from {len(split[0])} training digits, boxes per class "
              f"{fit_counts.tolist()}; {len(val_scenes[0])} validation scenes from the other {len(split[1])}",
              flush=True)
    global _SHARED
    _SHARED = dict(args=args, tr=(tr_images, tr_targets), te=(te_images, te_targets), real_paste=real_paste,
                   gan_dir=str(out / "gan_paste"), fit=fit_scenes, val=val_scenes,
                   choice_gan_dir=str(out / "gan_paste_choice"))
    tasks = [(seed, name, data, augment, None) for seed in args.seeds for name, data, augment in ARMS]
    first = [t for t in tasks if t[2] not in ("gan", "mixed")]
    gan_tasks = [t for t in tasks if t[2] == "gan"]
    choice_tasks = [(seed, g) for seed in args.seeds for g in args.shares] if choosing else []

    def mixed_tasks(chosen: dict):
        return [(seed, name, data, augment, chosen[seed]) for seed, name, data, augment, _ in tasks if data == "mixed"]

    def pick(choice_out) -> dict:
        scores = {(seed, g): v for seed, g, v, _ in choice_out}
        return choose_shares(scores, train_digits[1], split, args)

    t_choice_gan = 0.0
    if args.jobs > 1:
        import multiprocessing as mp

        with mp.get_context("fork").Pool(args.jobs) as pool:
            gan_job = pool.apply_async(fit_gan_task, ("main",))  # the GANs train while the arms without them run
            choice_gan_job = pool.apply_async(fit_gan_task, ("choice",)) if choosing else None
            done = pool.map_async(run_task, first)
            if choosing:
                t_choice_gan = choice_gan_job.get()
                print(f"choice GAN fit {t_choice_gan:.0f}s", flush=True)
                choice_job = pool.map_async(run_choice_task, choice_tasks)
            t_gan_fit = gan_job.get()
            print(f"GAN fit {t_gan_fit:.0f}s", flush=True)
            gan_job_out = pool.map_async(run_task, gan_tasks)
            choice_out = choice_job.get() if choosing else []
            choices = pick(choice_out) if choosing else {}
            chosen = {seed: (choices[seed].share if choosing else args.share) for seed in args.seeds}
            outputs = pool.map(run_task, mixed_tasks(chosen)) + gan_job_out.get() + done.get()
    else:
        t_gan_fit = fit_gan_task("main")
        if choosing:
            t_choice_gan = fit_gan_task("choice")
        choice_out = [run_choice_task(t) for t in choice_tasks]
        choices = pick(choice_out) if choosing else {}
        chosen = {seed: (choices[seed].share if choosing else args.share) for seed in args.seeds}
        outputs = [run_task(t) for t in first + gan_tasks + mixed_tasks(chosen)]
    t_choice = t_choice_gan + sum(t for *_, t in choice_out)
    choice_rows = [{"seed": seed, "gan_share": float(g), "val_rare_mAP50": float(v),
                    "chosen": float(g) == choices[seed].share, "seconds": t} for seed, g, v, t in choice_out]
    (out / "share_choice.csv").write_text(
        "seed,gan_share,val_rare_mAP50,chosen,seconds\n"
        + "".join(f"{r['seed']},{r['gan_share']:g},{r['val_rare_mAP50']:.4f},{r['chosen']},{r['seconds']:.1f}\n"
                  for r in choice_rows))
    results = {name: [] for name, _, _ in ARMS}
    times = {name: [] for name, _, _ in ARMS}
    samples = {}
    for seed in args.seeds:  # in seed order
        for s_, name, report, elapsed, sample in outputs:
            if s_ == seed:
                results[name].append(report)
                times[name].append(elapsed)
                data = next(d for n, d, _ in ARMS if n == name)
                if sample is not None and data not in samples:
                    samples[data] = sample
    gan_paste = _pastes("gan")
    seed0 = args.seeds[0]
    priv_rows, privacy_md = privacy_table(gan_paste, te_images, te_targets, mixed_share=chosen[seed0])
    (out / "privacy.md").write_text(privacy_md)
    _, diversity_md = diversity_table(gan_paste, te_images, te_targets)
    mia = {r["gan_share"]: r["MIA AUC"] for r in priv_rows}
    arm_mia = {"real": mia[0.0], "gan": mia[1.0], "mixed": mia[float(chosen[seed0])]}

    # ---------------------------------------------------------------- tables
    lines = ["| arm | GAN share of pasted objects per seed | rare mAP@0.5 (digits 0-4) | common mAP@0.5 (5-9) "
             "| mAP@0.5 | mAP@0.5:0.95 | rare mAP@0.5:0.95 | MIA AUC | time per seed (s) |",
             "|---|---|---|---|---|---|---|---|---|"]
    csv = ["arm,seed,gan_share,rare_mAP50,mAP50,mAP50_95,rare_mAP50_95,seconds,"
           + ",".join(f"AP50_{c}" for c in range(N_CLASSES))]
    arm_share = {"real": lambda seed: 0.0, "gan": lambda seed: 1.0, "mixed": lambda seed: chosen[seed]}
    for name, data, _ in ARMS:
        rs = results[name]
        common = [np.mean([r["AP50"][c] for c in range(N_CLASSES) if c not in RARE]) for r in rs]
        if data == "mixed":
            share_text = ", ".join(f"{chosen[seed]:g}" for seed in args.seeds) + (
                " (validation)" if choosing else " (--share override)")
        else:
            share_text = {"real": "0", "gan": "1"}.get(data, "-")
        mia_text = f"{arm_mia[data]:.2f}" if data in arm_mia else "-"
        lines.append(f"| {name} | {share_text} | {_fmt([r['rare_mAP50'] for r in rs])} | {_fmt(common)} | "
                     f"{_fmt([r['mAP50'] for r in rs])} | {_fmt([r['mAP50_95'] for r in rs])} | "
                     f"{_fmt([r['rare_mAP50_95'] for r in rs])} | {mia_text} | {np.mean(times[name]):.0f} |")
        for seed, r, t in zip(args.seeds, rs, times[name]):
            g = arm_share[data](seed) if data in arm_share else ""
            csv.append(f"{name},{seed},{g},{r['rare_mAP50']:.4f},{r['mAP50']:.4f},{r['mAP50_95']:.4f},"
                       f"{r['rare_mAP50_95']:.4f},{t:.1f}," + ",".join(f"{r['AP50'][c]:.4f}" for c in range(N_CLASSES)))
    per_class = ["| arm | " + " | ".join(f"{c}{'*' if c in RARE else ''}" for c in range(N_CLASSES)) + " |",
                 "|---|" + "---|" * N_CLASSES]
    for name, _, _ in ARMS:
        rs = results[name]
        per_class.append(f"| {name} | " + " | ".join(f"{100 * np.mean([r['AP50'][c] for r in rs]):.1f}"
                                                     for c in range(N_CLASSES)) + " |")
    if choosing:
        choice_md = [
            "## Mixing policy: GAN share chosen on validation scenes (training digits only)", "",
            f"The training digits split {1 - args.val_size:g}/{args.val_size:g} per digit: {len(fit_scenes[0])} fit "
            f"scenes (rare digits rare, as in training) from {len(split[0])} digits, {len(val_scenes[0])} "
            f"validation scenes (balanced) from the other {len(split[1])}; a GAN with the run's options fitted on "
            f"the fit scenes' crops only ({t_choice_gan:.0f} s); per seed and GAN share, the detector trained on "
            "the fit scenes + pastes and scored on the validation scenes. Rare mAP@0.5 on the validation scenes "
            "(%); chosen = best, ties to the smaller share. The test scenes play no part.", "",
            "| seed | " + " | ".join(f"GAN share {g:g}" for g in args.shares) + " | chosen |",
            "|---|" + "---|" * (len(args.shares) + 1),
        ]
        for seed in args.seeds:
            ch = choices[seed]
            choice_md.append(f"| {seed} | " + " | ".join(f"{100 * v:.1f}" for v in ch.scores)
                             + f" | **{ch.share:g}** |")
        picked = [chosen[seed] for seed in args.seeds]
        choice_md += ["", f"Across seeds: chosen shares {picked}, median {np.median(picked):g}.", ""]
    else:
        choice_md = [f"Mixed arm: GAN share **{args.share:g} forced with --share (an override, NOT chosen on "
                     "validation)**.", ""]
    best_rare = max(results, key=lambda k: np.mean([r["rare_mAP50"] for r in results[k]]))
    gan_best = max(("+ GAN pastes", "+ GAN pastes + albumentations", MIXED_ARM),
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
    gan_text = (f"GAN: ImageAugmenter defaults but width {args.gan_width}, {args.gan_epochs} epochs"
                + (f", --gan-params `{args.gan_params_text}`" if args.gan_params else "")
                + f", on at most {args.gan_max_per_class} crops per class, fit {t_gan_fit:.0f} s.")
    md = [
        "# Detection benchmark", "", *_bench.markdown(bench), "",
        f"Train: {len(tr_images)} scenes {args.size}x{args.size}, boxes per class {counts.tolist()} "
        f"(digits 0-4 rare: {counts[list(RARE)].sum() / counts.sum():.1%} of boxes); test: {len(te_images)} "
        f"scenes of held-out digits, boxes per class {te_counts.tolist()}.",
        f"Detector: CenterNetDetector width {args.width}, {args.steps} steps of {args.batch_size}; "
        f"seeds {args.seeds}. {gan_text} Pastes per class: "
        f"{real_paste.sampling_strategy_}. Total run {total / 60:.1f} min (of which the share choice "
        f"{t_choice / 60:.1f} min of process time).", "",
        "## Test scenes (mean ± std over seeds, %)", "",
        f"GAN share: of the pasted objects (0 = copy-paste only). MIA AUC: membership-inference AUC of the "
        f"objects the arm pastes into digits 0-4 (seed {seed0}'s draw; privacy section below; 0.5 = no leak).", "",
        *lines, "",
        "Time per seed: drawing the pasted images + detector training + prediction, wall clock in one process "
        f"({args.jobs} processes at once on a shared machine); the GAN fit "
        f"({t_gan_fit:.0f} s) and copy-paste fit ({t_real_fit:.1f} s) are done once.", "",
        *choice_md,
        "## AP@0.5 per class (mean over seeds, %; * = rare in training)", "", *per_class, "", verdict, "",
        diversity_md, "",
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
    names = [n for n, _, _ in ARMS]
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
