"""Whole numbers from untrusted text: ASCII digits only, and not too many of them.

`str.isdigit` also accepts `²` or `٣`, which `int()` then refuses (or reads as a digit
of another script), and `int()` refuses more than 4,300 digits: both were 500s.
"""

from __future__ import annotations


def ascii_int(text: str, *, max_digits: int = 18) -> int | None:
    """The number `text` spells in ASCII digits (at most `max_digits`), else None."""
    if not text or len(text) > max_digits or not text.isascii() or not text.isdigit():
        return None
    return int(text)
