"""The CJK font that charts and HTML pages use, shipped by a pip package so a fresh machine renders Chinese.

The font is Noto Sans CJK SC from the ``mplfonts`` package (a declared dependency). Charts draw with it through
matplotlib; HTML pages embed a subset of it (only the characters on the page) as a base64 ``@font-face``, so a
browser without any Chinese font still shows the text.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import io
import os
import tempfile
from functools import cache
from pathlib import Path

from tiering.errors import TieringError
from tiering.rules.cache import cache_root

FONT_FAMILY = "Noto Sans CJK SC"
FONT_FILE = "NotoSansCJKsc-Regular.otf"
CSS_FAMILY = "TieringCJK"


class FontMissingError(TieringError, RuntimeError, error_id="font-missing"):
    """The bundled CJK font is not installed."""


@cache
def cjk_font_path() -> Path:
    """Path of the bundled Noto Sans CJK SC font file (located without importing ``mplfonts``)."""
    spec = importlib.util.find_spec("mplfonts")
    if spec is not None and spec.submodule_search_locations:
        path = Path(next(iter(spec.submodule_search_locations))) / "fonts" / FONT_FILE
        if path.is_file():
            return path
    raise FontMissingError(f"the Chinese chart font {FONT_FILE} was not found; install the project's dependencies "
                           "(pip install -e .), which bring the 'mplfonts' package that ships it")


SUBSET_FORMAT = 1
"""Bumped whenever the subsetting options change, so subsets cut with other options are never reused."""


def _glyph_text(text: str) -> str:
    return "".join(sorted(set(text) | {chr(c) for c in range(0x20, 0x7F)}))


def subset_font_bytes(font_bytes: bytes, text: str) -> bytes:
    """The font reduced to the characters of ``text`` plus printable ASCII."""
    from fontTools import subset  # fontTools comes with matplotlib

    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    font = subset.load_font(io.BytesIO(font_bytes), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=_glyph_text(text))
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.save(buffer)
    return buffer.getvalue()


def font_cache_dir() -> Path:
    """Where cut subsets are kept: ``fonts`` in the tool's cache folder (:func:`tiering.rules.cache.cache_root`)."""
    return cache_root() / "fonts"


def cached_subset(text: str) -> bytes:
    """:func:`subset_font_bytes` of the bundled font for ``text``, kept in :func:`font_cache_dir` under the hash
    of the font's bytes and of the glyph set: cutting a subset of the 16 MB font takes about a second, and the
    same report run again (or another with the same characters) reads the subset instead. The cache is only a
    shortcut: an unreadable or unwritable cache is ignored and the subset is cut."""
    font_bytes = cjk_font_path().read_bytes()
    digest = hashlib.sha256(font_bytes)
    digest.update(f"|{SUBSET_FORMAT}|{_glyph_text(text)}".encode())
    path = font_cache_dir() / f"{digest.hexdigest()}.otf"
    try:
        return path.read_bytes()
    except OSError:
        pass
    subset_bytes = subset_font_bytes(font_bytes, text)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            out.write(subset_bytes)
        os.replace(tmp, path)  # whole or not at all: another report may be reading it
    except OSError:
        pass
    return subset_bytes


def _css(font_bytes: bytes) -> str:
    data = base64.b64encode(font_bytes).decode("ascii")
    return (f"@font-face {{ font-family: '{CSS_FAMILY}'; "
            f"src: url(data:font/otf;base64,{data}) format('opentype'); }}")


class PageFont:
    """One font subset for a whole report: the 16 MB font is parsed and reduced to ``corpus``'s characters once,
    and every page of the report embeds that same subset. Cutting a subset per page cost over a second a page
    (CFF subroutine pruning); the shared subset costs a little size instead."""

    def __init__(self, corpus: str) -> None:
        self._css = _css(cached_subset(corpus))

    def css(self) -> str:
        """The ``@font-face`` rule embedding the report's subset."""
        return self._css


def subset_font_css(text: str) -> str:
    """A CSS ``@font-face`` rule embedding the font reduced to the characters of ``text`` (plus ASCII)."""
    return _css(cached_subset(text))
