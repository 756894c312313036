"""Sphinx configuration: API reference from numpy-style docstrings, user guides from Markdown.

Why Sphinx + numpydoc: our docstrings follow numpydoc (as scikit-learn,
imbalanced-learn and pyod do), Sphinx renders that style natively, and
``-W`` turns every broken reference into a build error. The guides stay
Markdown (read on GitHub as they are) through MyST.

Build with ``make docs`` (HTML in ``docs/_build/html``).
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("GANAUG_PROGRESS", "0")

import ganaug  # noqa: E402

project = "ganaug"
author = "ganaug developers"
release = ganaug.__version__
version = ".".join(release.split(".")[:2])

extensions = ["sphinx.ext.autodoc", "numpydoc", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "api_generated"]
copyright = "ganaug developers, BSD-3-Clause"
root_doc = "index"
# The theme of scikit-learn, imbalanced-learn and pandas: a top bar with the
# sections (Getting started, User guide, Examples, API reference, Changelog),
# the section's pages on the left, the page's headings on the right.
html_theme = "pydata_sphinx_theme"
html_title = f"ganaug {release}"
html_static_path: list[str] = []
html_theme_options = {
    "navbar_align": "left",
    "header_links_before_dropdown": 6,
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "show_prev_next": True,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
html_sidebars = {"index": [], "getting_started": [], "api": [], "changelog": []}  # one-page sections: no left column

autodoc_typehints = "none"  # numpydoc sections carry the types
autodoc_member_order = "bysource"
autodoc_inherit_docstrings = False  # Lightning's and sklearn's docstrings use their own Sphinx roles
numpydoc_show_class_members = False
numpydoc_validation_checks: set[str] = set()
myst_heading_anchors = 3
# The guides link to files in the repository (pipelines/, tests/); those are not doc pages.
suppress_warnings = ["myst.xref_missing", "myst.header", "misc.highlighting_failure"]

# --------------------------------------------------------------------------
# api.rst is generated from ganaug._EXPORTS, so a public name cannot be
# added without appearing (and its docstring being built) in the reference.
SECTIONS = [
    ("Augmenters", ("ganaug.augment",)),
    ("Datasets for training loops", ("ganaug.data",)),
    ("Anomaly detection", ("ganaug.anomaly",)),
    ("Object detection", ("ganaug.detection",)),
    ("Evaluation", ("ganaug.evaluate", "ganaug.metrics")),
    ("Privacy", ("ganaug.privacy",)),
    ("Models", ("ganaug.tabular", "ganaug.image", "ganaug.timeseries")),
    ("Core GAN toolbox", ("ganaug.core",)),
    ("Errors", ("ganaug.exceptions",)),
]


def _own_members(cls: type) -> list[str]:
    """Public, documented members defined by ganaug classes in ``cls``'s MRO (not Lightning's or sklearn's)."""
    names: list[str] = []
    for klass in cls.__mro__:
        if not klass.__module__.startswith("ganaug"):
            continue
        for member, value in vars(klass).items():
            if member.startswith("_") or member in names:
                continue
            doc = getattr(value, "__doc__", None) if not isinstance(value, (classmethod, staticmethod)) else value.__func__.__doc__
            if callable(value) or isinstance(value, (property, classmethod, staticmethod)):
                if doc:
                    names.append(member)
    return names


def _defining_path(name: str, module: str) -> tuple[str, str]:
    obj = getattr(importlib.import_module(module), name)
    if inspect.isclass(obj):
        return f"{obj.__module__}.{obj.__qualname__}", "autoclass:" + ", ".join(_own_members(obj))
    return f"{obj.__module__}.{obj.__qualname__}", "autofunction"


def _write_api() -> None:
    entries: dict[str, list[tuple[str, str]]] = {title: [] for title, _ in SECTIONS}
    for name, module in sorted(ganaug._EXPORTS.items()):
        if name == "load":  # ganaug.load is BaseAugmenter.load, documented with the class
            continue
        title = next((t for t, prefixes in SECTIONS if module.startswith(prefixes)), "Other")
        entries.setdefault(title, []).append(_defining_path(name, module))
    lines = ["API reference", "=============", "",
             "Every public name of ``ganaug`` (``from ganaug import ...``), grouped by use.", ""]
    for title, items in entries.items():
        if not items:
            continue
        lines += [title, "-" * len(title), ""]
        for path, kind in sorted(set(items)):
            kind, _, members = kind.partition(":")
            lines.append(f".. {kind}:: {path}")
            if members:
                lines.append(f"   :members: {members}")
            lines.append("")
    lines += ["Core toolbox (``ganaug.core``)", "------------------------------", "",
              ".. automodule:: ganaug.core", "   :members:",
              "   :exclude-members: GANModule, available_losses, get_loss", "",
              "Bundled datasets (``ganaug.datasets``)", "--------------------------------------", "",
              ".. automodule:: ganaug.datasets", "   :members:", "",
              "Model files (``ganaug.io``)", "---------------------------", "",
              ".. automodule:: ganaug.io", "   :members:", ""]
    text = "\n".join(lines)
    target = HERE / "api.rst"
    if not target.exists() or target.read_text() != text:
        target.write_text(text)


_write_api()
