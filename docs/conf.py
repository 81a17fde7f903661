"""Sphinx configuration of the lagnest documentation (`make docs` builds docs/_build/html).

Pages are Markdown (MyST); the API reference comes from the numpydoc docstrings through
autodoc and autosummary. The build runs with warnings as errors (`sphinx -W`), so a page
left out of every toctree, a broken cross-reference or a malformed docstring fails it.
"""

from __future__ import annotations

from importlib.metadata import version as _version

project = "lagnest"
author = "the lagnest authors"
copyright = "the lagnest authors (MIT licence)"
release = _version("lagnest")
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}  # .rst: autosummary
root_doc = "index"
exclude_patterns = ["_build", "**/.ipynb_checkpoints"]
templates_path = ["_templates"]

# --- MyST: $...$ and $$...$$ maths (docs/agreement.md, docs/classical.md), ::: fences,
# heading anchors for links such as [x](classical.md#adjusted-residuals).
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# --- API reference
autosummary_generate = True
autodoc_typehints = "none"  # numpydoc sections carry the types
autodoc_member_order = "bysource"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks: set[str] = set()  # ruff's pydocstyle (numpy) checks them

html_theme = "furo"
html_title = f"lagnest {release}"
html_static_path: list[str] = []
