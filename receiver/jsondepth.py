"""Bounded JSON nesting: values nested deeper than MAX_JSON_DEPTH are refused at the door.

Deep nesting is never meaningful in taskhook's inputs, and left alone it reaches Python's
recursion limit in every later step (the decoder, a pretty-printer, a fingerprint).
"""

from __future__ import annotations

import json
from typing import Any

MAX_JSON_DEPTH = 64


def nesting_depth(value: Any, *, stop_after: int = MAX_JSON_DEPTH) -> int:
    """How deep lists and objects nest in `value` (counting stops past `stop_after`)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > stop_after:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when `value` nests lists/objects more than `limit` levels deep."""
    return nesting_depth(value, stop_after=limit) > limit


def loads_bounded(text: str | bytes, limit: int = MAX_JSON_DEPTH, **kwargs: Any) -> Any:
    """`json.loads`, but ValueError for nesting over `limit` (never RecursionError)."""
    try:
        value = json.loads(text, **kwargs)
    except RecursionError:
        raise ValueError(f"nested more than {limit} levels deep") from None
    if too_deep(value, limit):
        raise ValueError(f"nested more than {limit} levels deep")
    return value
