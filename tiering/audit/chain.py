"""The hash chain: canonical record bodies, record hashes, and content hashes of what a record points to."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

GENESIS = "0" * 64
"""The ``prev_hash`` of the first record of a store."""

FORMAT = 1
"""Version of the record layout and hashing rules; every record states it, so a later layout can still verify."""


def canonical(body: dict[str, Any]) -> str:
    """The one text form of a record body that is stored and hashed (sorted keys, no spacing choices)."""
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def record_hash(prev_hash: str, body_text: str) -> str:
    """A record's hash: it covers the previous record's hash, so changing any record breaks every later link."""
    return hashlib.sha256(f"{prev_hash}\n{body_text}".encode()).hexdigest()


def trace_sha256(path: Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of a stored trace: the bytes of its part files in order (of the file itself, for a trace stored
    as one file), read in chunks (traces can be large)."""
    from tiering.output.trace_file import trace_parts  # Arrow: only where a trace is hashed, not for explain

    h = hashlib.sha256()
    for part in trace_parts(path):
        with part.open("rb") as f:
            while block := f.read(chunk):
                h.update(block)
    return h.hexdigest()


def rows_sha256(rows: Sequence[Sequence[Any]]) -> str:
    """SHA-256 of table rows as JSON (NaN must already be None); the same rows read back from SQLite hash the same.

    JSON is written by C code and prints floats by their shortest round-trip form, so a million rows hash in a
    fraction of a second and a REAL stored in SQLite reads back to the same text.
    """
    hasher = RowsHasher()
    hasher.add(rows)
    return hasher.hexdigest()


class RowsHasher:
    """:func:`rows_sha256` of rows given a batch at a time (a partitioned run's parts, a cursor's pages): the
    rows are hashed as JSON arrays of ``chunk`` rows each, whatever the batches, so the digest is that of all
    the rows at once while only one chunk is held."""

    def __init__(self, chunk: int = 100_000) -> None:
        self._hash = hashlib.sha256()
        self._chunk = chunk
        self._waiting: list[Sequence[Any]] = []
        self.rows = 0
        """Rows added so far."""

    def add(self, rows: Sequence[Sequence[Any]]) -> None:
        """Hash ``rows`` after the rows added before."""
        self.rows += len(rows)
        start = 0
        while start < len(rows):
            take = self._chunk - len(self._waiting)
            self._waiting.extend(rows[start:start + take])
            start += take
            if len(self._waiting) == self._chunk:
                self._flush()

    def hexdigest(self) -> str:
        """The digest of every row added."""
        if self._waiting:
            self._flush()
        return self._hash.hexdigest()

    def _flush(self) -> None:
        self._hash.update(json.dumps(self._waiting, ensure_ascii=False, separators=(",", ":")).encode())
        self._waiting = []
