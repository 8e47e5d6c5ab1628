"""`ShardedTransport`: concurrent requests spread over the shards, each released on close."""

from __future__ import annotations

import asyncio

import httpx

from receiver.sharded_transport import ShardedTransport


async def test_concurrent_requests_spread_evenly_and_are_released() -> None:
    seen: list[int] = []
    gate = asyncio.Event()

    def make(index: int) -> httpx.AsyncBaseTransport:
        async def answer(request: httpx.Request) -> httpx.Response:
            seen.append(index)
            await gate.wait()
            return httpx.Response(200, text=f"shard {index}")

        return httpx.MockTransport(answer)

    counter = iter(range(3))
    transport = ShardedTransport(lambda: make(next(counter)), shards=3)
    async with httpx.AsyncClient(transport=transport, base_url="http://x") as client:
        pending = [asyncio.create_task(client.get("/")) for _ in range(9)]
        while len(seen) < 9:
            await asyncio.sleep(0)
        assert sorted(seen) == [0, 0, 0, 1, 1, 1, 2, 2, 2]  # least busy first
        gate.set()
        answers = await asyncio.gather(*pending)
    assert all(a.status_code == 200 and a.text.startswith("shard") for a in answers)
    assert transport._busy == [0, 0, 0]  # every body closed: nothing counted as in flight


async def test_a_failed_request_does_not_stay_counted() -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    transport = ShardedTransport(lambda: httpx.MockTransport(broken), shards=2)
    async with httpx.AsyncClient(transport=transport, base_url="http://x") as client:
        for _ in range(3):
            try:
                await client.get("/")
            except httpx.ConnectError:
                pass
    assert transport._busy == [0, 0]


def test_enough_shards_for_the_concurrency() -> None:
    assert len(ShardedTransport.for_concurrency(64)._shards) == 4
    assert len(ShardedTransport.for_concurrency(1)._shards) == 1
