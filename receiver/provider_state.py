"""A provider's answer about one task, normalised: what callbacks and polls both produce."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from receiver.statuses import TERMINAL


@dataclass(frozen=True)
class ProviderState:
    """Where a task stands at its provider, in taskhook's words.

    `status` is one of `receiver.statuses.TASK_STATUSES` (never the provider's own word).
    `result` is
    `{"video_urls": [...], "image_urls": [...], "character_id": ..., "character_name": ...}`
    when succeeded;
    `error` is `{"code": ..., "message": ...}` when failed. `cost` is what the provider
    reported the task cost (`receiver.providers.cost`), or None; `expires_at_ms`
    when the result's URLs stop working (`receiver.providers.expiry`).
    """

    provider_task_id: str
    status: str
    progress: int | None = None
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    raw: dict[str, Any] | None = None
    cost: dict[str, Any] | None = None
    expires_at_ms: int | None = None  # when the result's URLs stop working

    @property
    def is_final(self) -> bool:
        """True for succeeded, failed, cancelled, expired."""
        return self.status in TERMINAL

    def to_json(self) -> str:
        """The state as stored with an inbox row (without `raw`, but with its model name).

        The raw record stays in the row's body; only its `model` is kept here, the one
        field the inbox reads from it (to name an external task).
        """
        model = (self.raw or {}).get("model")
        return json.dumps({
            "provider_task_id": self.provider_task_id, "status": self.status,
            "progress": self.progress, "result": self.result, "error": self.error,
            "cost": self.cost, "expires_at_ms": self.expires_at_ms,
            "model": model if isinstance(model, str) else None,
        })  # fmt: skip

    @classmethod
    def from_json(cls, text: str) -> ProviderState:
        """The state `to_json()` stored."""
        fields = json.loads(text)
        model = fields.pop("model", None)
        return cls(**fields, raw={"model": model} if model is not None else None)
