"""Text columns made in Arrow (tiering.strings): a column spread over the rows shares its texts' bytes."""

import numpy as np
import pandas as pd
import pyarrow as pa

from tiering import strings


def _data_address(column: pd.api.extensions.ExtensionArray) -> int:
    return pa.array(column).buffers()[2].address


def test_spread_puts_each_text_at_its_row_and_the_empty_text_elsewhere_sharing_the_bytes() -> None:
    texts = pd.array(["研发费用占比还差 0.4 个百分点", "", "高企：缺数据"], dtype=strings.STR)
    column = strings.spread(texts, np.array([1, 2, 5]), 7)
    assert column.dtype == strings.STR
    assert list(column) == ["", "研发费用占比还差 0.4 个百分点", "", "", "", "高企：缺数据", ""]
    assert not column.isna().any()
    assert _data_address(column) == _data_address(texts)
    pa.array(column).validate(full=True)


def test_spread_reads_sliced_and_chunked_texts_and_no_texts() -> None:
    sliced = pd.array(pa.array(["甲", "乙", "丙丁"], pa.large_string()).slice(1), dtype=strings.STR)
    assert list(strings.spread(sliced, np.array([0, 3]), 4)) == ["乙", "", "", "丙丁"]
    chunked = pd.array(pa.chunked_array([pa.array(["a", "bb"], pa.large_string()),
                                         pa.array(["ccc"], pa.large_string())]), dtype=strings.STR)
    assert list(strings.spread(chunked, np.array([0, 1, 4]), 5)) == ["a", "bb", "", "", "ccc"]
    none = pd.array([], dtype=strings.STR)
    assert list(strings.spread(none, np.zeros(0, dtype=np.int64), 3)) == ["", "", ""]
    assert len(strings.spread(none, np.zeros(0, dtype=np.int64), 0)) == 0


def test_tiled_repeats_the_whole_column_sharing_its_bytes_and_keeps_missing_texts() -> None:
    codes = strings.texts(["91120116MA05JLK1XA", None, "高企"])
    column = strings.tiled(codes, 3)
    assert column.dtype == strings.STR
    assert list(column.fillna("∅")) == ["91120116MA05JLK1XA", "∅", "高企"] * 3
    assert {chunk.buffers()[2].address for chunk in pa.array(column).chunks} == {codes.buffers()[2].address}
    assert len(strings.tiled(codes, 0)) == 0


def test_blocks_gives_each_text_its_block_of_rows_as_a_gather_would() -> None:
    values = ["科技型中小企业", "", "专精特新“小巨人”企业", "a"]
    column = strings.blocks(values, 3)
    assert column.dtype == strings.STR
    assert list(column) == [v for v in values for _ in range(3)]
    assert column.equals(strings.repeated(values, np.repeat(np.arange(4), 3)))
    pa.array(column).validate(full=True)
    assert len(strings.blocks(values, 0)) == 0 and len(strings.blocks([], 5)) == 0
