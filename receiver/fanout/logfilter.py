"""Keep subscriber URLs out of httpx's request log (a Slack/Discord URL is a credential)."""

from __future__ import annotations

import logging

from receiver.store.subscribers import redact_url


class RedactRequestUrls(logging.Filter):
    """Rewrites httpx's `HTTP Request: METHOD URL ...` records with the URL redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Always keep the record; only its URL argument changes."""
        args = record.args
        if isinstance(args, tuple) and len(args) >= 2 and str(record.msg).startswith("HTTP "):
            record.args = (args[0], redact_url(str(args[1])), *args[2:])
        return True


def install(logger_name: str = "httpx") -> None:
    """Add the filter once (idempotent)."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, RedactRequestUrls) for f in logger.filters):
        logger.addFilter(RedactRequestUrls())
