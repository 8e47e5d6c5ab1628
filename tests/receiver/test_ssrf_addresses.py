"""The guard at delivery tries every resolved address that passes, through public httpx APIs."""

from __future__ import annotations

import pytest

from receiver.db import Database
from receiver.fanout.ssrf import ForbiddenAddress, UrlGuard
from receiver.settings import Settings
from tests.receiver.fanout_support import Recorder, complete, fanout, fast_settings
from tests.receiver.test_fanout_ssrf import PUBLIC, _resolver
from tests.support import live_server


async def test_forbidden_addresses_are_skipped_and_the_rest_kept_in_order() -> None:
    answers = {"mixed.test": ["10.0.0.1", PUBLIC, "127.0.0.1", "1.1.1.1"],
               "inside.test": ["10.0.0.1", "127.0.0.1"]}  # fmt: skip
    guard = UrlGuard(resolver=_resolver(answers))
    assert await guard.connectable_addresses("mixed.test", 443) == [PUBLIC, "1.1.1.1"]
    with pytest.raises(ForbiddenAddress, match=r"10\.0\.0\.1 \(private\)"):
        await guard.connectable_addresses("inside.test", 443)


async def test_delivery_falls_through_to_the_next_address(db: Database, settings: Settings) -> None:
    """The first address refuses the connection; the second one gets the delivery."""
    settings = fast_settings(settings)
    recorder = Recorder()
    answers = {"two.test": ["127.0.0.2", "127.0.0.1"]}  # the server listens on .1 only
    async with (
        live_server(recorder.app()) as base,
        fanout(db, settings, resolver=_resolver(answers)) as fo,
    ):
        port = base.rsplit(":", 1)[1]
        await fo.subs.create(f"http://two.test:{port}/hook", "webhook")
        await complete(db)
        await fo.drain(lambda: len(recorder.received) >= 1)
    assert recorder.received[0].headers["host"] == f"two.test:{port}"
