"""The media archive as the rest of the app sees it: the store chosen by the settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from receiver.db import Executor
from receiver.errors import ConfigError, NotFound
from receiver.media.entries import entries
from receiver.media.links import LinkSigner
from receiver.media.store import FileStore, MediaStore
from receiver.settings import Settings
from receiver.slot import Slot
from receiver.store import media as records


def media_root(settings: Settings) -> Path:
    """The file store's folder: TASKHOOK_MEDIA_DIR, else `media/` beside a SQLite database."""
    if settings.media_dir:
        return Path(settings.media_dir).expanduser().resolve()
    if settings.is_postgres:
        return Path("media").resolve()
    return Path(settings.db).expanduser().resolve().parent / "media"


def base_url(settings: Settings) -> str:
    """Where links point: the public URL, else the listen address."""
    if settings.public_url:
        return settings.public_url
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host  # noqa: S104
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{settings.port}"


def build_store(settings: Settings) -> MediaStore | None:
    """The store `TASKHOOK_MEDIA` asks for; None when the archive is off."""
    if settings.media == "off":
        return None
    if not settings.secret_key:
        raise ConfigError("the media archive needs TASKHOOK_SECRET_KEY (it signs media links)")
    if settings.media == "file":
        return FileStore(media_root(settings), LinkSigner(settings.secret_key, base_url(settings)))
    if settings.media.startswith("s3://"):
        try:
            from receiver.media.s3 import S3Store
        except ImportError as exc:
            raise ConfigError(
                "TASKHOOK_MEDIA=s3://... needs obstore: pip install 'taskhook[s3]'"
            ) from exc
        return S3Store.from_settings(settings)
    raise ConfigError(f"TASKHOOK_MEDIA={settings.media!r}: use file, off or s3://bucket/prefix")


@dataclass
class Archive:
    """The store and settings the media routes and commands need."""

    store: MediaStore
    settings: Settings

    async def media_of(self, db: Executor, task_id: str) -> list[dict[str, Any]]:
        """A task's files with fresh links; NotFound when it has none."""
        rows = await records.files_of(db, task_id)
        if not rows:
            raise NotFound(f"task {task_id!r} has no archived media")
        return await entries(rows, self.store, ttl_s=self.settings.media_url_ttl_s)


async def archived_media(
    live: Slot[Archive] | None, db: Executor, task_id: str
) -> list[dict[str, Any]]:
    """A task's files with fresh links for the dashboard ([] when none or archive off)."""
    archive = live.peek() if live is not None else None
    if archive is None:
        return []
    try:
        return await archive.media_of(db, task_id)
    except NotFound:
        return []
