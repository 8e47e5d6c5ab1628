"""Custom headers on a webhook subscriber (e.g. an API key the receiving end requires).

At most `MAX_HEADERS`; names are HTTP tokens and may not touch the signature, framing or
hop-by-hop headers; values are stored encrypted (names in the clear, so they can be shown)
and shown as `***`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from receiver.errors import InvalidInput
from receiver.secretbox import SecretBox
from receiver.store.jsonutil import dumps, loads

MAX_HEADERS = 10
MAX_NAME_CHARS = 64
MAX_VALUE_CHARS = 2048
REDACTED = "***"
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_VALUE = re.compile(r"^[\t\x20-\x7e\x80-\xff]*$")
RESERVED = frozenset({
    "webhook-id", "webhook-timestamp", "webhook-signature", "host", "connection",
    "transfer-encoding", "te", "trailer", "upgrade", "keep-alive", "expect", "user-agent",
})  # fmt: skip
RESERVED_PREFIXES = ("content-", "proxy-", "webhook-")


def parse_headers(raw: Any) -> dict[str, str]:
    """`{"X-Api-Key": "..."}` -> validated headers; InvalidInput (field `headers`) if bad."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise InvalidInput('headers must be an object like {"X-Api-Key": "..."}', field="headers")
    if len(raw) > MAX_HEADERS:
        raise InvalidInput(f"at most {MAX_HEADERS} headers, got {len(raw)}", field="headers")
    seen: set[str] = set()
    for name, value in raw.items():
        _check_name(name)
        if name.lower() in seen:
            raise InvalidInput(f"header {name!r} is given twice", field="headers")
        seen.add(name.lower())
        if not isinstance(value, str) or len(value) > MAX_VALUE_CHARS or not _VALUE.match(value):
            raise InvalidInput(
                f"header {name}: the value must be text on one line, at most "
                f"{MAX_VALUE_CHARS} characters", field="headers",
            )  # fmt: skip
    return dict(raw)


def _check_name(name: Any) -> None:
    if not isinstance(name, str) or not _TOKEN.match(name) or len(name) > MAX_NAME_CHARS:
        raise InvalidInput(f"header name {name!r} is not a valid HTTP header name", field="headers")
    lowered = name.lower()
    if lowered in RESERVED or lowered.startswith(RESERVED_PREFIXES):
        raise InvalidInput(
            f"header {name} cannot be set: taskhook sets it (signature and framing "
            "headers cannot be overridden)", field="headers",
        )  # fmt: skip


def parse_header_args(items: list[str]) -> dict[str, str]:
    """CLI `--header 'Name: value'` (repeatable) -> validated headers."""
    found: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise InvalidInput(f"--header {item!r}: use 'Name: value'", field="headers")
        found[name.strip()] = value.strip()
    return parse_headers(found)


def seal(box: SecretBox, sub_id: str, headers: Mapping[str, str]) -> str | None:
    """The stored form: names in the clear, each value encrypted; None when there are none."""
    if not headers:
        return None
    context = f"{sub_id}/headers"
    return dumps({name: box.encrypt(value, context) for name, value in headers.items()})


def unseal(box: SecretBox, sub_id: str, stored: str | None) -> tuple[tuple[str, str], ...]:
    """The headers to send, decrypted."""
    sealed: dict[str, str] = loads(stored) or {}
    context = f"{sub_id}/headers"
    return tuple((name, box.decrypt(value, context)) for name, value in sealed.items())


def redacted(stored: str | None) -> dict[str, str]:
    """What the API shows: the names, never the values."""
    sealed: dict[str, str] = loads(stored) or {}
    return {name: REDACTED for name in sealed}
