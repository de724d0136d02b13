"""The hash chain: canonical record bodies, record hashes, and content hashes of what a record points to."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

GENESIS = "0" * 64
"""The ``prev_hash`` of the first record of a store."""


def canonical(body: dict[str, Any]) -> str:
    """The one text form of a record body that is stored and hashed (sorted keys, no spacing choices)."""
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def record_hash(prev_hash: str, body_text: str) -> str:
    """A record's hash: it covers the previous record's hash, so changing any record breaks every later link."""
    return hashlib.sha256(f"{prev_hash}\n{body_text}".encode()).hexdigest()


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes, read in chunks (trace files can be large)."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _cell(x: Any) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    if isinstance(x, float):
        return repr(x)
    return str(x)


def rows_sha256(rows: Iterable[Sequence[Any]]) -> str:
    """SHA-256 of table rows in a fixed text form; the same rows read back from SQLite give the same hash."""
    h = hashlib.sha256()
    for row in rows:
        h.update(("\x1f".join(_cell(x) for x in row) + "\n").encode())
    return h.hexdigest()
