"""Signed, expiring links to archived files: `/media/{task_id}/{name}?expires=&signature=`.

The signature is an HMAC-SHA256 (under a key derived from the secret key) over the
task id, the file name and the expiry time, so a link cannot be stretched or moved.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from urllib.parse import quote

SAFE_PART = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_KEY_CONTEXT = b"taskhook media links v1\x00"


def safe_part(text: str) -> bool:
    """True for a task id or file name usable as one path segment (no `..`, no `/`)."""
    return bool(SAFE_PART.match(text)) and ".." not in text


class LinkSigner:
    """Makes and checks the expiring links of the file store."""

    def __init__(self, secret_key: str, base_url: str) -> None:
        self._key = hashlib.sha256(_KEY_CONTEXT + secret_key.encode()).digest()
        self._base = base_url.rstrip("/")

    def _signature(self, task_id: str, name: str, expires: int) -> str:
        message = f"{task_id}/{name}\n{expires}".encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def link(self, task_id: str, name: str, *, ttl_s: float, now_s: float | None = None) -> str:
        """A URL to the file valid for `ttl_s` seconds."""
        expires = int((time.time() if now_s is None else now_s) + ttl_s)
        signature = self._signature(task_id, name, expires)
        path = f"/media/{quote(task_id)}/{quote(name)}"
        return f"{self._base}{path}?expires={expires}&signature={signature}"

    def valid(self, task_id: str, name: str, expires: str, signature: str) -> bool:
        """True when the signature matches and the link has not expired."""
        try:
            when = int(expires)
        except ValueError:
            return False
        if when < time.time():
            return False
        expected = self._signature(task_id, name, when)
        return hmac.compare_digest(expected.encode(), signature.encode())
