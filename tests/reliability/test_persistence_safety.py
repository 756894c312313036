"""Saved models: altered, newer-format or pickled files are refused; a planted pickle is never executed."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import pandas as pd
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from ganaug._version import FORMAT_VERSION
from ganaug.augment.base import BaseAugmenter
from ganaug.augment.tabular import TabularAugmenter
from ganaug.exceptions import ModelFormatError
from ganaug.io import CONFIG_FILE, MANIFEST_FILE, WEIGHTS_FILE, _sha256
from tests.reliability._fuzz import TINY_TAB, fuzz_settings


class _Exploit:
    """Unpickling this writes a marker file: proof of code execution if it ever exists."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('pwned')",))


@pytest.fixture(scope="module")
def saved(tmp_path_factory, shared_data):
    df = pd.read_csv(shared_data / "tabular" / "HMDA.csv").iloc[:300]
    y = df.pop("deny")
    aug = TabularAugmenter(**TINY_TAB).fit(df, y)
    path = tmp_path_factory.mktemp("model") / "m"
    aug.save(path)
    return path, aug.sample(20, random_state=1)


def _copy(saved, tmp_path) -> Path:
    dst = tmp_path / "copy"
    shutil.copytree(saved[0], dst)
    return dst


def _rehash(path: Path) -> None:
    """Rewrite the manifest so the hashes match (what a careless tool or a forger would do)."""
    manifest = json.loads((path / MANIFEST_FILE).read_text())
    manifest["files"] = {n: _sha256(path / n) for n in (CONFIG_FILE, WEIGHTS_FILE)}
    (path / MANIFEST_FILE).write_text(json.dumps(manifest))


def test_intact_copy_loads_and_samples_alike(saved, tmp_path):
    X_ref, y_ref = saved[1]
    X, y = BaseAugmenter.load(_copy(saved, tmp_path)).sample(20, random_state=1)
    pd.testing.assert_frame_equal(X, X_ref)
    pd.testing.assert_series_equal(y, y_ref)


