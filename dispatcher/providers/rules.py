"""Validation building blocks: field checks, cross-field checks and the model schema.

Every violation raises `receiver.errors.InvalidInput(message, field=, rule=, value=)`;
the message names the field, the rule broken, the value given and how to fix it.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from receiver.errors import InvalidInput

MAX_SHOWN_CHARS = 80

# A check of one field's value: raises InvalidInput or returns None.
Check = Callable[[str, Any], None]
# A check across the fields of one input.
CrossCheck = Callable[[Mapping[str, Any]], None]


def show(value: Any) -> str:
    """The value as the user gave it, shortened for messages."""
    text = repr(value)
    if len(text) > MAX_SHOWN_CHARS:
        return f"{text[: MAX_SHOWN_CHARS - 15]}... ({len(text)} chars)"
    return text


def invalid(field: str, rule: str, value: Any, fix: str) -> InvalidInput:
    """The error for `field` breaking `rule` with `value`; `fix` says what to do."""
    if rule == "required":
        message = f"input.{field} is required but was not given (value None): {fix}"
    else:
        message = f"input.{field}: {show(value)} breaks rule '{rule}': {fix}"
    return InvalidInput(message, field=field, rule=rule, value=show(value))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def string(*, max_len: int | None = None, min_len: int = 1) -> Check:
    """A string of min_len..max_len characters."""

    def check(field: str, value: Any) -> None:
        if not isinstance(value, str):
            raise invalid(field, "type", value, "give a string")
        if len(value.strip()) < min_len:
            raise invalid(field, "min_length", value, f"give at least {min_len} character(s)")
        if max_len is not None and len(value) > max_len:
            raise invalid(
                field,
                "max_length",
                value,
                f"shorten it to at most {max_len} characters (it has {len(value)})",
            )

    return check


def one_of(allowed: Collection[Any]) -> Check:
    """Exactly one of the allowed values (same type: 8.0 or True is not 8)."""
    choices = _sorted(allowed)

    def check(field: str, value: Any) -> None:
        if not any(value == a and type(value) is type(a) for a in choices):
            raise invalid(field, "one_of", value, f"use one of {', '.join(map(repr, choices))}")

    return check


def _sorted(values: Collection[Any]) -> list[Any]:
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


def number_range(low: float, high: float) -> Check:
    """A number in [low, high]."""

    def check(field: str, value: Any) -> None:
        if not _is_number(value) or not math.isfinite(value):
            raise invalid(field, "type", value, f"give a number from {low:g} to {high:g}")
        if not low <= value <= high:
            raise invalid(field, "range", value, f"use a number from {low:g} to {high:g}")

    return check


def positive_integer(field: str, value: Any) -> None:
    """A whole number above zero."""
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise invalid(field, "type", value, "give a whole number above 0")


def boolean(field: str, value: Any) -> None:
    """true or false."""
    if not isinstance(value, bool):
        raise invalid(field, "type", value, "give true or false")


def mapping(field: str, value: Any) -> None:
    """A JSON object."""
    if not isinstance(value, dict):
        raise invalid(field, "type", value, "give a JSON object")


def url(field: str, value: Any) -> None:
    """An absolute http(s) URL with a host and no spaces."""
    if not isinstance(value, str):
        raise invalid(field, "url", value, "give a public http(s) URL as a string")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in value):
        raise invalid(field, "url", value, "give a public URL starting with https://")


def listed(item: Check, *, min_count: int = 0, max_count: int | None = None) -> Check:
    """A list of min_count..max_count items, each passing `item`."""

    def check(field: str, value: Any) -> None:
        if not isinstance(value, list):
            raise invalid(field, "type", value, "give a JSON array")
        count = len(value)
        if count < min_count or (max_count is not None and count > max_count):
            raise invalid(
                field, "count", value, f"give {_count_text(min_count, max_count)} (got {count})"
            )
        for element in value:
            item(field, element)

    return check


def _count_text(low: int, high: int | None) -> str:
    if high is None:
        return f"at least {low} item(s)"
    if low == high:
        return f"exactly {low} item(s)"
    return f"{low} to {high} item(s)" if low else f"at most {high} item(s)"


TIMESTAMPS = re.compile(r"[0-9]+,[0-9]+")


def timestamps(min_span_s: float, max_span_s: float) -> Check:
    """The page's "start_second,end_second" (whole seconds, no spaces), end - start in the span."""
    fix = f'write "start_second,end_second" in whole seconds, end - start from {min_span_s:g} to '
    fix += f'{max_span_s:g}, e.g. "1,3"'

    def check(field: str, value: Any) -> None:
        if not isinstance(value, str) or not TIMESTAMPS.fullmatch(value):
            raise invalid(field, "format", value, fix)
        start, end = (int(part) for part in value.split(","))
        if not min_span_s <= end - start <= max_span_s:
            raise invalid(field, "span", value, fix)

    return check


def exactly_one_of(*fields: str) -> CrossCheck:
    """Exactly one of `fields` is given."""

    def check(task_input: Mapping[str, Any]) -> None:
        given = [f for f in fields if task_input.get(f) is not None]
        if len(given) != 1:
            shown = {f: task_input[f] for f in given}
            raise invalid(
                given[-1] if given else fields[0],
                "exactly_one_of",
                shown,
                f"give exactly one of {', '.join(fields)}",
            )

    return check


@dataclass(frozen=True)
class Field:
    """One input field: its checks, and whether it must be given (null counts as absent)."""

    name: str
    checks: tuple[Check, ...] = ()
    required: bool = False


@dataclass(frozen=True)
class Schema:
    """Every field one model (or mode) accepts, plus checks across fields."""

    name: str
    fields: tuple[Field, ...]
    cross: tuple[CrossCheck, ...] = ()
    # open: fields this schema does not list pass through to the provider unchecked
    # (for modes no primary page documents: the provider decides)
    open: bool = False

    def validate(self, task_input: Any) -> dict[str, Any]:
        """Check `task_input` against every rule; return a copy of it, unchanged."""
        if not isinstance(task_input, dict):
            raise invalid("input", "type", task_input, "give the task input as a JSON object")
        if not self.open:
            self.reject_unknown(task_input)
        for spec in self.fields:
            value = task_input.get(spec.name)
            if value is None:
                if spec.required:
                    raise invalid(
                        spec.name, "required", value, f"{spec.name} is required for {self.name}"
                    )
                continue
            for check in spec.checks:
                check(spec.name, value)
        for cross in self.cross:
            cross(task_input)
        return dict(task_input)

    def reject_unknown(self, task_input: Mapping[str, Any]) -> None:
        """InvalidInput for the first field this schema does not know, naming those it does."""
        known = [spec.name for spec in self.fields]
        for key in task_input:
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise InvalidInput(
                    f"input.{key}: unknown field for {self.name} (value {show(task_input[key])}); "
                    f"{hint}allowed fields: {', '.join(known)}",
                    field=str(key),
                    rule="unknown_field",
                    value=show(task_input[key]),
                )
