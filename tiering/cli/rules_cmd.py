"""``tiering rules check`` and ``tiering rules test``: lint the rule files and run the cases kept beside them."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from tiering import exit_codes
from tiering.cli import SuggestingGroup
from tiering.cli.diff_cmd import diff
from tiering.engine.cases import cases_files, run_cases
from tiering.rules.currency import program_status, provisional_count
from tiering.rules.labels import label_problems
from tiering.rules.library import RULES_DIR, load_library, rule_files
from tiering.rules.yamlsrc import SourceProblem, dotted, read_yaml


def _paths(path: Path | None) -> tuple[Path, list[Path] | None]:
    if path is None:
        return RULES_DIR, None
    if path.is_dir():
        return path, None
    return path.parent, [path]


@click.group("rules", cls=SuggestingGroup)
def rules() -> None:
    """Check rule files, run their cases, compare versions."""


@rules.command("check")
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
def check(path: Path | None) -> None:
    """检查 PATH 下的全部规则文件，一次报告所有问题，并核对标签中的数字与比较词。

    Load every rule file under PATH (default: the bundled rules/) and report every problem in one run, then
    check that each label's numbers and comparison words agree with its threshold, unit and operator (exit 4 if not).

    Example: tiering rules check rules/
    """
    folder, files = _paths(path)
    library = load_library(folder, files)
    disagreements = [SourceProblem(str(r.path), doc.line_of(loc) if doc else 1, dotted(loc), message, code)
                     for r in library.rulesets for doc in (read_yaml(r.path)[0],)
                     for loc, message, code in label_problems(r)]
    if disagreements:
        for problem in disagreements:
            click.echo(f"error: {problem}", err=True)
        click.echo(f"{len(disagreements)} label(s) disagree with their rule in {folder}", err=True)
        sys.exit(exit_codes.CHECK_FAILED)
    for r in library.rulesets:
        flag = "  [provisional]" if r.provisional else ""
        click.echo(f"ok  {r.id:<28} {r.meta.version:<10} {r.meta.status.value:<11} "
                   f"{r.meta.effective_from} – {r.meta.effective_to or '…'}  {len(r.nodes)} criteria{flag}")
    click.echo(f"{len(library.rulesets)} rule set(s) loaded from {folder}, no problems")


@rules.command("test")
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("--strict-coverage", is_flag=True,
              help="严格覆盖（strict-coverage）：有分档或条件没有用例覆盖时判为失败。")
def test(path: Path | None, strict_coverage: bool) -> None:
    """运行规则集旁的用例文件（*.cases.yaml），报告没有用例覆盖的分档与条件。

    Run the cases files (*.cases.yaml) beside the rule sets and report bands and criteria no case exercises.

    Example: tiering rules test rules/
    """
    folder, files = _paths(path)
    library = load_library(folder, None if files is None else [f for f in files if f in rule_files(folder)])
    targets = [f for f in (files or []) if f.name.endswith(".cases.yaml")] or cases_files(folder)
    failed = todo = passed = gaps = 0
    for cases_path in targets:
        results, coverage, problems = run_cases(library, cases_path)
        for problem in problems:
            click.echo(f"error: {problem}", err=True)
            failed += 1
        for r in results:
            if r.ok:
                passed += 1
                continue
            if r.todo:
                todo += 1
                click.echo(f"todo  {cases_path}:{r.line} {r.name}: {r.todo} ({'; '.join(r.problems)})")
                continue
            failed += 1
            click.echo(f"FAIL  {cases_path}:{r.line} {r.name}: {'; '.join(r.problems)}")
        if coverage is not None:
            for item in coverage.unreached_bands + coverage.unexercised:
                gaps += 1
                click.echo(f"gap   {coverage.ruleset}: {item}")
    click.echo(f"cases: {passed} passed, {failed} failed, {todo} todo; coverage gaps: {gaps}")
    if failed or (strict_coverage and gaps):
        sys.exit(exit_codes.CHECK_FAILED)


rules.add_command(diff)


@rules.command("status")
@click.argument("path", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--date", "on", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="日期（date）：查看这一天现行的规则，默认为今天。")
def status(path: Path | None, on: dt.datetime | None) -> None:
    """规则现行情况一览：各项目的版本、日期、状态、暂定条件与警示。

    Dashboard of what is current: per program its versions with dates, status, provisional criteria, when the
    text was last verified, which version is in force on the date, and warnings (review date passed, no version in
    force, a newer text known but not encoded).

    Example: tiering rules status --date 2026-12-04
    """
    folder, _ = _paths(path)
    day = on.date() if on is not None else dt.date.today()
    programs = program_status(load_library(folder), day)
    click.echo(f"规则现行状况 rules status，日期 {day}（▶ 为该日在用版本）")
    for p in programs:
        click.echo("")
        click.echo(f"{p.title}（{p.program}，{p.jurisdiction}）")
        for rs in p.versions:
            mark = "▶" if rs is p.in_force else " "
            m = rs.meta
            review = f"  复查期限 {m.review_by}" if m.review_by else ""
            click.echo(f"  {mark} {rs.id:<22} {m.version:<7} {m.effective_from} – {str(m.effective_to or '…'):<10} "
                       f"{m.status.value:<11} 暂定条件 {provisional_count(rs):>2} 条  "
                       f"核对于 {m.verified_on or '未记录'}{review}")
            for r in m.reviews:
                years = f"{r.certified_from}" if r.certified_from == r.certified_to else \
                    f"{r.certified_from}–{r.certified_to}"
                click.echo(f"      复核：{years}年认定的称号复核仍用此版本（至 {r.until or '…'}；{r.source.document}）")
        for warning in p.warnings:
            click.echo(f"    注意：{warning}")
