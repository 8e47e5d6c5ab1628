"""The subscribers' HTTP transport: httpx's public transport interface over an httpcore
connection pool whose network backend is the SSRF guard (`ssrf.GuardedBackend`).

Built only from public extension points (`httpx.AsyncBaseTransport`,
`httpcore.AsyncConnectionPool(network_backend=...)`), so no httpx upgrade can silently
swap the guarded pool out; `tests/receiver/test_fanout_ssrf.py`'s DNS-rebinding test is
the tripwire. Never uses proxies or the environment.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from types import TracebackType
from typing import cast

import httpcore
import httpx

from receiver.fanout.ssrf import GuardedBackend, UrlGuard


@contextlib.contextmanager
def _httpx_errors() -> Iterator[None]:
    """httpcore's exceptions as httpx's classes of the same name (the message kept)."""
    try:
        yield
    except httpcore.ConnectError as exc:
        raise httpx.ConnectError(str(exc)) from exc
    except httpcore.TimeoutException as exc:
        raise getattr(httpx, type(exc).__name__, httpx.TimeoutException)(str(exc)) from exc
    except httpcore.NetworkError as exc:
        raise getattr(httpx, type(exc).__name__, httpx.NetworkError)(str(exc)) from exc
    except httpcore.ProtocolError as exc:
        raise getattr(httpx, type(exc).__name__, httpx.ProtocolError)(str(exc)) from exc
    except httpcore.UnsupportedProtocol as exc:
        raise httpx.UnsupportedProtocol(str(exc)) from exc


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, inner: AsyncIterable[bytes]) -> None:
        self._inner = inner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _httpx_errors():
            async for part in self._inner:
                yield part

    async def aclose(self) -> None:
        close = getattr(self._inner, "aclose", None)
        if close is not None:
            await close()


class GuardedTransport(httpx.AsyncBaseTransport):
    """An httpx transport whose every connection goes through the guard; no proxies."""

    def __init__(self, guard: UrlGuard, *, max_connections: int = 100) -> None:
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=max_connections,
            # keep every connection a busy delivery worker uses: closing some after each
            # answer would cost a new TCP connection (and guard check) per delivery
            max_keepalive_connections=max_connections,
            keepalive_expiry=5.0,
            network_backend=GuardedBackend(guard),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send `request` through the guarded pool."""
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=cast(AsyncIterable[bytes], request.stream),
            extensions=request.extensions,
        )
        with _httpx_errors():
            answer = await self._pool.handle_async_request(core)
        return httpx.Response(
            status_code=answer.status,
            headers=answer.headers,
            stream=_ResponseStream(cast(AsyncIterable[bytes], answer.stream)),
            extensions=answer.extensions,
        )

    async def aclose(self) -> None:
        """Close every pooled connection."""
        await self._pool.aclose()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        await self.aclose()
