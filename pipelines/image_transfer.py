"""Class/style split of the image GAN, compared on development data only (issue 21, item 2).

Does a generator whose style is shared by all classes (``style_dim > 0``:
noise -> mapping network -> style that modulates every layer, the class
only at the input and, optionally, in class-conditional batch norm) draw
the rare digits in more of their real variety than the default generator?

Data: the image benchmark's split (``pipelines/image_benchmark.py``,
bundled MNIST-4k, 70/30 stratified, then 5 % of digits 0-4 kept in the
training split: 14 per rare digit). **The test split is never loaded
into any model or score here.** Development data come from the training
split alone:

* the rare-digit training images the benchmark throws away (95 % of digits
  0-4 of the training split, about 266 per digit): the GAN and the CNNs
  never see them;
* 20 % of each common digit's training images, cut off before any fitting.

Every GAN variant is fitted on what is left (the benchmark's imbalanced
training set minus the common development images), with the same seed and
epochs; for each it reports, on the development images:

* conditional accuracy of the rare digits, by a judge: the benchmark's CNN
  trained on the whole training split (its features are the space of the
  scores below; it has seen the development images, the GANs have not);
* per-rare-digit density and coverage (Naeem et al., 2020, k=5) and Fréchet
  distance against the held-out rare images, next to those of the 14 kept
  real images (the ceiling of copying);
* the membership-attack AUC (pixels): members = the kept rare images,
  non-members = the held-out rare images;
* downstream: the benchmark's CNN trained on the fitting set with random
  oversampling + albumentations where ``--shares`` of the added rare images
  are generated (0 = oversampling + albumentations, the strongest simple
  arm), balanced accuracy on the development images, mean over ``--seeds``;
* a style grid (one row per latent, one column per digit:
  :func:`ganaug.image.plot_style_grid`);
* with ``filter_synthetic`` in a variant's options, the filter's acceptance
  rate per rare digit.

Writes ``results.md``, ``variants.csv``, ``downstream.csv`` and
``style_grid_<variant>.png`` to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from image_benchmark import RARE, fit_classifier, make_split  # noqa: E402 - the benchmark's split and arms
from _gan_params import check_gan_params, parse_gan_params, parse_shares  # noqa: E402
from tabular_benchmark import markdown_table  # noqa: E402 - no tabulate dependency

#: variants compared by default: name -> ImageAugmenter options on top of --gan-params
#: (the generator before issue 21, each half of today's default alone, and the default)
VARIANTS = {
    "no style split, no mode-seeking (before)": {"style_dim": 0, "diversity_weight": 0.0},
    "style split only": {"diversity_weight": 0.0},
    "mode-seeking only": {"style_dim": 0},
    "default (style 64, mode-seeking 0.1)": {},
}
DEV_COMMON_SHARE = 0.2


def slug(name: str) -> str:
    """A file-name part for a variant name: ``"style 64, class at input only"`` -> ``"style_64_class_at_input_only"``."""
    return "_".join("".join(ch if ch.isalnum() else " " for ch in name).split())


def development_split(full, rare, seed: int):
    """``(fit, dev)``: the fitting set and the development images, both from the training split only.

    ``fit`` = the imbalanced training set minus ``DEV_COMMON_SHARE`` of each common digit; ``dev`` = those
    common images plus the rare-digit training images the benchmark drops.
    """
    (X_full, y_full), (X_r, y_r) = full, rare
    kept = {X_r[i].tobytes() for i in np.flatnonzero(np.isin(y_r, RARE))}
    dropped = np.array([i for i in np.flatnonzero(np.isin(y_full, RARE)) if X_full[i].tobytes() not in kept])
    rng = np.random.default_rng(seed)
    dev_common = np.concatenate([
        rng.permutation(idx)[: int(round(DEV_COMMON_SHARE * len(idx)))]
        for idx in (np.flatnonzero(y_r == c) for c in range(10) if c not in RARE)
    ])
    fit_mask = np.ones(len(y_r), dtype=bool)
    fit_mask[dev_common] = False
    X_dev = np.concatenate([X_full[dropped], X_r[dev_common]])
    y_dev = np.concatenate([y_full[dropped], y_r[dev_common]])
    return (X_r[fit_mask], y_r[fit_mask]), (X_dev, y_dev)


def parse_variants(text: str) -> dict:
    """``--variants``: a JSON object name -> ImageAugmenter options (each checked as ``--gan-params``)."""
    try:
        variants = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"--variants is not valid JSON ({exc}): {text!r}") from None
    if not isinstance(variants, dict) or not variants or not all(isinstance(v, dict) for v in variants.values()):
        raise ValueError(f"--variants must be a non-empty JSON object name -> options, got {text!r}")
    return {str(name): check_gan_params(options, f"--variants {name!r}") for name, options in variants.items()}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="results/image_transfer")
    parser.add_argument("--seed", type=int, default=0, help="split and GAN seed")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="CNN seeds of the downstream score")
    parser.add_argument("--gan-params", default=None, help="JSON ImageAugmenter options for every variant")
    parser.add_argument("--variants", default=None,
                        help="JSON object name -> options replacing the default variants "
                             + json.dumps(VARIANTS))
    parser.add_argument("--shares", type=parse_shares, default=(0.0, 0.5, 1.0),
                        help="generated share of the added rare images in the downstream arms (0 = oversampling)")
    parser.add_argument("--clf-steps", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--per-class", type=int, default=200, help="generated images per rare digit scored")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 epochs, width 16, few steps")
    args = parser.parse_args(argv)
    try:
        args.gan_params_text = args.gan_params
        args.gan_params = parse_gan_params(args.gan_params)
        args.variants = VARIANTS if args.variants is None else parse_variants(args.variants)
    except ValueError as exc:
        parser.error(str(exc))
    if args.quick:
        args.seeds, args.clf_steps, args.per_class = args.seeds[:1], 30, 20
        args.gan_params = {**args.gan_params, "epochs": 2, "width": 16}
    return args


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
    from sklearn.metrics import balanced_accuracy_score

    from ganaug.augment.image import ImageAugmenter
    from ganaug.datasets import load_mnist
    from ganaug.image import CNNClassifier, plot_style_grid
    from ganaug.metrics.fidelity import class_density_coverage, class_frechet_distances, conditional_accuracy
    from ganaug.privacy import privacy_report

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    X, y = load_mnist()
    full, rare, _test_never_used = make_split(X, y, args.seed)
    del _test_never_used
    (X_fit, y_fit), (X_dev, y_dev) = development_split(full, rare, args.seed)
    print(f"fitting set {len(y_fit)} images {np.bincount(y_fit, minlength=10).tolist()}; "
          f"development set {len(y_dev)} images {np.bincount(y_dev, minlength=10).tolist()}", flush=True)

    judge = CNNClassifier(max_steps=300 if not args.quick else 30, random_state=args.seed).fit(*full)
    dev_rare = np.isin(y_dev, RARE)
    dev_feats, dev_labels = judge.transform(X_dev[dev_rare]), y_dev[dev_rare]
    fit_rare = np.isin(y_fit, RARE)
    kept_feats = judge.transform(X_fit[fit_rare])
    kept_dc = class_density_coverage(dev_feats, dev_labels, kept_feats, y_fit[fit_rare], k=5)
    kept_fd = class_frechet_distances(dev_feats, dev_labels, kept_feats, y_fit[fit_rare])

    def downstream(aug, share: float) -> list[float]:
        arm = "real + ganaug mixed + albumentations" if aug is not None else "real + random oversampling + albumentations"
        return [balanced_accuracy_score(y_dev, fit_classifier(arm, X_fit, y_fit, aug, args, s, share).predict(X_dev))
                for s in args.seeds]

    rows, down_rows = [], []
    base = downstream(None, 0.0)
    down_rows.append({"variant": "random oversampling + albumentations", "share": 0.0,
                      **{f"seed {s}": v for s, v in zip(args.seeds, base)}, "mean": float(np.mean(base))})
    print(f"oversampling + albumentations: dev balanced accuracy {100 * np.mean(base):.2f}", flush=True)
    for name, options in args.variants.items():
        params = {**args.gan_params, **options}
        aug = ImageAugmenter(random_state=args.seed, trainer={"enable_progress_bar": False}, **params)
        t = time.perf_counter()
        aug.fit(X_fit, y_fit)
        seconds = time.perf_counter() - t
        X_gen, y_gen = aug.sample({c: args.per_class for c in RARE}, random_state=args.seed + 1000)
        acceptance = dict(aug.acceptance_rate_) if aug.filter_synthetic else {}
        _, per_class_acc = conditional_accuracy(y_gen, judge.predict(X_gen))
        gen_feats = judge.transform(X_gen)
        dc = class_density_coverage(dev_feats, dev_labels, gen_feats, y_gen, k=5)
        fd = class_frechet_distances(dev_feats, dev_labels, gen_feats, y_gen)
        rep = privacy_report(X_fit[fit_rare], X_gen, X_dev[dev_rare], y_fit[fit_rare], y_gen, dev_labels,
                             kind="image", random_state=args.seed)
        row = {"variant": name, "options": json.dumps(options), "fit_seconds": seconds,
               "rare_cond_acc": float(np.mean([per_class_acc[c] for c in RARE])),
               "rare_coverage": float(np.mean([dc[c]["coverage"] for c in RARE])),
               "rare_density": float(np.mean([dc[c]["density"] for c in RARE])),
               "rare_fd": float(np.mean([fd[c] for c in RARE])),
               "mia_auc": rep["mia_auc"], "dcr_ratio": rep.get("dcr_ratio")}
        row.update({f"coverage {c}": dc[c]["coverage"] for c in RARE})
        row.update({f"acceptance {c}": acceptance[c] for c in RARE if c in acceptance})
        rows.append(row)
        if acceptance:
            print(f"{name}: filter acceptance " + ", ".join(f"{c}: {acceptance[c]:.0%}" for c in RARE), flush=True)
        print(f"{name}: {seconds:.0f} s, rare conditional accuracy {100 * row['rare_cond_acc']:.1f}%, coverage "
              f"{row['rare_coverage']:.3f}, density {row['rare_density']:.2f}, FD {row['rare_fd']:.2f}, "
              f"MIA {row['mia_auc']:.3f}", flush=True)
        fig = plot_style_grid(aug, n_latents=8, random_state=args.seed, title=f"{name}: one row per latent")
        fig.savefig(out / f"style_grid_{slug(name)}.png", dpi=110)
        plt.close(fig)
        for share in args.shares:
            if share == 0.0:
                continue
            values = downstream(aug, share)
            down_rows.append({"variant": name, "share": share, **{f"seed {s}": v for s, v in zip(args.seeds, values)},
                              "mean": float(np.mean(values))})
            print(f"  share {share:g}: dev balanced accuracy {100 * np.mean(values):.2f}", flush=True)

    variants = pd.DataFrame(rows)
    down = pd.DataFrame(down_rows)
    variants.to_csv(out / "variants.csv", index=False)
    down.to_csv(out / "downstream.csv", index=False)
    bench = _bench.finish(bench, settle_seconds=_bench.quick_settle() if args.quick else None)
    kept_cov = float(np.mean([kept_dc[c]["coverage"] for c in RARE]))
    kept_fd_mean = float(np.mean([kept_fd[c] for c in RARE]))
    lines = [
        "# Class/style split of the image GAN on development data", "",
        *_bench.markdown(bench), "",
        f"GAN options of every variant: `{args.gan_params_text or '{}'}`; split seed {args.seed}; "
        f"CNN seeds {args.seeds}. No test image is used.", "",
        f"The 14 kept real images per rare digit: coverage {kept_cov:.3f}, FD {kept_fd_mean:.2f} "
        "(against the held-out rare training images).", "",
        "## Fidelity and privacy of the rare digits", "",
        markdown_table(variants.drop(columns=["options"]), 3), "",
        "## Downstream: balanced accuracy on the development images", "",
        markdown_table(down, 4), "",
    ]
    (out / "results.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
