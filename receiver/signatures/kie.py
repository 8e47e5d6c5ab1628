"""kie.ai callback signatures.

kie signs only the task id and a timestamp, never the body:
`X-Webhook-Signature = base64(HMAC-SHA256(key, taskId + "." + X-Webhook-Timestamp))`.
A verified callback proves which task finished, not what its result is.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping

from receiver.digits import ascii_int
from receiver.errors import VerificationFailed

TIMESTAMP_HEADER = "x-webhook-timestamp"
SIGNATURE_HEADER = "x-webhook-signature"
DEFAULT_TOLERANCE_S = 300.0
_MAX_TIMESTAMP_CHARS = 20


def kie_signature(key: str, task_id: str, timestamp: str) -> bytes:
    """The raw HMAC-SHA256 digest kie sends (base64-encoded) for `task_id` at `timestamp`."""
    message = f"{task_id}.{timestamp}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).digest()


def check_timestamp(raw: str, tolerance_s: float, now_s: float | None = None) -> int:
    """Parse a Unix-seconds timestamp and refuse it outside `tolerance_s` either way."""
    stamp = ascii_int(raw.strip(), max_digits=_MAX_TIMESTAMP_CHARS)
    if stamp is None:
        raise VerificationFailed("timestamp header is not Unix seconds")
    now = time.time() if now_s is None else now_s
    if stamp < now - tolerance_s:
        raise VerificationFailed(f"timestamp is stale ({now - stamp:.0f} s old)")
    if stamp > now + tolerance_s:
        raise VerificationFailed(f"timestamp is in the future ({stamp - now:.0f} s ahead)")
    return stamp


def decode_base64(text: str) -> bytes:
    """Strict base64 (standard or URL-safe alphabet); VerificationFailed when it is not."""
    try:
        cleaned = text.strip().replace("-", "+").replace("_", "/").encode("ascii")
        return base64.b64decode(cleaned + b"=" * (-len(cleaned) % 4), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise VerificationFailed("signature is not base64") from None


def verify_kie(
    key: str,
    task_id: str,
    headers: Mapping[str, str],
    *,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
    now_s: float | None = None,
) -> None:
    """Check kie's signature headers for `task_id`; raise VerificationFailed(reason) if wrong."""
    timestamp = headers.get(TIMESTAMP_HEADER)
    signature = headers.get(SIGNATURE_HEADER)
    if not timestamp:
        raise VerificationFailed(f"missing {TIMESTAMP_HEADER} header")
    if not signature:
        raise VerificationFailed(f"missing {SIGNATURE_HEADER} header")
    check_timestamp(timestamp, tolerance_s, now_s)
    given = decode_base64(signature)
    expected = kie_signature(key, task_id, timestamp.strip())
    if not hmac.compare_digest(given, expected):
        raise VerificationFailed("kie signature does not match (wrong key or task id)")
