"""`ShardedTransport`: many concurrent requests spread over several small connection pools.

httpcore's pool looks at every connection it holds each time a request starts or ends
(is it closed? expired? idle?), so its cost per request grows with the pool: with 64
requests in flight to one provider, that bookkeeping was the largest single cost of a
callback burst (bench/drain.py, py-spy). Several small pools hold the same connections
with a fraction of the bookkeeping. Each request goes to the shard with the fewest
requests in flight; everything else is httpx's own transport.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx

DEFAULT_SHARD_SIZE = 16


class ShardedTransport(httpx.AsyncBaseTransport):
    """Routes each request to the least busy of `shards` transports made by `make`."""

    def __init__(self, make: Callable[[], httpx.AsyncBaseTransport], shards: int) -> None:
        self._shards = [make() for _ in range(max(1, shards))]
        self._busy = [0] * len(self._shards)

    @classmethod
    def for_concurrency(cls, concurrency: int) -> ShardedTransport:
        """Enough shards of `DEFAULT_SHARD_SIZE` connections for `concurrency` requests."""
        shards = -(-max(1, concurrency) // DEFAULT_SHARD_SIZE)
        limits = httpx.Limits(max_connections=DEFAULT_SHARD_SIZE * 2,
                              max_keepalive_connections=DEFAULT_SHARD_SIZE)  # fmt: skip
        return cls(lambda: httpx.AsyncHTTPTransport(limits=limits), shards)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send on the least busy shard; it counts as busy until the body is closed."""
        index = min(range(len(self._busy)), key=self._busy.__getitem__)
        self._busy[index] += 1
        try:
            response = await self._shards[index].handle_async_request(request)
        except BaseException:
            self._busy[index] -= 1
            raise
        stream = response.stream
        if not isinstance(stream, httpx.AsyncByteStream):
            self._busy[index] -= 1
            raise TypeError("an async transport answered with a sync body")
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_Counted(stream, lambda: self._release(index)),
            extensions=response.extensions,
        )

    def _release(self, index: int) -> None:
        self._busy[index] -= 1

    async def aclose(self) -> None:
        """Close every shard."""
        for shard in self._shards:
            await shard.aclose()


class _Counted(httpx.AsyncByteStream):
    """A response body that reports once when it is closed."""

    def __init__(self, stream: httpx.AsyncByteStream, done: Callable[[], None]) -> None:
        self._stream = stream
        self._done: Callable[[], None] | None = done

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            if self._done is not None:
                done, self._done = self._done, None
                done()
