"""Standard Webhooks signatures: `v1,<base64 HMAC-SHA256(id.timestamp.body)>`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Sequence

from receiver.errors import InvalidInput

PREFIX = "whsec_"
SECRET_BYTES = 24


def new_secret() -> str:
    """A fresh `whsec_...` signing secret."""
    return PREFIX + base64.b64encode(os.urandom(SECRET_BYTES)).decode()


def secret_bytes(secret: str) -> bytes:
    """The HMAC key inside a `whsec_` secret."""
    encoded = secret.removeprefix(PREFIX)
    try:
        return base64.b64decode(encoded, validate=True)
    except ValueError:
        raise InvalidInput("a signing secret must be whsec_<base64>", field="secret") from None


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<base64>` signature."""
    signed = b"%s.%d.%s" % (msg_id.encode(), timestamp, body)
    digest = hmac.new(secret_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: one signature per secret, space separated."""
    return " ".join(sign(secret, msg_id, timestamp, body) for secret in secrets)
