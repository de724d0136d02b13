"""The parsed-document cache: the same data and lines as parsing, JSON on disk, never trusted for a bad file."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from tiering.rules import cache
from tiering.rules.library import load_library
from tiering.rules.yamlsrc import parse_yaml, read_yaml

TRICKY = """when: 2022-01-01
stamp: 2022-01-01 08:30:00
history: {1: {revenue: 10}, 2: {revenue: 20}}
odd: {"$date": x, true: 1, 2.5: y}
blob: !!binary aGVsbG8=
shared: &s [1, .nan, .inf, null]
again: *s
"""


def test_second_read_comes_from_the_cache_with_the_same_data_and_lines(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIERING_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "tricky.yaml"
    path.write_text(TRICKY, encoding="utf-8")
    first, problems = read_yaml(path)
    assert problems == [] and first is not None
    (stored,) = (tmp_path / "cache").glob("*.json")
    json.loads(stored.read_text(encoding="utf-8"))  # plain JSON, readable by anything
    monkeypatch.setattr("tiering.rules.yamlsrc.parse_yaml", None)  # a second parse would fail loudly
    second, problems = read_yaml(path)
    assert problems == [] and second is not None
    assert repr(second.data) == repr(first.data) and second.lines == first.lines
    assert second.data["when"] == dt.date(2022, 1, 1) and second.data["history"][2] == {"revenue": 20}
    assert second.data["odd"] == {"$date": "x", True: 1, 2.5: "y"} and second.data["blob"] == b"hello"
    assert second.lines[("history", 2, "revenue")] == 3


def test_a_file_with_problems_is_never_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIERING_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "dup.yaml"
    path.write_text("a: 1\na: 2\n", encoding="utf-8")
    for _ in range(2):
        assert [p.code for p in read_yaml(path)[1]] == ["yaml-duplicate-key"]
    assert not list((tmp_path / "cache").glob("*.json"))


def test_a_corrupt_or_unwritable_cache_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text("a: [1, 2]\n", encoding="utf-8")
    monkeypatch.setenv("TIERING_CACHE_DIR", str(tmp_path / "cache"))
    read_yaml(path)
    (stored,) = (tmp_path / "cache").glob("*.json")
    stored.write_text('{"data": ', encoding="utf-8")
    assert read_yaml(path)[0].data == {"a": [1, 2]}  # type: ignore[union-attr]
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("TIERING_CACHE_DIR", str(blocker / "cache"))
    assert read_yaml(path)[0].data == {"a": [1, 2]}  # type: ignore[union-attr]


def test_bundled_rules_load_the_same_from_the_cache(root: Path, monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    monkeypatch.setenv("TIERING_CACHE_DIR", str(tmp_path / "cache"))
    cold = load_library(root / "rules")
    warm = load_library(root / "rules")
    assert len(list((tmp_path / "cache").glob("*.json"))) == len(cold.rulesets)
    assert [r.meta for r in warm.rulesets] == [r.meta for r in cold.rulesets]
    assert [r.sha256 for r in warm.rulesets] == [r.sha256 for r in cold.rulesets]
    for r in cold.rulesets:
        parsed, _ = parse_yaml(r.path.read_text(encoding="utf-8"), r.path)
        assert cache.load(cache.key_of(r.path.read_bytes(), "")) is None  # the key includes the reader's limits
        assert parsed is not None and read_yaml(r.path)[0].lines == parsed.lines  # type: ignore[union-attr]
