"""Identities of generated firms: valid, unique 统一社会信用代码 and plausible, unique Chinese company names.

Both are built with numpy over whole arrays, so a million firms take well under a second.
"""

from __future__ import annotations

import numpy as np

from tiering import uscc
from tiering.datasets.refused import GenerateRefused

# GB 11714 organisation code: 8 body characters then a check character.
_ORG_WEIGHTS = np.array((3, 7, 9, 10, 5, 8, 4, 2), dtype=np.int64)
_USCC_WEIGHTS = np.array(uscc.WEIGHTS, dtype=np.int64)
_USCC_ALPHABET = np.array([ord(c) for c in uscc.ALPHABET], dtype=np.uint32)
_USCC_VALUE = np.full(128, -1, dtype=np.int64)
_USCC_VALUE[_USCC_ALPHABET] = np.arange(len(_USCC_ALPHABET))

NEW_STYLE_FROM = 2016
"""Firms registered from this year on get the new-style organisation part "MA…" of the code."""


def _org_value(codes: np.ndarray) -> np.ndarray:
    """GB 11714 character values: digits 0–9, letters A=10 … Z=35."""
    return np.where(codes <= ord("9"), codes - ord("0"), codes - ord("A") + 10).astype(np.int64)


def _org_codes(new_style: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(n, 9) character codes of unique organisation codes: 8 digits for older firms, MA + 6 for newer ones."""
    n = len(new_style)
    body = np.empty((n, 8), dtype=np.uint32)
    old = np.flatnonzero(~new_style)
    digits = rng.choice(10**8, size=len(old), replace=False)
    for k in range(8):
        body[old, 7 - k] = ord("0") + digits // 10**k % 10
    new = np.flatnonzero(new_style)
    width = len(_USCC_ALPHABET)
    serial = rng.choice(width**6, size=len(new), replace=False)
    body[new, 0], body[new, 1] = ord("M"), ord("A")
    for k in range(6):
        body[new, 7 - k] = _USCC_ALPHABET[serial // width**k % width]
    remainder = 11 - (_org_value(body) * _ORG_WEIGHTS).sum(axis=1) % 11
    check = np.where(remainder == 10, ord("X"), np.where(remainder == 11, ord("0"), ord("0") + remainder))
    return np.column_stack([body, check.astype(np.uint32)])


def make_usccs(admin_codes: np.ndarray, new_style: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Unique valid codes 9 1 <admin code> <organisation code> <check>, one per firm.

    ``admin_codes`` holds each firm's 6-digit 行政区划代码; ``new_style`` marks firms registered after the 2015
    reform. The check character is the GB 32100 one that tiering.uscc.make computes.
    """
    n = len(admin_codes)
    chars = np.empty((n, 18), dtype=np.uint32)
    chars[:, 0], chars[:, 1] = ord("9"), ord("1")
    chars[:, 2:8] = np.asarray(admin_codes, dtype="U6").view(np.uint32).reshape(n, 6)
    chars[:, 8:17] = _org_codes(new_style, rng)
    total = (_USCC_VALUE[chars[:, :17]] * _USCC_WEIGHTS).sum(axis=1)
    chars[:, 17] = _USCC_ALPHABET[(31 - total % 31) % 31]
    return chars.view("<U18").reshape(n)


# Brand syllables. First and second positions are disjoint (no 华华); the third position, used only when a
# run needs more names than two syllables give, avoids every first character of an industry word so that a
# three-syllable brand can never read as a two-syllable brand followed by another word.
_FIRST = tuple(
    "华泰宏鑫瑞恒达诚信联德嘉和盛兴隆昌永安康海天中金通博创源汇同众明远佳荣富祥利宇晟凯锐腾东方北津滨渤京"
    "奥普威亚欧美捷迅睿思卓越益君志正元广万百星辰润泽清蓝青云峰岳林松柏龙鹏骏诺盈丰裕顺宁立本道维纳"
)
_SECOND = tuple(
    "业茂晖曦煌灿烨焱昊旭阳晨曜辉耀鸿翔飞舟帆航宸坤乾成泓澜洋涛川江河湖潭溪泉渊森杉桐楠桦枫梧榕锦绣"
    "璟瑜琪琳玮珑瑄铭钧锋镭钛硕岩磊垚峻崇嵘屹巍驰骐骋迪逸途亨鼎韬略弘毅"
)
_THIRD = tuple("一二三四六七八九久禾井丹力山寸巧丙丁乙甲仁伦义诺尊雅")
SUFFIXES = (
    "科技有限公司", "技术有限公司", "有限公司", "股份有限公司", "科技发展有限公司", "科技股份有限公司",
    "实业有限公司", "技术开发有限公司",
)


def name_capacity() -> int:
    """How many distinct names make_names can produce."""
    return len(_FIRST) * len(_SECOND) * len(SUFFIXES) * (1 + len(_THIRD))


def make_names(prefixes: np.ndarray, words: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Unique names prefix + brand + industry word + suffix, e.g. 天津瑞晖新材料科技有限公司.

    Uniqueness comes from the (brand, suffix) pair alone, drawn without replacement, so the industry word and
    prefix are free. Three-syllable brands appear only when a run needs more than the two-syllable space.
    """
    n = len(words)
    n1, n2, ns = len(_FIRST), len(_SECOND), len(SUFFIXES)
    two = n1 * n2 * ns
    if n > name_capacity():
        raise GenerateRefused(f"最多可生成 {name_capacity():,} 个不同企业名称，请求了 {n:,} 个：请减少 --firms")
    space = two if n <= two // 2 else name_capacity()
    key = rng.choice(space, size=n, replace=False)
    third = key // two  # 0 = two-syllable brand
    rest = key % two
    first = np.asarray(_FIRST)[rest // (n2 * ns)]
    second = np.asarray(_SECOND)[rest // ns % n2]
    suffix = np.asarray(SUFFIXES)[rest % ns]
    extra = np.where(third > 0, np.asarray(("", *_THIRD))[third], "")
    brand = np.char.add(np.char.add(first, second), extra)
    return np.char.add(np.char.add(np.char.add(np.asarray(prefixes), brand), np.asarray(words)), suffix)