@pytest.mark.parametrize("name", [CONFIG_FILE, WEIGHTS_FILE])
def test_one_changed_byte_is_refused_naming_the_file(saved, tmp_path, name):
    path = _copy(saved, tmp_path)
    data = bytearray((path / name).read_bytes())
    data[len(data) // 2] ^= 0x01
    (path / name).write_bytes(bytes(data))
    with pytest.raises(ModelFormatError, match=f"{name}.*altered or corrupted"):
        BaseAugmenter.load(path)


def test_edited_parameter_is_refused(saved, tmp_path):
    path = _copy(saved, tmp_path)
    config = json.loads((path / CONFIG_FILE).read_text())
    config["params"]["epochs"] = 999
    (path / CONFIG_FILE).write_text(json.dumps(config))
    with pytest.raises(ModelFormatError, match="config.json.*altered"):
        BaseAugmenter.load(path)


def test_newer_format_version_is_refused(saved, tmp_path):
    path = _copy(saved, tmp_path)
    for name in (CONFIG_FILE, MANIFEST_FILE):
        doc = json.loads((path / name).read_text())
        doc["format_version"] = FORMAT_VERSION + 1
        (path / name).write_text(json.dumps(doc))
    _rehash(path)
    with pytest.raises(ModelFormatError, match=f"format version {FORMAT_VERSION + 1}, newer"):
        BaseAugmenter.load(path)


def test_planted_pickle_next_to_the_model_is_never_opened(saved, tmp_path):
    path = _copy(saved, tmp_path)
    marker = tmp_path / "PWNED"
    for name in ("model.pkl", "state.pickle", "weights.pt", "checkpoint.ckpt"):
        (path / name).write_bytes(pickle.dumps(_Exploit(marker)))
    BaseAugmenter.load(path).sample(5, random_state=0)
    assert not marker.exists(), "a pickle planted in the model directory was executed"


def test_weights_replaced_by_a_pickle_is_refused_and_not_executed(saved, tmp_path):
    path = _copy(saved, tmp_path)
    marker = tmp_path / "PWNED"
    torch.save({"state": _Exploit(marker)}, path / WEIGHTS_FILE)  # a torch pickle under the safetensors name
    _rehash(path)  # even with matching hashes
    with pytest.raises(ModelFormatError, match="unreadable weights.safetensors"):
        BaseAugmenter.load(path)
    assert not marker.exists(), "the pickled weights were executed"


@pytest.mark.parametrize("cls", ["builtins.exec", "os.system", "subprocess.Popen", "ganaug.io.save_model_dir",
                                 "ganaug.nonexistent.Evil"])
def test_config_cannot_name_an_arbitrary_class(saved, tmp_path, cls):
    path = _copy(saved, tmp_path)
    config = json.loads((path / CONFIG_FILE).read_text())
    config["class"] = cls
    (path / CONFIG_FILE).write_text(json.dumps(config))
    _rehash(path)
    with pytest.raises(ModelFormatError, match="unknown class"):
        BaseAugmenter.load(path)


def test_resume_checkpoint_that_is_a_malicious_pickle_is_not_executed(tmp_path, shared_data):
    """Lightning checkpoints are pickles: resumable_trainer reads them with weights_only=True."""
    from ganaug.core.checkpoint import resumable_trainer

    df = pd.read_csv(shared_data / "tabular" / "HMDA.csv").iloc[:200]
    y = df.pop("deny")
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    marker = tmp_path / "PWNED"
    torch.save({"state_dict": _Exploit(marker)}, ckpt / "last.ckpt")
    aug = TabularAugmenter(**{**TINY_TAB, "trainer": resumable_trainer(ckpt, enable_progress_bar=False)})
    with pytest.raises(Exception, match="(?i)weights.only|unpickl|unsupported global"):
        aug.fit(df, y)
    assert not marker.exists(), "a malicious checkpoint was executed"


_FILES = [CONFIG_FILE, WEIGHTS_FILE, MANIFEST_FILE]


@fuzz_settings(25)
@given(st.sampled_from(_FILES), st.sampled_from(["flip", "truncate", "delete", "garbage", "empty", "json"]),
       st.integers(0, 2**31), st.binary(max_size=64),
       st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3),
                    max_leaves=6))
def test_load_of_a_damaged_directory(saved, tmp_path_factory, name, how, pos, junk, doc):
    """Any damage: load refuses with ModelFormatError (a ValueError) or, if nothing that matters changed, works."""
    path = tmp_path_factory.mktemp("d") / "m"
    shutil.copytree(saved[0], path)
    target = path / name
    data = target.read_bytes()
    if how == "flip":
        i = pos % len(data)
        data = data[:i] + bytes([data[i] ^ (1 + pos % 255)]) + data[i + 1:]
    elif how == "truncate":
        data = data[: pos % len(data)]
    elif how == "garbage":
        data = junk
    elif how == "empty":
        data = b""
    elif how == "json":
        data = json.dumps(doc).encode()
    if how == "delete":
        target.unlink()
    else:
        target.write_bytes(data)
    try:
        aug = BaseAugmenter.load(path)
    except ModelFormatError as exc:
        assert str(path) in str(exc) or name in str(exc), f"error does not say where: {exc}"
        return
    X, _ = aug.sample(20, random_state=1)  # loaded: must be the very same model
    pd.testing.assert_frame_equal(X, saved[1][0])


def test_no_torch_load_without_weights_only_in_the_package():
    """Static guard: every torch.load in ganaug passes weights_only=True; nothing imports pickle to load."""
    root = Path(__file__).resolve().parents[2] / "ganaug"
    offenders = []
    for py in root.rglob("*.py"):
        text = py.read_text(encoding="utf-8")
        for lineno, line in enumerate(text.splitlines(), 1):
            if "torch.load(" in line and "weights_only=True" not in line and not line.lstrip().startswith("#"):
                offenders.append(f"{py.relative_to(root)}:{lineno}")
            if any(bad in line for bad in ("pickle.load", "joblib.load", "cloudpickle", "dill.load")):
                offenders.append(f"{py.relative_to(root)}:{lineno}")
    assert not offenders, f"unsafe deserialisation in {offenders}"
