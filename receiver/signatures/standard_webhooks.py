"""Standard Webhooks (https://www.standardwebhooks.com): signing what we send, verifying
what we receive, in one place.

Headers `webhook-id`, `webhook-timestamp` (Unix seconds), `webhook-signature`: a
space-separated list of `version,base64-signature`; any one that verifies wins.
Signed content: `{webhook-id}.{webhook-timestamp}.{raw body}`.

- `v1`: HMAC-SHA256 keyed with the base64-decoded secret after its `whsec_` prefix.
- `v1a`: Ed25519, checked against the base64-decoded public key after its `whpk_` prefix.

taskhook signs its own webhooks with `v1` (`new_secret`, `signature_header`) and verifies
either scheme on inbound callbacks (`StandardWebhookVerifier`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from receiver.errors import ConfigError, InvalidInput, VerificationFailed
from receiver.signatures.kie import DEFAULT_TOLERANCE_S, check_timestamp

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
HMAC_PREFIX = "whsec_"
PUBLIC_KEY_PREFIX = "whpk_"
_MAX_SIGNATURES = 20
SECRET_BYTES = 24


def new_secret() -> str:
    """A fresh `whsec_...` signing secret."""
    return HMAC_PREFIX + base64.b64encode(os.urandom(SECRET_BYTES)).decode()


def secret_bytes(secret: str) -> bytes:
    """The HMAC key inside a `whsec_` secret."""
    encoded = secret.removeprefix(HMAC_PREFIX)
    try:
        return base64.b64decode(encoded, validate=True)
    except ValueError:
        raise InvalidInput("a signing secret must be whsec_<base64>", field="secret") from None


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<base64>` signature of `{msg_id}.{timestamp}.{body}`."""
    signed = b"%s.%d.%s" % (msg_id.encode(), timestamp, body)
    digest = hmac.new(secret_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: one signature per secret (rotation), space separated."""
    return " ".join(sign(secret, msg_id, timestamp, body) for secret in secrets)


@dataclass(frozen=True)
class StandardWebhookVerifier:
    """Verifies one source's requests: `v1` with an HMAC secret or `v1a` with a public key."""

    version: str
    hmac_key: bytes | None = None
    public_key: Ed25519PublicKey | None = None
    tolerance_s: float = DEFAULT_TOLERANCE_S

    @classmethod
    def from_secret(
        cls, secret: str, *, tolerance_s: float = DEFAULT_TOLERANCE_S
    ) -> StandardWebhookVerifier:
        """Build from `whsec_<base64>` (v1) or `whpk_<base64 Ed25519 key>` (v1a)."""
        if secret.startswith(HMAC_PREFIX):
            key = _b64(secret[len(HMAC_PREFIX) :], "the whsec_ secret")
            return cls("v1", hmac_key=key, tolerance_s=tolerance_s)
        if secret.startswith(PUBLIC_KEY_PREFIX):
            raw = _b64(secret[len(PUBLIC_KEY_PREFIX) :], "the whpk_ public key")
            try:
                public = Ed25519PublicKey.from_public_bytes(raw)
            except ValueError:
                raise ConfigError("the whpk_ public key is not a 32-byte Ed25519 key") from None
            return cls("v1a", public_key=public, tolerance_s=tolerance_s)
        raise ConfigError("a Standard Webhooks secret starts with whsec_ (HMAC) or whpk_ (Ed25519)")

    def verify(self, headers: Mapping[str, str], body: bytes, *, now_s: float | None = None) -> str:
        """Check the three headers against `body`; return the webhook id, else raise."""
        msg_id = _required(headers, ID_HEADER)
        timestamp = _required(headers, TIMESTAMP_HEADER)
        signatures = _required(headers, SIGNATURE_HEADER)
        check_timestamp(timestamp, self.tolerance_s, now_s)
        # Starlette decodes header bytes as latin-1: encoding back gives the bytes as sent.
        content = f"{msg_id}.{timestamp.strip()}.".encode("latin-1", "replace") + body
        candidates = signatures.split()[:_MAX_SIGNATURES]
        if not any(self._matches(candidate, content) for candidate in candidates):
            raise VerificationFailed(f"no {self.version} signature matches")
        return msg_id

    def _matches(self, candidate: str, content: bytes) -> bool:
        version, _, encoded = candidate.partition(",")
        if version != self.version:
            return False
        try:
            signature = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            return False
        if self.hmac_key is not None:
            expected = hmac.new(self.hmac_key, content, hashlib.sha256).digest()
            return hmac.compare_digest(signature, expected)
        if self.public_key is None:
            return False
        try:
            self.public_key.verify(signature, content)
        except InvalidSignature:
            return False
        return True


def _required(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if not value:
        raise VerificationFailed(f"missing {name} header")
    return value


def _b64(text: str, what: str) -> bytes:
    try:
        value = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(f"{what} is not valid base64") from None
    if not value:
        raise ConfigError(f"{what} is empty")
    return value
