"""The exception tree of taskhook's server side.

TaskhookError                  base; carries an HTTP status, an error code and a CLI exit code
├── ConfigError                bad settings (exit 2)
├── InvalidInput               a request that breaks a documented rule (422, exit 2)
├── NotFound                   an id that names nothing (404)
├── Conflict                   a state change that is no longer possible (409)
├── StoreError                 the database failed or refused (503)
│   ├── DuplicateKey           a unique constraint refused a row
│   └── SchemaTooNew           the database was migrated by a newer taskhook
└── VerificationFailed         an inbound signature did not verify (401, generic message)
"""

from __future__ import annotations

from typing import Any


class TaskhookError(Exception):
    """Base class: every error taskhook raises on purpose."""

    status_code = 500
    code = "internal_error"
    exit_code = 1

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.context = context

    def to_body(self) -> dict[str, Any]:
        """The JSON error body `{"error": {"code", "message", ...}}`."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        body.update({k: v for k, v in self.context.items() if k in ("field", "rule", "value")})
        return {"error": body}


class ConfigError(TaskhookError):
    status_code = 500
    code = "config_error"
    exit_code = 2


class InvalidInput(TaskhookError):
    status_code = 422
    code = "invalid_input"
    exit_code = 2

    def __init__(self, message: str, *, field: str | None = None, **context: Any) -> None:
        super().__init__(message, field=field, **context)
        self.field = field


class BadRequest(TaskhookError):
    status_code = 400
    code = "bad_request"
    exit_code = 2


class NotFound(TaskhookError):
    status_code = 404
    code = "not_found"


class Conflict(TaskhookError):
    status_code = 409
    code = "conflict"


class StoreError(TaskhookError):
    status_code = 503
    code = "store_unavailable"


class DuplicateKey(StoreError):
    """A unique constraint refused a row (prefer `ON CONFLICT DO NOTHING` in transactions)."""

    code = "duplicate"


class SchemaTooNew(StoreError):
    code = "schema_too_new"
    exit_code = 2


class VerificationFailed(TaskhookError):
    """A signature check failed; the caller sees only a generic message."""

    status_code = 401
    code = "unauthorized"

    def __init__(self, reason: str) -> None:
        super().__init__("callback authentication failed")
        self.reason = reason
