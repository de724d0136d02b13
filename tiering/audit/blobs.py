"""Files kept beside the audit store by their SHA-256 (evidence uploads, a select run's brief inputs): written once,
atomically, under their hash, so a record can cite a file and `audit verify` can tell it missing or changed."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Literal

_HASH = re.compile(r"[0-9a-f]{64}")


def is_sha256(text: str) -> bool:
    """Whether ``text`` is exactly a SHA-256 in lower-case hex (so it can name a file without leaving its folder)."""
    return _HASH.fullmatch(text) is not None


def save_blob(folder: Path, data: bytes, prefix: str) -> str:
    """Keep ``data`` in ``folder`` under its SHA-256 (once: a file of that name already holds these bytes) and
    return the hash; written to a temporary file named ``prefix…`` and renamed, so no half-written file is seen."""
    digest = hashlib.sha256(data).hexdigest()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / digest
    if not target.exists():
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=prefix)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    return digest


def blob_problem(path: Path, digest: str) -> Literal["missing", "changed"] | None:
    """What is wrong with the file a record cites by ``digest``: absent, or its bytes no longer hash to it."""
    if not path.is_file():
        return "missing"
    return "changed" if hashlib.sha256(path.read_bytes()).hexdigest() != digest else None
