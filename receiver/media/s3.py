"""The S3 store (any S3-compatible service), through obstore: multipart streaming
uploads, presigned GET links. Credentials come from the usual AWS variables."""

from __future__ import annotations

from collections.abc import AsyncIterable
from datetime import timedelta

import obstore
from obstore.exceptions import BaseError, NotFoundError
from obstore.store import S3Store as ObstoreS3

from receiver.errors import ConfigError
from receiver.settings import Settings

MAX_PRESIGN_S = 7 * 86400  # what S3 accepts for a presigned URL
PART_BYTES = 8 * 1024 * 1024


class S3Store:
    """Files as objects `prefix/task_id/name` in one bucket."""

    kind = "s3"

    def __init__(self, store: ObstoreS3) -> None:
        self._store = store

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Store:
        """`TASKHOOK_MEDIA=s3://bucket/prefix`, `TASKHOOK_S3_ENDPOINT_URL` (optional)."""
        endpoint = settings.s3_endpoint_url
        try:
            if endpoint:
                store = ObstoreS3.from_url(
                    settings.media, endpoint=endpoint,
                    client_options={"allow_http": endpoint.startswith("http://")},
                )  # fmt: skip
            else:
                store = ObstoreS3.from_url(settings.media)
        except Exception as exc:  # obstore raises its own error kinds for bad config
            raise ConfigError(f"TASKHOOK_MEDIA={settings.media!r}: {exc}") from exc
        return cls(store)

    async def put(self, key: str, chunks: AsyncIterable[bytes], content_type: str) -> None:
        """A streamed (multipart) upload; aborted when `chunks` raises."""
        try:
            await obstore.put_async(
                self._store, key, chunks, attributes={"Content-Type": content_type},
                chunk_size=PART_BYTES, max_concurrency=2,
            )  # fmt: skip
        except BaseError as exc:
            raise OSError(f"S3 upload of {key} failed: {exc}") from exc

    async def link(self, key: str, *, ttl_s: float) -> str:
        """A presigned GET URL (at most 7 days, S3's limit)."""
        expires = timedelta(seconds=min(int(ttl_s), MAX_PRESIGN_S))
        return await obstore.sign_async(self._store, "GET", key, expires)

    async def delete(self, key: str) -> None:
        """Remove the object."""
        try:
            await obstore.delete_async(self._store, key)
        except NotFoundError:
            pass
        except BaseError as exc:
            raise OSError(f"S3 delete of {key} failed: {exc}") from exc
