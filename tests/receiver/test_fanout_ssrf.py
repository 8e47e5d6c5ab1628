"""The subscriber URL guard: at creation, and at delivery against the address connected to."""

from __future__ import annotations

import pytest

from receiver.db import Database
from receiver.errors import InvalidInput
from receiver.fanout.ssrf import UrlGuard, forbidden_reason
from receiver.settings import Settings
from tests.receiver.fanout_support import Recorder, complete, delivery_states, fanout, fast_settings
from tests.support import live_server

PUBLIC = "93.184.216.34"


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "cloud metadata"),
        ("fd00:ec2::254", "cloud metadata"),
        ("169.254.10.10", "link-local"),
        ("fe80::1", "link-local"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("100.127.255.254", "carrier-grade NAT"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("::ffff:127.0.0.1", "loopback (IPv4 inside IPv6"),
        ("::ffff:169.254.169.254", "cloud metadata (IPv4 inside IPv6"),
        ("::ffff:10.0.0.1", "private (IPv4 inside IPv6"),
        ("::127.0.0.1", "loopback (IPv4 inside IPv6"),
        ("64:ff9b::a00:1", "private (IPv4 inside IPv6"),
        ("2002:7f00:1::", "loopback (IPv4 inside IPv6"),
    ],
)
def test_forbidden_addresses(address: str, reason: str) -> None:
    found = forbidden_reason(address)
    assert found is not None and found.startswith(reason)


@pytest.mark.parametrize("address", [PUBLIC, "8.8.8.8", "2606:4700:4700::1111", "100.128.0.1"])
def test_public_addresses_pass(address: str) -> None:
    assert forbidden_reason(address) is None


def _resolver(answers: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    async def resolve(host: str, _port: int) -> list[str]:
        return answers[host]

    return resolve


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("http://hooks.example/x", "https://"),
        ("ftp://hooks.example/x", "https://"),
        ("https://127.0.0.1/x", "loopback"),
        ("https://[::ffff:127.0.0.1]/x", "loopback"),
        ("https://10.0.0.7/x", "private"),
        ("https://169.254.169.254/latest/meta-data", "cloud metadata"),
        ("https://100.64.1.1/x", "carrier-grade NAT"),
        ("https://internal.example/x", "private"),
        ("https://user:pw@hooks.example/x", "user:password"),
        ("https:///x", "no host"),
    ],
)
async def test_creation_refuses(url: str, needle: str) -> None:
    guard = UrlGuard(
        resolver=_resolver({"hooks.example": [PUBLIC], "internal.example": [PUBLIC, "10.0.0.1"]})
    )
    with pytest.raises(InvalidInput) as info:
        await guard.check_url(url)
    assert info.value.field == "url" and needle in info.value.message


async def test_flags_relax_the_guard() -> None:
    resolver = _resolver({"hooks.example": [PUBLIC], "localhost": ["127.0.0.1"]})
    await UrlGuard(resolver=resolver).check_url("https://hooks.example/x")
    await UrlGuard(allow_http=True, resolver=resolver).check_url("http://hooks.example/x")
    with pytest.raises(InvalidInput, match="ALLOW_PRIVATE"):
        await UrlGuard(allow_http=True, resolver=resolver).check_url("http://localhost/x")
    await UrlGuard(allow_http=True, allow_private=True, resolver=resolver).check_url(
        "http://localhost/x"
    )


async def test_dns_rebinding_is_caught_at_delivery(db: Database, settings: Settings) -> None:
    """Public at creation, loopback at delivery: the connection is refused, nothing arrives."""
    settings = fast_settings(settings, allow_private_subscribers=False)
    answers = {"rebind.test": [PUBLIC]}
    recorder = Recorder()
    async with (
        live_server(recorder.app()) as base,
        fanout(db, settings, resolver=_resolver(answers)) as fo,
    ):
        port = base.rsplit(":", 1)[1]
        await fo.subs.create(f"http://rebind.test:{port}/hook", "webhook")
        answers["rebind.test"] = ["127.0.0.1"]
        await complete(db)
        await fo.drain(lambda: _dead(db))
    assert recorder.received == []
    errors = await db.fetchall("SELECT error FROM attempts")
    assert len(errors) == 3 and all("127.0.0.1 (loopback)" in e["error"] for e in errors)


async def test_delivery_connects_to_the_vetted_address(db: Database, settings: Settings) -> None:
    """The client connects to the IP our resolver chose (this name is unknown to real DNS)."""
    settings = fast_settings(settings)
    recorder = Recorder()
    async with (
        live_server(recorder.app()) as base,
        fanout(db, settings, resolver=_resolver({"only-ours.test": ["127.0.0.1"]})) as fo,
    ):
        port = base.rsplit(":", 1)[1]
        await fo.subs.create(f"http://only-ours.test:{port}/hook", "webhook")
        await complete(db)
        await fo.drain(lambda: len(recorder.received) >= 1)
    assert recorder.received[0].headers["host"] == f"only-ours.test:{port}"


async def _dead(db: Database) -> bool:
    return await delivery_states(db) == ["dead"]
