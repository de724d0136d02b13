"""统一社会信用代码 (unified social credit code, GB 32100-2015): checksum validation and generation."""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def check_char(body: str) -> str:
    """The 18th (check) character for the first 17 characters of a code."""
    total = sum(_VALUE[c] * w for c, w in zip(body, _WEIGHTS, strict=True))
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
