"""Streaming one result file from the provider into the media store.

Constant memory whatever the size: the body goes through in chunks, hashed and
counted on the way, and the download stops as soon as it passes the size cap.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass

import httpx

from receiver.errors import InvalidInput, TaskhookError
from receiver.fanout.ssrf import ForbiddenAddress, UrlGuard
from receiver.media.store import MediaStore

CHUNK_BYTES = 1024 * 1024
DEFAULT_TYPE = "application/octet-stream"


class DownloadError(TaskhookError):
    """A download attempt failed; `permanent` when retrying cannot help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Archived:
    """What was stored: its digest, size and content type."""

    sha256: str
    bytes: int
    content_type: str


class _Meter:
    """Hashes and counts chunks passing through; raises past `max_bytes`."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.digest = hashlib.sha256()

    async def through(self, chunks: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
        async for chunk in chunks:
            self.size += len(chunk)
            if self.size > self.max_bytes:
                raise DownloadError(_too_large(self.max_bytes), permanent=True)
            self.digest.update(chunk)
            yield chunk


def _too_large(max_bytes: int) -> str:
    return f"the file is larger than {max_bytes // (1024 * 1024)} MB (TASKHOOK_MEDIA_MAX_MB)"


def _check_response(response: httpx.Response, max_bytes: int) -> str:
    """The content type of an acceptable response; DownloadError otherwise."""
    if response.status_code != 200:
        permanent = response.status_code in (401, 403, 404, 410)
        raise DownloadError(f"HTTP {response.status_code} from the provider", permanent=permanent)
    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) > max_bytes:
        raise DownloadError(_too_large(max_bytes), permanent=True)
    ctype = response.headers.get("content-type", DEFAULT_TYPE).split(";", 1)[0].strip()
    return ctype or DEFAULT_TYPE


async def _store(
    store: MediaStore, key: str, body: AsyncIterator[bytes], content_type: str, meter: _Meter
) -> None:
    """Put the body; a store failure is a (retryable) DownloadError, the cap a permanent one."""
    try:
        await store.put(key, body, content_type)
    except OSError as exc:
        if meter.size > meter.max_bytes:  # the store wrapped our own refusal
            raise DownloadError(_too_large(meter.max_bytes), permanent=True) from exc
        raise DownloadError(f"storing the file failed: {exc}") from exc


def _hopeless(exc: httpx.HTTPError) -> bool:
    """True for errors a retry cannot fix: a refused address, a bad URL, a redirect loop."""
    if isinstance(exc.__cause__, ForbiddenAddress):
        return True
    return isinstance(exc, httpx.UnsupportedProtocol | httpx.TooManyRedirects)


def check_source(guard: UrlGuard, url: str) -> None:
    """Refuse (permanently) a URL the subscriber guard would refuse by its form."""
    try:
        guard.check_syntax(url)
    except InvalidInput as exc:
        raise DownloadError(f"result URL refused: {exc.message}", permanent=True) from exc


async def download(
    client: httpx.AsyncClient, url: str, store: MediaStore, key: str, *, max_bytes: int
) -> Archived:
    """Stream `url` into `store` under `key`; DownloadError when it cannot be done now."""
    meter = _Meter(max_bytes)
    try:
        async with client.stream("GET", url) as response:
            content_type = _check_response(response, max_bytes)
            body = meter.through(response.aiter_bytes(CHUNK_BYTES))
            await _store(store, key, body, content_type, meter)
    except httpx.HTTPError as exc:
        raise DownloadError(f"{type(exc).__name__}: {exc}", permanent=_hopeless(exc)) from exc
    return Archived(meter.digest.hexdigest(), meter.size, content_type)
