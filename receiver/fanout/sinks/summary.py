"""One event, summarised for chat sinks (Slack, Discord)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PROMPT_CHARS = 200
MAX_LINKS = 5
TITLES = {
    "succeeded": "Task succeeded",
    "failed": "Task failed",
    "cancelled": "Task cancelled",
    "expired": "Task expired",
}


@dataclass(frozen=True)
class Summary:
    """The parts a chat message shows."""

    title: str
    status: str
    task_id: str | None
    provider_model: str | None
    prompt: str | None
    links: list[str] = field(default_factory=list)
    character_id: str | None = None
    error: str | None = None

    @property
    def fallback(self) -> str:
        """One plain line (notification text)."""
        parts = [f"taskhook: {self.title}"]
        if self.task_id:
            parts.append(self.task_id)
        if self.provider_model:
            parts.append(f"({self.provider_model})")
        return " ".join(parts)


OPERATIONAL_TITLES = {
    "taskhook.test": "Test event from taskhook",
    "delivery.exhausted": "A delivery exhausted its retries",
}


def summarise(event: Mapping[str, Any]) -> Summary:
    """Pick what a person wants to see from an event."""
    data: Mapping[str, Any] = event.get("data") or {}
    kind = str(event.get("type"))
    if kind in OPERATIONAL_TITLES:
        return Summary(
            title=OPERATIONAL_TITLES[kind], status=kind, task_id=data.get("task_id"),
            provider_model=None, prompt=None, error=data.get("last_error"),
        )  # fmt: skip
    if event.get("type") == "subscriber.disabled":
        return Summary(
            title=f"Subscriber {data.get('subscriber_id')} disabled",
            status="disabled", task_id=None, provider_model=None, prompt=None,
            error=str(data.get("reason") or ""),
        )  # fmt: skip
    status = str(data.get("status") or event.get("type") or "?")
    result: Mapping[str, Any] = data.get("result") or {}
    error: Mapping[str, Any] = data.get("error") or {}
    prompt = data.get("prompt")
    provider_model = " / ".join(str(data[k]) for k in ("provider", "model") if data.get(k))
    return Summary(
        title=TITLES.get(status, f"Task {status}"),
        status=status,
        task_id=data.get("task_id"),
        provider_model=provider_model or None,
        prompt=_cut(str(prompt), PROMPT_CHARS) if prompt else None,
        links=[str(u) for u in (result.get("video_urls") or [])][:MAX_LINKS],
        character_id=result.get("character_id"),
        error=_error_text(error),
    )


def _error_text(error: Mapping[str, Any]) -> str | None:
    if not error:
        return None
    code, message = error.get("code"), error.get("message")
    return ": ".join(str(p) for p in (code, message) if p) or None


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
