"""The two kinds of text columns the 尚缺 texts are put together with — Python lists for one firm, Arrow arrays for a
register — give the same texts for the same operations, including empty columns, empty texts and Chinese."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from tiering.ladder.columns import ArrowTexts, Groups, ListTexts, join, place

KINDS = [ListTexts(), ArrowTexts()]
WORDS = ["研发费用 需增加38.5万元", "", "—", "Ⅰ类知识产权数量 还需1项", "a", "8,600万元 → 1亿元（+16.3%）"]


@pytest.mark.parametrize("texts", KINDS, ids=["lists", "arrow"])
def test_each_operation_gives_the_texts_python_gives(texts) -> None:
    rng = np.random.default_rng(3)
    index = rng.integers(0, len(WORDS), 40)
    column = texts.take(WORDS, index)
    expected = [WORDS[i] for i in index]
    assert texts.strings(column) == expected
    assert texts.strings(texts.cat("【", column, "】", expected)) == [f"【{w}】{w}" for w in expected]
    assert texts.strings(texts.concat([column, ["x"], []])) == [*expected, "x"]
    assert texts.strings(texts.part(column, 7, 5)) == expected[7:12]
    assert texts.strings(texts.cat(texts.part(column, 0, 3), "/", texts.part(column, 37, 3))) == [
        f"{a}/{b}" for a, b in zip(expected[:3], expected[37:], strict=True)]
    again = rng.integers(0, 41, 60)
    assert texts.strings(texts.gather([column, ["x"]], again)) == [[*expected, "x"][i] for i in again]
    # a few rows of many columns (some empty), in any order: each column gives only its own rows
    pieces = [column, [], ["x"], texts.of(expected[5:9]), [""], column]
    every = [w for piece in pieces for w in texts.strings(texts.of(piece))]
    few = np.array([84, 40, 3, 41, 44, 3, 0, 45, 46])
    assert texts.strings(texts.gather(pieces, few)) == [every[i] for i in few]
    assert texts.strings(texts.gather(pieces, np.zeros(0, np.int64))) == []
    lengths = texts.lengths(column)
    assert ((lengths == 0) == [w == "" for w in expected]).all()
    assert all(lengths[i] == lengths[j] for i in range(40) for j in range(40) if expected[i] == expected[j])
    assert texts.starts_with(column, "研发").tolist() == [w.startswith("研发") for w in expected]
    backwards = expected[::-1]
    same = [a == b for a, b in zip(expected, backwards, strict=True)]
    assert texts.equal(column, texts.of(backwards)).tolist() == same
    assert texts.strings(texts.numbers(np.array([0, 7, 10_000, 123_456_789]))) == ["0", "7", "10000", "123456789"]
    assert texts.strings(texts.glue(column, np.array([0, 3, 4, 39]))) == [
        "".join(expected[:3]), expected[3], "".join(expected[4:39]), expected[39]]


@pytest.mark.parametrize("texts", KINDS, ids=["lists", "arrow"])
def test_groups_are_joined_by_the_separator_across_parts_and_pieces_are_placed(texts) -> None:
    first = Groups([["甲", "乙"], texts.of(["丙", ""])], np.array([3, 0, 1, 2, 2]), np.array([0, 1, 4]))
    second = Groups([["丁"]], np.array([0, 0]), np.array([0]))
    assert texts.strings(join(texts, [first, second], "；")) == ["", "甲；乙；丙", "丙", "丁；丁"]
    assert texts.strings(join(texts, [], "；")) == []
    assert texts.strings(place(texts, 5, [(np.array([1, 3]), ["b", "d"]), (np.array([4]), texts.of(["e"]))],
                               "-")) == ["-", "b", "-", "d", "e"]
    assert texts.strings(place(texts, 2, [(np.array([0, 1]), ["x", "y"])])) == ["x", "y"]
    assert texts.strings(place(texts, 0, [])) == []


def test_arrow_columns_are_large_strings_whatever_they_are_made_from() -> None:
    texts = ArrowTexts()
    assert texts.of(pa.array(["a"], pa.string())).type == pa.large_string()
    assert texts.take(["a", "b"], np.array([1, 1, 0])).type == pa.large_string()
    glued = texts.glue(texts.of(["ab", "c", "d"]).slice(1), np.array([0]))
    assert glued.to_pylist() == ["cd"]
