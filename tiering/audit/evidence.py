"""Evidence files attached to overrides and list decisions: stored once by SHA-256 beside the audit store.

An uploaded file is checked before it is kept — at most ``MAX_BYTES``, and its first bytes must be those of a
type in ``TYPES`` (the name's extension must agree) — then written as ``<store>.evidence/<sha256>``. The record
that cites it holds the hash, so ``audit verify`` notices a replaced or missing file, and a download names a file
only by a 64-hex-digit hash: no request can reach a path outside that folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tiering.audit.blobs import blob_problem, is_sha256, save_blob
from tiering.errors import TieringError

MAX_BYTES = 10 * 1024 * 1024
"""Largest evidence file accepted (10 MiB): letters, scans and certificates, not data dumps."""

TYPES: dict[str, tuple[tuple[str, ...], bytes, str]] = {
    "pdf": ((".pdf",), b"%PDF-", "application/pdf"),
    "png": ((".png",), b"\x89PNG\r\n\x1a\n", "image/png"),
    "jpeg": ((".jpg", ".jpeg"), b"\xff\xd8\xff", "image/jpeg"),
    "xlsx": ((".xlsx",), b"PK\x03\x04", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "docx": ((".docx",), b"PK\x03\x04", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
}
"""Accepted kinds: extensions, the bytes a file of the kind starts with, and the type it is served as."""



class EvidenceRefused(TieringError, ValueError, error_id="evidence-refused"):
    """An uploaded file that is not kept: too large, empty, or not of an accepted type."""


def evidence_dir(store: Path) -> Path:
    """The folder beside the database that holds evidence files by hash."""
    return store.parent / f"{store.stem}.evidence"


def kind_of(name: str, data: bytes) -> str:
    """The accepted kind of a file, judged by its extension and its first bytes together."""
    suffix = Path(name).suffix.lower()
    for kind, (suffixes, magic, _) in TYPES.items():
        if suffix in suffixes and data.startswith(magic):
            return kind
    accepted = "、".join(s for suffixes, _, _ in TYPES.values() for s in suffixes)
    raise EvidenceRefused(f"证据文件 {name} 的类型不被接受（内容与扩展名须一致，可接受：{accepted}）"
                          f" evidence type refused")


def save_evidence(store: Path, name: str, data: bytes) -> dict[str, Any]:
    """Check and keep one evidence file; return what the record cites: hash, original name, size and kind."""
    if not data:
        raise EvidenceRefused(f"证据文件 {name} 为空 evidence file is empty")
    if len(data) > MAX_BYTES:
        raise EvidenceRefused(f"证据文件 {name} 大小 {len(data) / 1048576:.1f} MiB 超过上限 "
                              f"{MAX_BYTES // 1048576} MiB evidence file too large")
    kind = kind_of(name, data)
    digest = save_blob(evidence_dir(store), data, ".upload-")
    return {"sha256": digest, "name": Path(name).name, "size": len(data), "type": kind}


def evidence_file(store: Path, digest: str) -> Path:
    """The stored file of ``digest``; ValueError unless ``digest`` is exactly a SHA-256 in hex, FileNotFoundError
    when no such file is kept. Nothing else reaches the disk, so a crafted name cannot leave the folder."""
    if not is_sha256(digest):
        raise ValueError(f"not an evidence hash: {digest[:80]!r}")
    path = evidence_dir(store) / digest
    if not path.is_file():
        raise FileNotFoundError(f"no evidence file {digest}")
    return path


def check_attachment(store: Path, body: dict[str, Any]) -> str | None:
    """What is wrong with the evidence file a record cites (missing or changed), or None (also when it cites none)."""
    cited = body.get("evidence_file")
    if not cited:
        return None
    try:
        path = evidence_file(store, cited["sha256"])
    except (ValueError, FileNotFoundError):
        return f"the evidence file {cited.get('name')} ({str(cited.get('sha256'))[:12]}…) is missing"
    if blob_problem(path, cited["sha256"]) == "changed":
        return f"the evidence file {cited.get('name')} ({cited['sha256'][:12]}…) was changed"
    return None
