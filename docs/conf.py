"""Sphinx configuration: MyST Markdown pages, the API reference from docstrings.

Build (warnings are errors in CI)::

    python -m pip install -e ".[docs]"
    python -m sphinx -W --keep-going -b html docs docs/_build/html
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(HERE.parent))

import pycfile  # noqa: E402

project = "pycfile"
author = "pycfile developers"
copyright = "pycfile developers"
release = pycfile.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "pycfile_api",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = False
autodoc_type_aliases = {"Value": "pycfile.Value"}
autodoc_class_signature = "mixed"
add_module_names = False

pygments_style = "sphinx"
html_theme = "alabaster"
html_title = f"pycfile {release}"
html_static_path: list = []
