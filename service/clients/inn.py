"""The Russian tax number (INN): 10 digits for a company, 12 for a sole trader, ending in check digits."""

from __future__ import annotations

_TEN = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_ELEVEN = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_TWELVE = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _check_digit(digits: list[int], weights: tuple[int, ...]) -> int:
    return sum(d * w for d, w in zip(digits[: len(weights)], weights, strict=True)) % 11 % 10


def inn_problem(value: str) -> str | None:
    """Why `value` is not a valid INN, or None when it is one."""
    if not value.isascii() or not value.isdigit() or len(value) not in (10, 12):
        return "an INN is 10 digits (a company) or 12 digits (a sole trader)"
    digits = [int(c) for c in value]
    if len(value) == 10:
        valid = _check_digit(digits, _TEN) == digits[9]
    else:
        valid = _check_digit(digits, _ELEVEN) == digits[10] and _check_digit(digits, _TWELVE) == digits[11]
    return None if valid else "the INN's check digits do not match: look for a typo"
