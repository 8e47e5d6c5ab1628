"""Subscriber secrets at rest: AES-GCM under a key derived (HKDF) from TASKHOOK_SECRET_KEY."""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from receiver.errors import ConfigError

VERSION = "v1"
_INFO = b"taskhook subscriber secrets v1"
_NONCE_BYTES = 12


class SecretBox:
    """Encrypts and decrypts short secrets; `context` (e.g. the subscriber id) is bound in."""

    def __init__(self, secret_key: str | None) -> None:
        if not secret_key:
            raise ConfigError(
                "TASKHOOK_SECRET_KEY is not set: subscriber secrets cannot be encrypted; "
                "export TASKHOOK_SECRET_KEY=$(openssl rand -hex 32)"
            )
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO)
        self._aead = AESGCM(hkdf.derive(secret_key.encode()))

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"

    def encrypt(self, plaintext: str, context: str) -> str:
        """`v1:<base64(nonce + ciphertext)>`."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return f"{VERSION}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str, context: str) -> str:
        """The plaintext; ConfigError when the key is not the one that encrypted it."""
        version, _, packed = token.partition(":")
        try:
            if version != VERSION:
                raise ValueError(version)
            raw = base64.b64decode(packed, validate=True)
            plain = self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode())
        except (ValueError, InvalidTag) as exc:
            raise ConfigError(
                f"cannot decrypt the secret of {context}: TASKHOOK_SECRET_KEY differs from the "
                "key it was stored with (restore that key, or rotate the subscriber's secret)"
            ) from exc
        return plain.decode()
