"""``--gan-params`` of the image and detection benchmarks: extra ``ImageAugmenter`` options as JSON."""

from __future__ import annotations

import json

#: ImageAugmenter options the pipelines set themselves (--gan-epochs, --gan-width, the seeds, no progress bar)
PIPELINE_GAN_KEYS = ("random_state", "trainer", "epochs", "width")


def parse_gan_params(text: str | None) -> dict:
    """A JSON object of extra ``ImageAugmenter`` options, checked against its parameters ({} for none)."""
    from ganaug.augment.image import ImageAugmenter

    if not text:
        return {}
    try:
        params = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"--gan-params is not valid JSON ({exc}): {text!r}") from None
    if not isinstance(params, dict):
        raise ValueError(f"--gan-params must be a JSON object of ImageAugmenter options, got {text!r}")
    known = set(ImageAugmenter().get_params())
    unknown = sorted(set(params) - known)
    if unknown:
        raise ValueError(f"--gan-params: {unknown[0]!r} is not an ImageAugmenter option (known: {sorted(known)})")
    fixed = sorted(set(params) & set(PIPELINE_GAN_KEYS))
    if fixed:
        raise ValueError(f"--gan-params: {fixed[0]!r} is set by the pipeline (use --gan-epochs, --gan-width, --seeds)")
    return params
