"""The subscriber URL guard (SSRF): https only, and never an internal address.

Checked when a subscriber is created and again on every connection, against the
address actually connected to: the HTTP client's network backend resolves the host
itself, refuses forbidden addresses and connects to the vetted IP (TLS still uses the
host name for SNI and certificate checks), so DNS rebinding gains nothing.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpcore

from receiver.errors import InvalidInput

Resolver = Callable[[str, int], Awaitable[list[str]]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
CGNAT = ipaddress.ip_network("100.64.0.0/10")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
V4_COMPAT = ipaddress.ip_network("::/96")
_CHECKS: tuple[tuple[str, str], ...] = (
    ("is_loopback", "loopback"),
    ("is_link_local", "link-local"),
    ("is_multicast", "multicast"),
    ("is_unspecified", "unspecified"),
    ("is_reserved", "reserved"),
    ("is_private", "private"),
)


class ForbiddenAddress(httpcore.ConnectError):
    """A subscriber host resolved to an address the guard refuses."""


async def system_resolver(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (asyncio's getaddrinfo, off the event loop)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _embedded_v4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if (ip in NAT64 or ip in V4_COMPAT) and int(ip) > 1:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def forbidden_reason(address: str) -> str | None:
    """Why `address` may not be a subscriber's (e.g. "loopback"), or None when it may."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    inner = _embedded_v4(ip)
    if inner is not None:
        reason = forbidden_reason(str(inner))
        if reason:
            return f"{reason} (IPv4 inside IPv6 {ip})"
    if ip in METADATA:
        return "cloud metadata"
    if isinstance(ip, ipaddress.IPv4Address) and ip in CGNAT:
        return "carrier-grade NAT (100.64.0.0/10)"
    for attribute, label in _CHECKS:
        if getattr(ip, attribute):
            return label
    return None if ip.is_global else "not public"


class UrlGuard:
    """Applies the settings' subscriber URL rules; `resolver` is injectable for tests."""

    def __init__(
        self,
        *,
        allow_http: bool = False,
        allow_private: bool = False,
        resolver: Resolver = system_resolver,
    ) -> None:
        self.allow_http = allow_http
        self.allow_private = allow_private
        self.resolver = resolver

    def check_syntax(self, url: str) -> tuple[str, int]:
        """The host and port of an acceptable URL; InvalidInput saying what to fix."""
        parts = urlsplit(url)
        allowed = ("https", "http") if self.allow_http else ("https",)
        if parts.scheme not in allowed:
            hint = "" if self.allow_http else " (http needs TASKHOOK_ALLOW_HTTP_SUBSCRIBERS=1)"
            raise InvalidInput(f"url must start with https://{hint}", field="url")
        if not parts.hostname:
            raise InvalidInput("url has no host: use https://host/path", field="url")
        if parts.username or parts.password:
            raise InvalidInput("url must not carry user:password@", field="url")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise InvalidInput("url has an invalid port", field="url") from None
        return parts.hostname, port

    async def check_url(self, url: str) -> None:
        """Refuse a URL that is not https or resolves to an internal address."""
        host, port = self.check_syntax(url)
        try:
            await self.vetted_addresses(host, port)
        except ForbiddenAddress as exc:
            raise InvalidInput(
                f"url {exc}; use a public address (or TASKHOOK_ALLOW_PRIVATE_SUBSCRIBERS=1 "
                "for local testing)",
                field="url",
            ) from exc
        except OSError as exc:
            raise InvalidInput(f"url host {host!r} does not resolve: {exc}", field="url") from exc

    async def connectable_addresses(self, host: str, port: int) -> list[str]:
        """The addresses of `host` the guard lets a delivery connect to, in resolver order.

        Forbidden ones are skipped; ForbiddenAddress when none is left.
        """
        try:
            return await self.vetted_addresses(host, port)
        except ForbiddenAddress as refused:
            if self.allow_private:
                raise
            addresses = await self.resolver(host, port)
            allowed = [a for a in addresses if forbidden_reason(a) is None]
            if not allowed:
                raise refused from None
            return allowed

    async def vetted_addresses(self, host: str, port: int) -> list[str]:
        """The addresses of `host`; ForbiddenAddress if any of them is internal."""
        try:
            addresses = [str(ipaddress.ip_address(host.strip("[]")))]
        except ValueError:
            addresses = await self.resolver(host, port)
        if not addresses:
            raise OSError(f"no address for {host}")
        if not self.allow_private:
            for address in addresses:
                reason = forbidden_reason(address)
                if reason:
                    raise ForbiddenAddress(f"host {host} resolves to {address} ({reason})")
        return addresses


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's AnyIO backend, but it resolves hosts itself and connects to vetted IPs."""

    def __init__(self, guard: UrlGuard) -> None:
        self._guard = guard
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore calls us with it
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Connect to the vetted addresses of `host`, each in turn, until one answers."""
        try:
            with anyio.fail_after(timeout):
                addresses = await self._guard.connectable_addresses(host, port)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
        except ForbiddenAddress:
            raise
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        raise failure or httpcore.ConnectError(f"no address to connect to for {host}")

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore calls us with it
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Unix sockets are never a subscriber."""
        raise ForbiddenAddress("unix sockets are not allowed for subscribers")

    async def sleep(self, seconds: float) -> None:
        """Sleep (httpcore's retry waits)."""
        await anyio.sleep(seconds)
