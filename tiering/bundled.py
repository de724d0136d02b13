"""Where the data shipped with tiering lives: rule sets, selection policies, plans, model cards, sample registers.

The repository's top-level ``rules/``, ``models/`` and ``datasets/`` are the source of truth. In a checkout,
``tiering/_data/<name>`` are links to them; a built wheel carries copies of them as package data (the file list is
``[tool.setuptools.package-data]`` in pyproject.toml). So one path serves an editable checkout and an installed
wheel alike, and nothing is looked up relative to the working directory.
"""

from __future__ import annotations

from pathlib import Path

_DATA = Path(__file__).resolve().parent / "_data"


def bundled(*parts: str) -> Path:
    """The shipped file or folder ``parts`` (e.g. ``bundled("rules", "plans")``), with links resolved."""
    return _DATA.joinpath(*parts).resolve()
