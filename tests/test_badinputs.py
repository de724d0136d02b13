"""The bad-input corpus (tests/badinputs/make_corpus.py) through ``tiering classify``: each file gets its exit code
and its message, never a traceback; whenever rows were read, rows read = rows classified + rows refused; every
refusal names the file, the sheet (workbooks), the row, the column and the value, in Chinese."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parent / "badinputs"))
from make_corpus import Case, build  # noqa: E402

from tiering.cli import main  # noqa: E402

ROWS_LINE = re.compile(r"读取 (\d+) 行 = 接受 (\d+) 行 \+ 拒收 (\d+) 行")
REFUSAL = re.compile(r'^拒收 refused: (?P<file>\S+) (?:工作表“(?P<sheet>[^”]+)” )?行 (?P<row>\d+) '
                     r'列 "(?P<column>[^"]+)" 值 "(?P<value>.*)": (?P<reason>.+)$')
CORPUS = Path(__file__).resolve().parent / "badinputs"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Case]]:
    folder = tmp_path_factory.mktemp("badinputs")
    return folder, {case.name: case for case in build(folder)}


def test_corpus_is_large_enough(corpus: tuple[Path, dict[str, Case]]) -> None:
    folder, cases = corpus
    assert len(cases) >= 60
    assert len({c.file for c in cases.values()}) >= 60


CASE_NAMES = [c.name for c in build(Path(__import__("tempfile").mkdtemp(prefix="badinputs-names-")))]


@pytest.mark.parametrize("name", CASE_NAMES)
def test_bad_input(name: str, corpus: tuple[Path, dict[str, Case]], tmp_path: Path) -> None:
    folder, cases = corpus
    case = cases[name]
    args = [a.replace("{corpus}", str(folder)) for a in case.args]
    if "--out" not in args:
        args += ["--out", str(tmp_path / "out")]
    if "--year" not in args:
        args += ["--year", "2025"]
    result = CliRunner().invoke(main, ["classify", str(folder / case.file), "--program", "kjxzxqy", "--no-audit",
                                       *args])
    output = result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), output
    assert "Traceback" not in output
    assert result.exit_code == case.exit_code, output
    for text in case.texts:
        assert text in output, f"{text!r} not in:\n{output}"
    counts = ROWS_LINE.search(output)
    if counts:
        read, accepted, refused = map(int, counts.groups())
        assert read == accepted + refused
    refusals = [line for line in output.splitlines() if line.startswith("拒收 refused:")]
    for line in refusals:
        match = REFUSAL.match(line)
        assert match, line
        assert match["file"] == case.file
        if case.file.endswith(".xlsx"):
            assert match["sheet"], line
        assert re.search(r"[\u4e00-\u9fff]", match["reason"]), line
