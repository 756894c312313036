"""Options shared by the image and detection benchmarks: ``--gan-params`` (extra ``ImageAugmenter`` options as JSON)
and ``--shares`` (candidate shares of generated objects)."""

from __future__ import annotations

import argparse
import json

#: ImageAugmenter options the pipelines set themselves (--gan-epochs, --gan-width, the seeds, no progress bar)
PIPELINE_GAN_KEYS = ("random_state", "trainer", "epochs", "width")


def parse_gan_params(text: str | None) -> dict:
    """A JSON object of extra ``ImageAugmenter`` options, checked against its parameters ({} for none)."""
    if not text:
        return {}
    try:
        params = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"--gan-params is not valid JSON ({exc}): {text!r}") from None
    if not isinstance(params, dict):
        raise ValueError(f"--gan-params must be a JSON object of ImageAugmenter options, got {text!r}")
    return check_gan_params(params)


def check_gan_params(params: dict, where: str = "--gan-params") -> dict:
    """``params`` if every key is an ``ImageAugmenter`` option the pipeline does not set itself."""
    from ganaug.augment.image import ImageAugmenter

    known = set(ImageAugmenter().get_params())
    unknown = sorted(set(params) - known)
    if unknown:
        raise ValueError(f"{where}: {unknown[0]!r} is not an ImageAugmenter option (known: {sorted(known)})")
    fixed = sorted(set(params) & set(PIPELINE_GAN_KEYS))
    if fixed:
        raise ValueError(f"{where}: {fixed[0]!r} is set by the pipeline (use --gan-epochs, --gan-width, --seeds)")
    return params


def parse_shares(text: str) -> tuple[float, ...]:
    """``--shares``: comma-separated shares in [0, 1] (an ``argparse`` type)."""
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--shares must be comma-separated numbers in [0, 1], got {text!r}") from None
    if not values or any(not 0.0 <= v <= 1.0 for v in values):
        raise argparse.ArgumentTypeError(f"--shares must be comma-separated numbers in [0, 1], got {text!r}")
    return values
