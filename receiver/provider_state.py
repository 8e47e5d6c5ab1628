"""A provider's answer about one task, normalised: what callbacks and polls both produce."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
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
        fields = asdict(self)
        raw = fields.pop("raw") or {}
        model = raw.get("model")
        return json.dumps({**fields, "model": model if isinstance(model, str) else None})

    @classmethod
    def from_json(cls, text: str) -> ProviderState:
        """The state `to_json()` stored."""
        fields = json.loads(text)
        model = fields.pop("model", None)
        return cls(**fields, raw={"model": model} if model is not None else None)
