"""The growth model's YAML files (column mappings, directions) refused in Chinese: pydantic's checks worded for
people, its English kept after them and its check type as the stable id (``schema-missing``, …)."""

from __future__ import annotations

from dataclasses import replace

from pydantic import ValidationError

from tiering.rules.yamlsrc import SCHEMA_WORDS, SourceProblem, YamlDoc


def schema_problems(doc: YamlDoc, error: ValidationError) -> list[SourceProblem]:
    """Each error of validating ``doc`` at its line and field, in Chinese where pydantic's text is English.

    A validator's own (Chinese) message is kept as it is. A refused dictionary key is placed at the key itself
    (pydantic adds ``[key]`` to its path).
    """
    out = []
    for problem, detail in zip(doc.schema_problems(error), error.errors(), strict=True):
        words = SCHEMA_WORDS.get(detail["type"])
        out.append(replace(problem, field=problem.field.removesuffix(".[key]"),
                           message=problem.message if words is None else f"{words}：{problem.message}",
                           code=f"schema-{detail['type'].replace('_', '-')}"))
    return out
