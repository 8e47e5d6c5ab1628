"""Signature schemes, checked against signatures the tests make themselves."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from standardwebhooks.webhooks import Webhook
from starlette.datastructures import Headers

from receiver.errors import ConfigError, VerificationFailed
from receiver.signatures import StandardWebhookVerifier, verify_kie

KIE_KEY = "kie-webhook-key-for-tests"
TASK = "task_0123456789abcdef"
WHSEC = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


def kie_headers(key: str, task_id: str, ts: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if ts is None else ts)
    digest = hmac.new(key.encode(), f"{task_id}.{stamp}".encode(), hashlib.sha256).digest()
    return {"X-Webhook-Timestamp": stamp, "X-Webhook-Signature": base64.b64encode(digest).decode()}


def check_kie(headers: dict[str, str], task_id: str = TASK, key: str = KIE_KEY) -> None:
    verify_kie(key, task_id, Headers(headers), tolerance_s=300)


def test_kie_valid_signature_passes() -> None:
    check_kie(kie_headers(KIE_KEY, TASK))


def _kie_case(case: str) -> dict[str, str]:
    """Headers for one rejection case, built at run time (timestamps must be fresh)."""
    now = int(time.time())
    good = kie_headers(KIE_KEY, TASK)
    return {
        "wrong-key": kie_headers("another-key", TASK),
        "other-task": kie_headers(KIE_KEY, "task_other"),
        "no-ts": {"X-Webhook-Signature": good["X-Webhook-Signature"]},
        "no-sig": {"X-Webhook-Timestamp": good["X-Webhook-Timestamp"]},
        "stale": kie_headers(KIE_KEY, TASK, now - 600),
        "future": kie_headers(KIE_KEY, TASK, now + 600),
        "bad-ts": {**good, "X-Webhook-Timestamp": "17e8"},
        "bad-b64": {**good, "X-Webhook-Signature": "not base64!"},
    }[case]


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("wrong-key", "does not match"),
        ("other-task", "does not match"),
        ("no-ts", "missing x-webhook-timestamp"),
        ("no-sig", "missing x-webhook-signature"),
        ("stale", "stale"),
        ("future", "future"),
        ("bad-ts", "Unix seconds"),
        ("bad-b64", "base64"),
    ],
)
def test_kie_rejections_say_why_in_the_reason(case: str, reason: str) -> None:
    with pytest.raises(VerificationFailed) as caught:
        check_kie(_kie_case(case))
    assert reason in caught.value.reason
    assert caught.value.message == "callback authentication failed"  # generic to the caller


def test_kie_tolerance_is_configurable_both_ways() -> None:
    old = kie_headers(KIE_KEY, TASK, int(time.time()) - 50)
    verify_kie(KIE_KEY, TASK, Headers(old), tolerance_s=60)
    with pytest.raises(VerificationFailed):
        verify_kie(KIE_KEY, TASK, Headers(old), tolerance_s=10)


def sw_v1(secret: str, msg_id: str, ts: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    content = f"{msg_id}.{ts}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


def sw_headers(msg_id: str, ts: int, signature: str) -> Headers:
    return Headers(
        {"webhook-id": msg_id, "webhook-timestamp": str(ts), "webhook-signature": signature}
    )


def test_standard_webhooks_v1_own_signature() -> None:
    body = b'{"data": {"task_id": "x", "status": "succeeded"}}'
    ts = int(time.time())
    verifier = StandardWebhookVerifier.from_secret(WHSEC)
    assert (
        verifier.verify(sw_headers("msg_1", ts, sw_v1(WHSEC, "msg_1", ts, body)), body) == "msg_1"
    )


def test_standard_webhooks_v1_matches_the_reference_library() -> None:
    body = '{"type": "task.succeeded", "data": {"task_id": "é", "status": "succeeded"}}'
    now = datetime.now(tz=UTC)
    signature = Webhook(WHSEC).sign("msg_ref", now, body)
    headers = sw_headers("msg_ref", int(now.timestamp()), signature)
    StandardWebhookVerifier.from_secret(WHSEC).verify(headers, body.encode())
    # and the reference library accepts what our test signer makes
    ts = int(time.time())
    ours = sw_v1(WHSEC, "msg_2", ts, body.encode())
    Webhook(WHSEC).verify(body, dict(sw_headers("msg_2", ts, ours)))


def test_standard_webhooks_any_listed_signature_wins() -> None:
    body = b"{}"
    ts = int(time.time())
    good = sw_v1(WHSEC, "m", ts, body)
    listed = f"v1,{base64.b64encode(b'x' * 32).decode()} v1a,AAAA {good}"
    StandardWebhookVerifier.from_secret(WHSEC).verify(sw_headers("m", ts, listed), body)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("body", "no v1 signature"),
        ("key", "no v1 signature"),
        ("stale", "stale"),
        ("future", "future"),
        ("missing", "missing webhook-signature"),
    ],
)
def test_standard_webhooks_v1_rejections(change: str, reason: str) -> None:
    body = b'{"a": 1}'
    ts = int(time.time()) + {"stale": -600, "future": 600}.get(change, 0)
    secret = "whsec_" + base64.b64encode(b"another-secret-0123456789").decode()
    signature = sw_v1(secret if change == "key" else WHSEC, "m", ts, body)
    headers = dict(sw_headers("m", ts, signature))
    if change == "missing":
        del headers["webhook-signature"]
    sent = b'{"a": 2}' if change == "body" else body
    with pytest.raises(VerificationFailed) as caught:
        StandardWebhookVerifier.from_secret(WHSEC).verify(Headers(headers), sent)
    assert reason in caught.value.reason


def ed25519_pair() -> tuple[Ed25519PrivateKey, str]:
    private = Ed25519PrivateKey.generate()
    raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return private, "whpk_" + base64.b64encode(raw).decode()


def test_standard_webhooks_v1a_ed25519() -> None:
    private, public = ed25519_pair()
    body = b'{"data": {"task_id": "t1", "status": "failed"}}'
    ts = int(time.time())
    sig = "v1a," + base64.b64encode(private.sign(f"m1.{ts}.".encode() + body)).decode()
    verifier = StandardWebhookVerifier.from_secret(public)
    verifier.verify(sw_headers("m1", ts, sig), body)
    with pytest.raises(VerificationFailed):
        verifier.verify(sw_headers("m1", ts, sig), body + b" ")
    other, _ = ed25519_pair()
    forged = "v1a," + base64.b64encode(other.sign(f"m1.{ts}.".encode() + body)).decode()
    with pytest.raises(VerificationFailed):
        verifier.verify(sw_headers("m1", ts, forged), body)
    # a v1 (HMAC) signature never satisfies a v1a source
    with pytest.raises(VerificationFailed):
        verifier.verify(sw_headers("m1", ts, sw_v1(WHSEC, "m1", ts, body)), body)


@pytest.mark.parametrize(
    "secret", ["plain", "whsec_***", "whpk_" + base64.b64encode(b"short").decode()]
)
def test_bad_source_secrets_are_config_errors(secret: str) -> None:
    with pytest.raises(ConfigError):
        StandardWebhookVerifier.from_secret(secret)
