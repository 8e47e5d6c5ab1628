"""Request bodies name only the fields a route knows: anything else is a 422, not ignored.

A misspelt field that is silently dropped (`thne` for `then`) loses what the caller meant;
the answer names the field and, where one is close, the known name it was probably meant
to be.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

from receiver.errors import InvalidInput

MAX_SHOWN_NAME_CHARS = 60


def reject_unknown_fields(
    body: Mapping[str, Any], known: Sequence[str], *, prefix: str = ""
) -> None:
    """InvalidInput (422, `rule` unknown_field) for the first key of `body` not in `known`."""
    for key in body:
        if key in known:
            continue
        name = str(key)[:MAX_SHOWN_NAME_CHARS]
        close = difflib.get_close_matches(name, list(known), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise InvalidInput(
            f"{prefix}{name}: unknown field; {hint}allowed fields: {', '.join(known)}",
            field=f"{prefix}{name}",
            rule="unknown_field",
        )
