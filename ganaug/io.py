"""Save and load models without pickle.

A model directory holds exactly three files:

``config.json``
    Versions, the estimator's class and parameters, fitted attributes that are
    plain data (column schema, classes, scalers) - JSON only.
``weights.safetensors``
    Every tensor and array (network weights, fitted numeric state).
``manifest.json``
    Format version and the SHA-256 of the two files above.

:func:`load_model_dir` checks the format version and both hashes before it
reads anything, never unpickles, and ignores any other file in the directory
(a planted ``*.pkl`` is never opened). Hashes catch altered or truncated files;
they are not a signature against a deliberate forger who also rewrites the
manifest - load models only from sources you trust.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from ganaug._version import FORMAT_VERSION, __version__
from ganaug.exceptions import ModelFormatError

__all__ = [
    "CONFIG_FILE",
    "MANIFEST_FILE",
    "WEIGHTS_FILE",
    "load_model_dir",
    "save_model_dir",
    "to_jsonable",
]

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.safetensors"
MANIFEST_FILE = "manifest.json"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def to_jsonable(value: Any) -> Any:
    """Convert numpy scalars/arrays, tuples and non-finite floats to JSON-safe values.

    Non-finite floats become the strings ``"nan"``, ``"inf"``, ``"-inf"``
    (JSON has no literal for them); :func:`from_jsonable_float` reverses it.

    Examples
    --------
    >>> import numpy as np
    >>> from ganaug.io import to_jsonable
    >>> to_jsonable({"a": np.float32(1.5), "b": (1, 2), "c": float("nan")})
    {'a': 1.5, 'b': [1, 2], 'c': 'nan'}
    """
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [to_jsonable(v) for v in value.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        if math.isnan(f):
            return "nan"
        if math.isinf(f):
            return "inf" if f > 0 else "-inf"
        return f
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"cannot store a value of type {type(value).__name__} in a model's JSON config: {value!r}")


def from_jsonable_float(value: Any) -> float:
    """Inverse of :func:`to_jsonable` for one float."""
    return float(value) if isinstance(value, str) else float(value)


def save_model_dir(path: str | os.PathLike, config: dict, tensors: dict[str, Any]) -> Path:
    """Write ``config`` (JSON) and ``tensors`` (safetensors) plus a manifest of hashes.

    Parameters
    ----------
    path : str or PathLike
        Directory; created if missing. Existing ganaug files in it are replaced.
    config : dict
        JSON-serialisable (numpy values are converted).
    tensors : dict of str to Tensor or ndarray

    Returns
    -------
    Path of the directory.
    """
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise ValueError(f"cannot save a model to {str(out)!r}: it exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    full_config = {
        "format_version": FORMAT_VERSION,
        "ganaug_version": __version__,
        "torch_version": torch.__version__.split("+")[0],
        **to_jsonable(config),
    }
    with open(out / CONFIG_FILE, "w", encoding="utf-8") as fh:
        json.dump(full_config, fh, indent=2, sort_keys=True, allow_nan=False)
    flat: dict[str, torch.Tensor] = {}
    for name, value in tensors.items():
        t = torch.as_tensor(value) if not isinstance(value, torch.Tensor) else value
        flat[name] = t.detach().cpu().contiguous()
    save_file(flat, str(out / WEIGHTS_FILE), metadata={"format_version": str(FORMAT_VERSION)})
    manifest = {
        "format_version": FORMAT_VERSION,
        "files": {name: _sha256(out / name) for name in (CONFIG_FILE, WEIGHTS_FILE)},
    }
    with open(out / MANIFEST_FILE, "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, indent=2, sort_keys=True)
    return out


def load_model_dir(path: str | os.PathLike) -> tuple[dict, dict[str, torch.Tensor]]:
    """Verify and read a directory written by :func:`save_model_dir`.

    Raises
    ------
    ModelFormatError
        Missing files, a hash mismatch (altered or truncated file), a format
        version newer than this ganaug understands, or unreadable JSON.
    """
    src = Path(path)
    if not src.is_dir():
        raise ModelFormatError(f"no saved model at {str(src)!r}: not a directory")
    missing = [n for n in (CONFIG_FILE, WEIGHTS_FILE, MANIFEST_FILE) if not (src / n).is_file()]
    if missing:
        raise ModelFormatError(f"{str(src)!r} is not a ganaug model directory: missing {', '.join(missing)}")
    try:
        manifest = json.loads((src / MANIFEST_FILE).read_text(encoding="utf-8"))
        version = int(manifest["format_version"])
        hashes = dict(manifest["files"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelFormatError(f"unreadable {MANIFEST_FILE} in {str(src)!r}: {exc}") from None
    if version > FORMAT_VERSION:
        raise ModelFormatError(
            f"model in {str(src)!r} has format version {version}, newer than this ganaug "
            f"({__version__}) reads (up to {FORMAT_VERSION}); upgrade ganaug"
        )
    if version < 1:
        raise ModelFormatError(f"model in {str(src)!r} has invalid format version {version}")
    for name in (CONFIG_FILE, WEIGHTS_FILE):
        expected = hashes.get(name)
        if expected is None:
            raise ModelFormatError(f"{MANIFEST_FILE} in {str(src)!r} has no hash for {name}")
        actual = _sha256(src / name)
        if actual != expected:
            raise ModelFormatError(
                f"{name} in {str(src)!r} was altered or corrupted after saving "
                f"(SHA-256 {actual[:12]}... does not match the manifest's {str(expected)[:12]}...); refusing to load"
            )
    try:
        config = json.loads((src / CONFIG_FILE).read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ModelFormatError(f"unreadable {CONFIG_FILE} in {str(src)!r}: {exc}") from None
    if int(config.get("format_version", -1)) != version:
        raise ModelFormatError(f"{CONFIG_FILE} and {MANIFEST_FILE} in {str(src)!r} disagree on the format version")
    try:
        tensors = load_file(str(src / WEIGHTS_FILE))
    except Exception as exc:  # safetensors raises its own error types
        raise ModelFormatError(f"unreadable {WEIGHTS_FILE} in {str(src)!r}: {exc}") from None
    return config, tensors
