"""Shared fixtures: paths resolved from this file, never from the working directory."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def pytest_configure(config: pytest.Config) -> None:
    """Parsed rule files go to a throw-away cache, never the user's (set before modules that load rules at import)."""
    os.environ["TIERING_CACHE_DIR"] = tempfile.mkdtemp(prefix="tiering-test-cache-")


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture
def sample_register() -> Path:
    return ROOT / "datasets" / "sample_register.xlsx"


@pytest.fixture(autouse=True, scope="session")
def _audit_store_in_tmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Runs recorded by tests (module fixtures included) go to a throw-away store, never to the working tree's out/."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TIERING_AUDIT_STORE", str(tmp_path_factory.mktemp("audit") / "audit.sqlite"))
        yield


@pytest.fixture(autouse=True)
def _empty_working_directory(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test runs in an empty folder of its own: commands' default outputs (out/select-2025, …) left by an
    earlier run or test cannot change what a command does (an existing output folder is refused)."""
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
