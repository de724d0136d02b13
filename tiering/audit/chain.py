"""The hash chain: canonical record bodies, record hashes, and content hashes of what a record points to."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

GENESIS = "0" * 64
"""The ``prev_hash`` of the first record of a store."""

FORMAT = 1
"""Version of the record layout and hashing rules; every record states it, so a later layout can still verify."""


ROW_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
"""How table rows, and each value of them, are written as JSON to be hashed (:func:`rows_sha256`)."""


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
    the rows at once. The arrays are fed to the hash as they are written, so nothing is held between batches;
    rows come as Python rows (:meth:`add`) or already written as JSON, one text per row (:meth:`add_json`)."""

    def __init__(self, chunk: int = 100_000) -> None:
        self._hash = hashlib.sha256()
        self._chunk = chunk
        self._open = 0
        """Rows of the array being hashed (its ``[`` and those rows are hashed, its ``]`` not yet)."""
        self.rows = 0
        """Rows added so far."""

    def add(self, rows: Sequence[Sequence[Any]]) -> None:
        """Hash ``rows`` after the rows added before."""
        for start, stop in self._slices(len(rows)):
            self._feed(ROW_JSON.encode(rows[start:stop])[1:-1].encode(), stop - start)

    def add_json(self, rows: pa.StringArray) -> None:
        """Hash rows given as their JSON texts (each what :data:`ROW_JSON` writes of the row) after the rows added
        before: joined by Arrow, never as Python strings."""
        import pyarrow as pa
        import pyarrow.compute as pc

        for start, stop in self._slices(len(rows)):
            one = pa.ListArray.from_arrays(pa.array([0, stop - start], pa.int32()), rows.slice(start, stop - start))
            self._feed(pc.binary_join(one, ",")[0].as_buffer(), stop - start)

    def hexdigest(self) -> str:
        """The digest of every row added."""
        if self._open:
            self._hash.update(b"]")
            self._open = 0
        return self._hash.hexdigest()

    def _slices(self, n: int) -> Iterator[tuple[int, int]]:
        """``range(n)`` cut where the arrays of ``chunk`` rows end."""
        start = 0
        while start < n:
            stop = min(n, start + self._chunk - self._open)
            yield start, stop
            start = stop

    def _feed(self, joined: bytes | pa.Buffer, n: int) -> None:
        """Hash ``n`` rows written as JSON and joined by commas, the next rows of the array being hashed."""
        self._hash.update(b"," if self._open else b"[")
        self._hash.update(joined)
        self._open += n
        self.rows += n
        if self._open == self._chunk:
            self._hash.update(b"]")
            self._open = 0
