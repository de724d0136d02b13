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


@dataclass(frozen=True)
class Line:
    """One line read: its source, the offset after it, the text, and when it was read (for latency)."""

    source: str
    offset: int
    text: str
    read_at: float


def _file_lines(path: Path, start: int, follow: bool) -> Iterator[Line | None]:
    key = str(path.resolve())
    with path.open("rb") as fh:
        fh.seek(start)
        pending = b""
        while True:
            chunk = fh.readline()
            if not chunk:
                if not follow:
                    return
                yield None
                continue
            pending += chunk
            if follow and not pending.endswith(b"\n"):
                continue  # a line still being written: its offset is stored only once it is complete
            yield Line(key, fh.tell(), pending.decode("utf-8", errors="replace").rstrip("\r\n"), time.monotonic())
            pending = b""


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


def _follow_file(path: Path, positions: dict[str, int], follow: bool, poll: float) -> Iterator[Line | None]:
    for item in _file_lines(path, positions.get(str(path.resolve()), 0), follow):
        yield item
        if item is None:
            time.sleep(poll)


def read_stdin() -> Iterator[Line | None]:
    """Lines of standard input (no position is kept: a re-sent event is recognised by its event_id)."""
    for raw in sys.stdin:
        yield Line("<stdin>", 0, raw.rstrip("\r\n"), time.monotonic())
