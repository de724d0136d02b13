"""Firm numbering by integer keys and the vectorised 统一社会信用代码 check agree with the plain definitions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tiering import uscc
from tiering.numbering import fixed_width_bytes, number_firms, sort_rows

ROOT = Path(__file__).resolve().parents[1]

BODIES = st.text(alphabet=uscc.ALPHABET, min_size=17, max_size=17)
# characters a code may be mistyped with: the alphabet, the five letters it leaves out, lower case, non-ASCII
TYPOS = st.sampled_from([*uscc.ALPHABET, "I", "O", "Z", "S", "V", "a", "y", " ", "Ｙ", "é"])


@st.composite
def codes(draw: st.DrawFn) -> str:
    code = uscc.make(draw(BODIES))
    if draw(st.booleans()):
        at = draw(st.integers(0, 17))
        code = code[:at] + draw(TYPOS) + code[at + 1:]
    return code


@settings(max_examples=200, deadline=None)
@given(st.lists(codes(), min_size=1, max_size=40))
def test_valid_bytes_agrees_with_problem_on_bytes_and_code_points(drawn: list[str]) -> None:
    expected = np.array([uscc.problem(c) is None for c in drawn])
    points = np.array(drawn, dtype="U18").view(np.uint32).reshape(len(drawn), 18)
    assert (uscc.valid_bytes(points) == expected).all()
    one_byte = [c for c in drawn if len(c.encode()) == 18]
    if one_byte:
        chars = np.frombuffer("".join(one_byte).encode(), dtype=np.uint8).reshape(len(one_byte), 18)
        assert (uscc.valid_bytes(chars) == np.array([uscc.problem(c) is None for c in one_byte])).all()


def test_valid_bytes_names_each_kind_of_bad_code() -> None:
    good = uscc.make("91120116MA05J8XK2")
    wrong_check = good[:17] + ("0" if good[17] != "0" else "1")
    with_letter_i = "I" + good[1:]
    rows = [good, wrong_check, with_letter_i, good.lower()]
    chars = np.frombuffer("".join(rows).encode(), dtype=np.uint8).reshape(4, 18)
    assert uscc.valid_bytes(chars).tolist() == [True, False, False, False]


CODE_LISTS = st.lists(st.sampled_from(["B", "A2", "A1", "AB", "甲乙", "A", "Ｂ1"]), min_size=1, max_size=30)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.lists(codes(), min_size=1, max_size=30), CODE_LISTS), st.data())
def test_sort_rows_orders_by_code_year_then_row_and_numbers_firms_in_code_order(drawn: list[str], data) -> None:
    years = np.array(data.draw(st.lists(st.sampled_from([2022.0, 2023.0, np.nan]), min_size=len(drawn),
                                        max_size=len(drawn))))
    series = pd.Series(drawn, dtype="str")
    rows, firm = sort_rows(series, years)
    expected = sorted((c, y, i) for i, (c, y) in enumerate(zip(drawn, years, strict=True)) if not np.isnan(y))
    assert rows.tolist() == [i for _, _, i in expected]
    distinct = sorted({c for c, _, _ in expected})
    assert firm.tolist() == [distinct.index(c) for c, _, _ in expected]


def test_number_firms_matches_sorted_factorize_with_missing_codes() -> None:
    series = pd.Series(["B2", None, "A1", "B2", "A1", "C0"], dtype="str")
    numbers, uniques = number_firms(series)
    assert numbers.tolist() == [1, -1, 0, 1, 0, 2]
    assert uniques.tolist() == ["A1", "B2", "C0"]


def test_each_way_of_sorting_gives_code_order() -> None:
    """Codes of the alphabet (one packed key), other codes of one width (byte words), mixed widths (factorize)."""
    valid = [uscc.make("91120116MA05J8XK2"), uscc.make("91120116MA05J8XK1"), uscc.make("12120000MB0C12345")]
    for drawn in (valid, ["ab", "Ab", "aB", "ab"], ["b", "ab", "a", "ab"]):
        rows, firm = sort_rows(pd.Series(drawn, dtype="str"), np.array([2023.0, 2022.0, 2021.0, 2020.0][: len(drawn)]))
        expected = sorted(range(len(drawn)), key=lambda i: (drawn[i], -i))
        assert rows.tolist() == expected
        assert firm.tolist() == [sorted(set(drawn)).index(drawn[i]) for i in expected]


def test_fixed_width_bytes_need_one_width_and_no_missing_code() -> None:
    chars = fixed_width_bytes(pd.Series(["AB", "CD"], dtype="str"))
    assert chars is not None and chars.tolist() == [[65, 66], [67, 68]]
    assert fixed_width_bytes(pd.Series(["AB", "ABC"], dtype="str")) is None
    assert fixed_width_bytes(pd.Series(["AB", None], dtype="str")) is None


def test_the_register_loader_numbers_the_firms_once_for_the_classification(monkeypatch: pytest.MonkeyPatch) -> None:
    """The numbering the loader's checks made (a register with refused rows: numbers stay dense) is the one a fresh
    numbering of the accepted rows gives, and classify uses it instead of numbering again; some rows of the
    register put in its place are numbered afresh."""
    import dataclasses

    from tiering import numbering
    from tiering.app import classify, rules_in_force
    from tiering.register import load_register
    from tiering.rules.library import load_library

    register = load_register(ROOT / "datasets" / "sample_register_with_errors.xlsx")
    assert register.refusals
    numbers, ids = register.firm_numbers()
    fresh_numbers, fresh_ids = number_firms(register.frame["uscc"])
    assert numbers.tolist() == fresh_numbers.tolist() and ids.tolist() == fresh_ids.tolist()
    assert sorted(set(numbers.tolist())) == list(range(len(ids)))

    def counted(codes: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        calls.append(len(codes))
        return number_firms(codes)

    calls: list[int] = []
    monkeypatch.setattr(numbering, "number_firms", counted)  # where evaluate and the register import it from
    rulesets, on = rules_in_force(load_library(), 2025, programs=["kjxzxqy"])
    result = classify(register, rulesets, 2025, on)
    frame = register.frame
    evaluated = sorted(set(frame.loc[frame["year"] == 2024, "uscc"]))
    assert calls == [] and result.evaluation.firms.tolist() == evaluated
    some = frame[frame["uscc"].isin(evaluated[:3])]
    part = classify(dataclasses.replace(register, frame=some), rulesets, 2025, on)
    assert calls == [len(some)] and part.evaluation.firms.tolist() == evaluated[:3]
