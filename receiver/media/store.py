"""Where archived files live: the `MediaStore` protocol and the local file store."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterable
from pathlib import Path
from typing import BinaryIO, Protocol

import anyio

from receiver.media.links import LinkSigner, safe_part


class MediaStore(Protocol):
    """A place to put, link to and delete archived files, keyed `task_id/name`."""

    kind: str

    async def put(self, key: str, chunks: AsyncIterable[bytes], content_type: str) -> None:
        """Store the streamed bytes under `key` (nothing is kept when `chunks` raises)."""

    async def link(self, key: str, *, ttl_s: float) -> str:
        """A URL that serves the file for `ttl_s` seconds."""

    async def delete(self, key: str) -> None:
        """Remove the file (no error when it is already gone)."""


def split_key(key: str) -> tuple[str, str]:
    """`task_id/name` -> (task_id, name); ValueError for anything else."""
    task_id, sep, name = key.partition("/")
    if not sep or not safe_part(task_id) or not safe_part(name):
        raise ValueError(f"not a media key: {key!r}")
    return task_id, name


class FileStore:
    """Files under one folder, `root/task_id/name`, served by `/media/...` links."""

    kind = "file"

    def __init__(self, root: Path, signer: LinkSigner) -> None:
        self.root = root
        self.signer = signer

    def path(self, key: str) -> Path:
        """The file's path (the key is checked: it cannot leave the root)."""
        task_id, name = split_key(key)
        return self.root / task_id / name

    async def put(self, key: str, chunks: AsyncIterable[bytes], content_type: str) -> None:
        """Write to a temporary file beside the target, then rename it into place."""
        final = self.path(key)
        await anyio.to_thread.run_sync(lambda: final.parent.mkdir(parents=True, exist_ok=True))
        temp = final.with_name(f".{final.name}.{secrets.token_hex(4)}.part")
        handle: BinaryIO = await anyio.to_thread.run_sync(temp.open, "wb")
        try:
            async for chunk in chunks:
                await anyio.to_thread.run_sync(handle.write, chunk)
            await anyio.to_thread.run_sync(_flush, handle)
        except BaseException:
            await anyio.to_thread.run_sync(handle.close)
            await anyio.to_thread.run_sync(lambda: temp.unlink(missing_ok=True))
            raise
        await anyio.to_thread.run_sync(handle.close)
        await anyio.to_thread.run_sync(os.replace, temp, final)

    async def link(self, key: str, *, ttl_s: float) -> str:
        """A signed `/media/{task_id}/{name}` URL."""
        task_id, name = split_key(key)
        return self.signer.link(task_id, name, ttl_s=ttl_s)

    async def delete(self, key: str) -> None:
        """Remove the file."""
        path = self.path(key)
        await anyio.to_thread.run_sync(lambda: path.unlink(missing_ok=True))


def _flush(handle: BinaryIO) -> None:
    handle.flush()
    os.fsync(handle.fileno())
