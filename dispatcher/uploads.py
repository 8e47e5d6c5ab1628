"""Local files named on the command line (`-p character_file_url=@./clip.mp4`), uploaded to
kie's File Upload API first so the task gets a URL.

kie's page: "Before using the Character Animation API, you need to upload your character
videos ... After successful upload, you'll receive file URLs that can be used in the
character_file_url parameter". File Stream Upload: `POST {upload host}/api/file-stream-upload`
(multipart `file`, `uploadPath`, `fileName`) -> `{"success", "code": 200, "msg", "data":
{"fileName", "filePath", "downloadUrl", "fileSize", "mimeType", "uploadedAt"}}`; uploaded
files are temporary (deleted after 24 h to 3 days, depending on the page version).
"""

from __future__ import annotations

import asyncio
import mimetypes
from pathlib import Path
from typing import Any

import httpx

from dispatcher.providers.base import ProviderError
from dispatcher.providers.http import request_json
from receiver.errors import InvalidInput
from receiver.providers.common import as_dict, is_url
from receiver.settings import ProviderSettings

UPLOAD_PATH = "/api/file-stream-upload"
UPLOAD_FOLDER = "taskhook"
# kie input fields that are arrays of URLs: a single `@file` becomes a one-item array
ARRAY_FIELDS = frozenset({"character_file_url", "image_urls"})
PROVIDERS_WITH_UPLOAD = frozenset({"kie"})


def local_paths(task_input: dict[str, Any]) -> dict[str, list[str]]:
    """`{field: ["./clip.mp4", ...]}` for every URL field whose value names a local `@file`."""
    found: dict[str, list[str]] = {}
    for key, value in task_input.items():
        values = value if isinstance(value, list) else [value]
        paths = [v[1:] for v in values if isinstance(v, str) and v.startswith("@")]
        if paths and "url" in key:
            found[key] = paths
    return found


async def upload_local_files(
    client: httpx.AsyncClient, provider: ProviderSettings, task_input: dict[str, Any]
) -> dict[str, Any]:
    """`task_input` with every `@file` in a URL field replaced by its uploaded URL."""
    wanted = local_paths(task_input)
    if not wanted:
        return task_input
    if provider.name not in PROVIDERS_WITH_UPLOAD:
        field = next(iter(wanted))
        raise InvalidInput(f"input.{field}: local files (@path) can be uploaded only for "
                           f"{', '.join(sorted(PROVIDERS_WITH_UPLOAD))}: give a URL",
                           field=field)  # fmt: skip
    out = dict(task_input)
    for field in wanted:
        out[field] = await _replace(client, provider, field, task_input[field])
    return out


async def _replace(
    client: httpx.AsyncClient, provider: ProviderSettings, field: str, value: Any
) -> Any:
    if isinstance(value, list):
        return [await _replace(client, provider, field, item) for item in value]
    if not (isinstance(value, str) and value.startswith("@")):
        return value
    url = await upload_file(client, provider, value[1:], field=field)
    return [url] if field in ARRAY_FIELDS else url


def _read(name: str) -> tuple[Path, bytes]:
    path = Path(name).expanduser()
    return path, path.read_bytes()


async def upload_file(
    client: httpx.AsyncClient, provider: ProviderSettings, name: str, *, field: str = "file"
) -> str:
    """Upload one local file with kie's File Stream Upload; return its `downloadUrl`."""
    try:
        path, content = await asyncio.to_thread(_read, name)
    except OSError as exc:
        message = f"input.{field}: cannot read {name!r} ({exc.strerror or exc})"
        raise InvalidInput(message, field=field) from exc
    upload = provider.upload_url or provider.base_url
    target = ProviderSettings(provider.name, upload, api_key=provider.api_key)
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    answer = await request_json(
        client, target, "POST", UPLOAD_PATH,
        files={"file": (path.name, content, mime)},
        data={"uploadPath": UPLOAD_FOLDER, "fileName": path.name},
        envelope=True,
    )  # fmt: skip
    url = as_dict(answer.get("data")).get("downloadUrl")
    if not is_url(url):
        raise ProviderError(provider.name, "file upload answered without data.downloadUrl")
    return str(url)
