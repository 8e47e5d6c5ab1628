"""kie's File Upload API in the emulator: `POST /api/file-stream-upload`.

As kie documents it: multipart `file` (required), `uploadPath`, `fileName` (optional; a
random name otherwise) -> `{"success": true, "code": 200, "msg": "File uploaded
successfully", "data": {"fileName", "filePath", "downloadUrl", "fileSize", "mimeType",
"uploadedAt"}}`. The file is counted and dropped; its `downloadUrl` is a fake CDN URL.
"""

from __future__ import annotations

import email.parser
import email.policy
from datetime import UTC, datetime
from email.message import Message
from typing import Any

from dispatcher.emulator.context import FAKE_HOST

MAX_UPLOAD_BYTES = 100 * 1024 * 1024


def upload_answer(form: dict[str, str | tuple[str, bytes, str]], token: str) -> dict[str, Any]:
    """The upload's answer body, or `{"code": 400, ...}` without a `file` part."""
    upload = form.get("file")
    if not isinstance(upload, tuple):
        return {"code": 400, "msg": "file is required (multipart/form-data field 'file')"}
    given, content, mime = upload
    name = _text(form.get("fileName")) or given or f"{token}.bin"
    folder = (_text(form.get("uploadPath")) or "uploads").strip("/")
    path = f"{folder}/{name}"
    data: dict[str, Any] = {
        "fileName": name, "filePath": path,
        "downloadUrl": f"{FAKE_HOST}/kie-uploads/{token}/{path}",
        "fileSize": len(content), "mimeType": mime,
        "uploadedAt": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }  # fmt: skip
    return {"success": True, "code": 200, "msg": "File uploaded successfully", "data": data}


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def parse_form(content_type: str, body: bytes) -> dict[str, str | tuple[str, bytes, str]]:
    """A multipart/form-data body: text fields as str, files as (name, bytes, mime)."""
    if not content_type.startswith("multipart/form-data"):
        return {}
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    out: dict[str, str | tuple[str, bytes, str]] = {}
    for part in message.iter_parts() if message.is_multipart() else ():
        _add_part(out, part)
    return out


def _add_part(out: dict[str, str | tuple[str, bytes, str]], part: Message) -> None:
    name = part.get_param("name", header="content-disposition")
    if not isinstance(name, str):
        return
    payload = part.get_payload(decode=True)
    content = payload if isinstance(payload, bytes) else b""
    filename = part.get_filename()
    if filename is not None:
        out[name] = (filename, content, part.get_content_type())
    else:
        out[name] = content.decode("utf-8", "replace")
