"""Shared fixtures: paths resolved from this file, never from the working directory."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture
def sample_register() -> Path:
    return ROOT / "datasets" / "sample_register.xlsx"


@pytest.fixture(autouse=True)
def _audit_store_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs recorded by tests go to a throw-away audit store, never to the working tree's out/."""
    monkeypatch.setenv("TIERING_AUDIT_STORE", str(tmp_path / "audit.sqlite"))
