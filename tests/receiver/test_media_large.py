"""A 2 GB result file streams into the archive with flat memory (generated body, no stored file)."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from receiver.settings import Settings
from tests.receiver.media_support import (
    FileServer,
    media_app,
    media_settings,
    sha_of,
    succeed,
    tick_until,
)
from tests.support import ADMIN_TOKEN, SECRET_KEY, live_server

SIZE = 2 * 1024**3
MEMORY_CEILING = 64 * 1024**2  # what the download may allocate at its peak, all told


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_two_gigabytes_stream_with_flat_memory(tmp_path: Path) -> None:
    base = Settings(db=str(tmp_path / "taskhook.db"), admin_token=ADMIN_TOKEN,
                    secret_key=SECRET_KEY, allow_http_subscribers=True,
                    allow_private_subscribers=True)  # fmt: skip
    settings = media_settings(base, tmp_path, media_max_mb=4096, media_wait_s=600.0)
    files = FileServer(sizes={"huge.mp4": SIZE})
    async with live_server(files.app()) as src, media_app(settings) as (_client, runtime):
        tracemalloc.start()
        try:
            await succeed(runtime, {"video_urls": [f"{src}/files/huge.mp4"]})

            async def archived() -> bool:
                row = await runtime.db.fetchone("SELECT state FROM media_files")
                return row is not None and row["state"] == "archived"

            await tick_until(runtime, archived, passes=5)
            _current, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        row = await runtime.db.fetchone("SELECT sha256, bytes, storage_key FROM media_files")
    assert row is not None and row["bytes"] == SIZE
    assert row["sha256"] == sha_of("huge.mp4", SIZE)
    assert (tmp_path / "media" / row["storage_key"]).stat().st_size == SIZE
    assert peak < MEMORY_CEILING, f"peak {peak / 1024**2:.1f} MiB"
