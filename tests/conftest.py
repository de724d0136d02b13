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
