"""Broker subscriber URLs: parsing and validation (422 naming `url`), redaction, the SSRF check."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

from receiver.errors import InvalidInput
from receiver.fanout.ssrf import ForbiddenAddress, UrlGuard


@dataclass(frozen=True)
class BrokerUrl:
    """A parsed, validated broker URL (credentials kept, never shown)."""

    scheme: str
    host: str
    port: int
    tls: bool
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    path: str = ""
    options: Mapping[str, str] = field(default_factory=dict)


def redact_credentials(url: str) -> str:
    """The URL with its password (or lone token) replaced by `***`; all else kept."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, sep, _ = userinfo.partition(":")
    shown = f"{user}:***" if sep else "***"
    return parts._replace(netloc=f"{shown}@{hostport}").geturl()


def scrub(text: str, secrets: tuple[str | None, ...]) -> str:
    """`text` with every non-empty secret replaced by `***` (client errors may echo URLs)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return re.sub(r"(://[^:/@\s]*:)[^@\s]+@", r"\1***@", text)


def secrets_of(url: BrokerUrl) -> tuple[str | None, ...]:
    """What must never be shown: the password, or a user name standing alone (a token)."""
    return (url.password,) if url.password else (url.username,)


def parse_broker_url(
    url: str, schemes: Mapping[str, tuple[int, bool]], options: Mapping[str, str]
) -> BrokerUrl:
    """Check scheme, host, port and options; InvalidInput(field="url") saying what to fix."""
    parts = urlsplit(url)
    if parts.scheme not in schemes:
        raise InvalidInput(f"url must start with {' or '.join(f'{s}://' for s in schemes)}",
                           field="url")  # fmt: skip
    if not parts.hostname:
        raise InvalidInput(f"url has no host: use {parts.scheme}://host:port", field="url")
    default_port, tls = schemes[parts.scheme]
    try:
        port = default_port if parts.port is None else parts.port
    except ValueError:
        port = 0
    if not 0 < port < 65536:
        raise InvalidInput("url has an invalid port (use 1-65535)", field="url")
    if parts.fragment:
        raise InvalidInput("url must not have a #fragment", field="url")
    return BrokerUrl(
        parts.scheme, parts.hostname, port, tls,
        unquote(parts.username) if parts.username else None,
        unquote(parts.password) if parts.password else None,
        parts.path, _options(parts.query, options),
    )  # fmt: skip


def _options(query: str, known: Mapping[str, str]) -> dict[str, str]:
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise InvalidInput(f"url query {query!r} is not name=value pairs", field="url") from None
    found: dict[str, str] = {}
    for name, value in pairs:
        if name not in known:
            raise InvalidInput(
                f"url option {name!r} is unknown: use {', '.join(known)}", field="url"
            )
        if name in found or not value:
            raise InvalidInput(f"url option {name!r} must be given once, with a value",
                               field="url")  # fmt: skip
        found[name] = value
    return {**known, **found}


async def connect_host(guard: UrlGuard, url: BrokerUrl) -> str:
    """The address to connect to, vetted by the SSRF guard (TLS keeps the name for SNI)."""
    addresses = await guard.vetted_addresses(url.host, url.port)
    return url.host if url.tls else addresses[0]


async def vet_address(guard: UrlGuard, url: BrokerUrl) -> None:
    """At creation: refuse a broker host that resolves to an internal address."""
    try:
        await guard.vetted_addresses(url.host, url.port)
    except ForbiddenAddress as exc:
        raise InvalidInput(
            f"url {exc}; use a public address (or TASKHOOK_ALLOW_PRIVATE_SUBSCRIBERS=1 "
            "for a broker on your own network)",
            field="url",
        ) from exc
    except OSError as exc:
        raise InvalidInput(f"url host {url.host!r} does not resolve: {exc}", field="url") from exc


def check_plaintext(guard: UrlGuard, url: BrokerUrl, tls_scheme: str) -> None:
    """An unencrypted scheme needs the same setting as http:// webhooks."""
    if not url.tls and not guard.allow_http:
        raise InvalidInput(
            f"url {url.scheme}:// is unencrypted: use {tls_scheme}:// (or "
            "TASKHOOK_ALLOW_HTTP_SUBSCRIBERS=1 for a broker on your own network)",
            field="url",
        )
