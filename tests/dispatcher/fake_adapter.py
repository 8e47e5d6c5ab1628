"""A scripted provider adapter for orchestration tests (no HTTP at all)."""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Mapping
from typing import Any

import httpx

from dispatcher.providers.base import ProviderError, Submitted
from receiver.errors import InvalidInput
from receiver.provider_state import ProviderState
from receiver.settings import ProviderSettings


class FakeAdapter:
    """Accepts models `video` (needs `prompt`) and `character` (needs `video_url`).

    `submit_errors` / `query_answers` are queues the test fills; when empty, submit
    succeeds and query answers `running`.
    """

    def __init__(
        self, name: str = "fake", *, callback: bool = False, estimate_s: float | None = None
    ):
        self.name = name
        self.callback = callback
        self.estimate_s = estimate_s
        self.submitted: list[dict[str, Any]] = []
        self.queries: list[str] = []
        self.submit_errors: deque[ProviderError] = deque()
        # a status word, a succeeded result dict, a ProviderState, or an error to raise
        self.query_answers: deque[ProviderState | ProviderError | str | dict[str, Any]] = deque()
        self._ids = itertools.count(1)

    def models(self) -> frozenset[str]:
        return frozenset({"video", "character"})

    def validate(self, model: str, task_input: dict[str, Any]) -> dict[str, Any]:
        if model == "video":
            prompt = task_input.get("prompt")
            if not isinstance(prompt, str) or not prompt:
                raise InvalidInput("prompt is required", field="prompt", rule="required")
            ids = task_input.get("character_ids", [])
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                raise InvalidInput("character_ids must be a list of strings", field="character_ids")
        elif not str(task_input.get("video_url", "")).startswith("https://"):
            raise InvalidInput("video_url must be https", field="video_url", rule="url")
        return dict(task_input)

    def supports_callback(self, model: str, settings: ProviderSettings) -> bool:
        return self.callback

    async def submit(
        self,
        client: httpx.AsyncClient,
        settings: ProviderSettings,
        model: str,
        task_input: dict[str, Any],
        callback_url: str | None,
    ) -> Submitted:
        if self.submit_errors:
            raise self.submit_errors.popleft()
        self.submitted.append({"model": model, "input": task_input, "callback_url": callback_url})
        return Submitted(f"{self.name}-{next(self._ids)}", self.estimate_s)

    async def query(
        self,
        client: httpx.AsyncClient,
        settings: ProviderSettings,
        provider_task_id: str,
        task_input: Mapping[str, Any] | None = None,
    ) -> ProviderState:
        self.queries.append(provider_task_id)
        answer = self.query_answers.popleft() if self.query_answers else "running"
        if isinstance(answer, ProviderError):
            raise answer
        if isinstance(answer, str):
            return done(provider_task_id, answer)
        if isinstance(answer, dict):
            return done(provider_task_id, "succeeded", **answer)
        return answer


def done(provider_task_id: str, status: str, **result: Any) -> ProviderState:
    """A provider state; `succeeded` carries `result` (video_urls by default)."""
    if status == "succeeded":
        body = result or {"video_urls": ["https://cdn.example/v.mp4"]}
        return ProviderState(provider_task_id, status, 100, result=body)
    if status == "failed":
        error = {"code": "provider_501", "message": "generation failed"}
        return ProviderState(provider_task_id, status, error=error)
    return ProviderState(provider_task_id, status, progress=40)
