"""Where event lines come from: a file, a folder that receives new files, or standard input.

Each line is yielded with its source key and the byte offset just after it, so the monitor can store how far it
has read and resume there. ``None`` is yielded when a followed source has nothing new (time to flush a batch).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

MAX_LINE_BYTES = 65536
"""Longest event line accepted. A longer line is read in bounded memory and sent to the dead letter with its first
``MAX_LINE_BYTES`` bytes, so no line, however large, can exhaust memory or stop the stream."""


@dataclass(frozen=True)
class Line:
    """One line read: its source, the offset after it, the text, and when it was read (for latency).

    ``truncated`` marks a line longer than :data:`MAX_LINE_BYTES`: ``text`` holds its beginning, ``size`` its
    length in bytes."""

    source: str
    offset: int
    text: str
    read_at: float
    truncated: bool = False
    size: int = 0


def _file_lines(path: Path, start: int, follow: bool) -> Iterator[Line | None]:
    with path.open("rb") as fh:
        fh.seek(start)
        yield from _bounded_lines(fh, str(path.resolve()), follow)


def _bounded_lines(fh: BinaryIO, key: str, follow: bool) -> Iterator[Line | None]:
    """Lines of a binary stream, each held in at most ``MAX_LINE_BYTES`` (+1) bytes of memory."""
    seekable = fh.seekable()
    pending = b""
    size = 0
    while True:
        chunk = fh.readline(MAX_LINE_BYTES + 1)
        if not chunk:
            if not follow:
                if size:  # a last line without its newline
                    yield _line(key, fh.tell() if seekable else 0, pending, size)
                return
            yield None
            continue
        size += len(chunk)
        if len(pending) <= MAX_LINE_BYTES:
            pending += chunk[: MAX_LINE_BYTES + 1 - len(pending)]
        if not chunk.endswith(b"\n"):
            continue  # the rest of a long line, or a line still being written (its offset is stored when whole)
        yield _line(key, fh.tell() if seekable else 0, pending, size)
        pending, size = b"", 0


def _line(key: str, offset: int, raw: bytes, size: int) -> Line:
    truncated = size > MAX_LINE_BYTES + 2  # the limit, plus a CRLF ending
    text = raw[:MAX_LINE_BYTES].decode("utf-8", errors="replace").rstrip("\r\n")
    return Line(key, offset, text, time.monotonic(), truncated, size)


def read_path(path: Path, positions: dict[str, int], follow: bool = False, poll: float = 1.0) -> Iterator[Line | None]:
    """Lines of a file, or of every ``*.jsonl`` file of a folder in name order (then new files as they arrive)."""
    if path.is_file():
        yield from _follow_file(path, positions, follow, poll)
        return
    done: set[Path] = set()
    while True:
        fresh = sorted(p for p in path.glob("*.jsonl") if p not in done)
        for p in fresh:
            yield from _file_lines(p, positions.get(str(p.resolve()), 0), follow=False)
            done.add(p)
        if not follow:
            return
        yield None
        time.sleep(poll)


def lines_ahead(path: Path, positions: dict[str, int]) -> int:
    """How many lines ``read_path(path, positions)`` without following will yield (for a progress count)."""
    files = [path] if path.is_file() else sorted(path.glob("*.jsonl"))
    count = 0
    for p in files:
        with p.open("rb") as handle:
            handle.seek(positions.get(str(p.resolve()), 0))
            data = handle.read()
        count += data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
    return count


def _follow_file(path: Path, positions: dict[str, int], follow: bool, poll: float) -> Iterator[Line | None]:
    for item in _file_lines(path, positions.get(str(path.resolve()), 0), follow):
        yield item
        if item is None:
            time.sleep(poll)


def read_stdin() -> Iterator[Line | None]:
    """Lines of standard input (no position is kept: a re-sent event is recognised by its event_id)."""
    for line in _bounded_lines(sys.stdin.buffer, "<stdin>", follow=False):
        if line is not None:
            yield line
