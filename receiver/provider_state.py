"""A provider's answer about one task, normalised: what callbacks and polls both produce."""

from __future__ import annotations

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
