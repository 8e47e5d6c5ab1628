"""`data.result.media`: which result files a task has, and how each is described."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from receiver.db import Row
from receiver.media.store import MediaStore
from receiver.store.media import Source

RESULT_LISTS = (("video_urls", "video"), ("image_urls", "image"))
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,5}$")


def sources_of(result: Mapping[str, Any] | None) -> list[Source]:
    """The result files to archive (`video_urls`, then `image_urls` when present)."""
    if not result:
        return []
    found: list[Source] = []
    for field, stem in RESULT_LISTS:
        urls = result.get(field) or []
        if not isinstance(urls, list):
            continue
        for index, url in enumerate(u for u in urls if isinstance(u, str) and u):
            found.append(Source(len(found), f"{stem}-{index}{_extension(url)}", url))
    return found


def _extension(url: str) -> str:
    match = _EXTENSION.search(urlsplit(url).path)
    return match.group(0).lower() if match else ""


def pending_entry(source_url: str, name: str) -> dict[str, Any]:
    """A file not archived yet: the provider's URL only."""
    return {
        "name": name, "status": "pending", "url": None, "source_url": source_url,
        "sha256": None, "bytes": None, "content_type": None,
    }  # fmt: skip


async def entry(row: Row, store: MediaStore, *, ttl_s: float) -> dict[str, Any]:
    """A file as events and the API describe it, with a fresh link when archived."""
    described = pending_entry(row["source_url"], row["name"])
    described["status"] = row["state"]
    if row["state"] in ("archived", "deleted"):
        described.update(sha256=row["sha256"], bytes=row["bytes"], content_type=row["content_type"])
    if row["state"] == "archived":
        described["url"] = await store.link(row["storage_key"], ttl_s=ttl_s)
    if row["state"] == "failed":
        described["error"] = row["last_error"]
    return described


async def entries(rows: Sequence[Row], store: MediaStore, *, ttl_s: float) -> list[dict[str, Any]]:
    """Every file of a task, described."""
    return [await entry(row, store, ttl_s=ttl_s) for row in rows]
