"""统一社会信用代码 (unified social credit code, GB 32100-2015): checksum validation and generation."""

from __future__ import annotations

import numpy as np

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
"""Weights of the first 17 characters in the check-character sum."""


def check_char(body: str) -> str:
    """The 18th (check) character for the first 17 characters of a code."""
    total = sum(_VALUE[c] * w for c, w in zip(body, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def problem(code: str) -> str | None:
    """Why ``code`` is not a valid 统一社会信用代码, or None when it is."""
    if len(code) != 18:
        return f"应为18位，实为{len(code)}位"
    bad = sorted({c for c in code if c not in _VALUE})
    if bad:
        return f"含有不允许的字符 {''.join(bad)}（不使用 I、O、Z、S、V）"
    expected = check_char(code[:17])
    if code[17] != expected:
        return f"校验位错误：第18位应为 {expected}，实为 {code[17]}"
    return None


def make(body: str) -> str:
    """A valid code from a 17-character body (used by generators and tests)."""
    return body + check_char(body)


_NOT_ALLOWED = 1024  # a pair value above any valid sum of nine pairs (9 × 30), so one bad character shows


def _pair_tables() -> np.ndarray:
    """For each of the nine character pairs of a code, read as one little-endian 16-bit number: the pair's share
    of the check sum mod 31, or _NOT_ALLOWED. The check character counts with weight 1, so a valid code's full
    sum is 0 mod 31 (the 18th character is (31 - sum of the others mod 31) mod 31)."""
    value = np.full(256, _NOT_ALLOWED, dtype=np.int32)
    value[[ord(c) for c in ALPHABET]] = np.arange(len(ALPHABET))
    weights = (*WEIGHTS, 1)
    first, second = value[np.arange(1 << 16) & 0xFF], value[np.arange(1 << 16) >> 8]
    bad = (first == _NOT_ALLOWED) | (second == _NOT_ALLOWED)
    return np.stack([
        np.where(bad, _NOT_ALLOWED, (first * weights[2 * k] + second * weights[2 * k + 1]) % 31)
        for k in range(9)
    ]).astype(np.int16)


_PAIRS = _pair_tables()


def valid_bytes(chars: np.ndarray) -> np.ndarray:
    """Vectorised :func:`problem` ``is None`` for codes given as a (rows, 18) array of bytes (uint8) or code
    points: every character in the alphabet and the 18th the check character.

    Two characters per table lookup, in 16-bit integers: nine passes over the rows instead of eighteen, and no
    (rows, 18) intermediate wider than the input."""
    if chars.dtype != np.uint8:  # code points beyond one byte are outside the alphabet, like byte 255
        chars = np.minimum(chars, 255).astype(np.uint8)
    pairs = np.ascontiguousarray(chars).view("<u2")
    total = np.zeros(len(chars), dtype=np.int16)
    share = np.empty(len(chars), dtype=np.int16)
    for k in range(9):
        np.take(_PAIRS[k], pairs[:, k], out=share)
        total += share
    return (total < _NOT_ALLOWED) & (total % 31 == 0)
