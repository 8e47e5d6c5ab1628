"""Logging set-up (only the CLI configures handlers): plain text or one JSON object per line."""

from __future__ import annotations

import json
import logging
import re
import sys
from typing import Any

from receiver.clock import rfc3339

_SECRET = re.compile(
    r"(?i)(bearer\s+|whsec_|whpk_|api[_-]?key[\"'=:\s]+|token[\"'=:\s]+|secret[\"'=:\s]+)"
    r"[A-Za-z0-9_\-+/=.]{6,}"
)
_CALLBACK_TOKEN = re.compile(r"(/callbacks/[^/\s\"?]+/)[^/\s\"?]+")
_CONTEXT_KEYS = ("task_id", "event_id", "delivery_id", "subscriber_id", "provider", "callback_id")


def redact(text: str) -> str:
    """Mask anything that looks like a bearer token, key, webhook secret or callback token."""
    text = _CALLBACK_TOKEN.sub(lambda m: m.group(1) + "[redacted]", text)
    return _SECRET.sub(lambda m: m.group(1) + "[redacted]", text)


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with task/event ids given via `extra=`."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": rfc3339(int(record.created * 1000)),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for key in _CONTEXT_KEYS:
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class RedactingFormatter(logging.Formatter):
    """The text format, with secrets masked."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def configure(log_format: str, level: int = logging.INFO) -> None:
    """Send taskhook's and uvicorn's logs to stderr in the chosen format."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
