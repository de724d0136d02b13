"""A cache of parsed YAML documents, keyed by the file's content hash, stored as JSON (never pickle).

Parsing is the costly part of loading a rule file; validating and compiling the parsed data take a fraction of it.
So a file that parsed without any problem is stored as its plain data and line marks, under the SHA-256 of its
bytes (and of the reader's limits): the next load of the same content reads JSON instead of YAML. A file with a
problem is never cached, so its problems are always found afresh. The cache is only a shortcut: a missing,
unreadable, corrupt or unwritable cache is ignored and the file is parsed.

The folder is ``$TIERING_CACHE_DIR``, else ``$XDG_CACHE_HOME/tiering/yaml``, else ``~/.cache/tiering/yaml``.
Values JSON has no type for (dates, timestamps, binary, mappings whose keys are not plain text) are written as
one-key objects such as ``{"$date": "2022-01-01"}``; mappings with a text key starting with ``$`` are written as
pairs, so a tag can never be mistaken for data.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

FORMAT = 1
"""Bumped whenever the stored form or the reader's output changes, so old entries are never read."""

Loc = tuple[Any, ...]


def cache_root() -> Path:
    """The tool's cache folder: ``$TIERING_CACHE_DIR``, else ``$XDG_CACHE_HOME/tiering``, else
    ``~/.cache/tiering`` (parsed YAML and cut font subsets are kept under it)."""
    explicit = os.environ.get("TIERING_CACHE_DIR")
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")) / "tiering"


def cache_dir() -> Path:
    """Where cached documents live (see the module docstring)."""
    return cache_root() if os.environ.get("TIERING_CACHE_DIR") else cache_root() / "yaml"


def key_of(raw: bytes, salt: str) -> str:
    """The cache key of a file's bytes; ``salt`` names the reader's limits, which decide what is accepted."""
    return hashlib.sha256(f"{FORMAT}|{salt}|".encode() + raw).hexdigest()


def load(key: str) -> tuple[Any, dict[Loc, int]] | None:
    """The data and line marks stored under ``key``, or None."""
    try:
        stored = json.loads((cache_dir() / f"{key}.json").read_text(encoding="utf-8"), object_hook=_decode)
        return stored["data"], {tuple(loc): line for loc, line in stored["lines"]}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def store(key: str, data: Any, lines: dict[Loc, int]) -> None:
    """Keep ``data`` and ``lines`` under ``key``; written whole or not at all (another process may read it)."""
    folder = cache_dir()
    text = json.dumps({"data": _encode(data), "lines": [[_encode(list(loc)), line] for loc, line in lines.items()]},
                      ensure_ascii=False, allow_nan=True)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, folder / f"{key}.json")
    except OSError:
        return


def _encode(value: Any) -> Any:
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in value):
            return {k: _encode(v) for k, v in value.items()}
        return {"$map": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode("ascii")}
    return value


def _decode(obj: dict[str, Any]) -> Any:
    if len(obj) != 1:
        return obj
    ((tag, value),) = obj.items()
    if tag == "$map":
        return {k: v for k, v in value}
    if tag == "$date":
        return dt.date.fromisoformat(value)
    if tag == "$datetime":
        return dt.datetime.fromisoformat(value)
    if tag == "$bytes":
        return base64.b64decode(value)
    return obj
