"""toapis: `POST /v1/videos/generations`, `GET /v1/videos/generations/{id}`; poll only.

One endpoint, two modes, told apart by the fields given:
- character creation: `url` or `from_task` (exactly one) with `timestamps` "start,end";
- video generation: `prompt`, optionally reusing a character via `character_url` (the id
  of a completed character-creation task).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from dispatcher.providers.base import ProviderUnavailable, Submitted
from dispatcher.providers.http import request_json
from dispatcher.providers.models import schema_for
from dispatcher.providers.rules import (
    Field,
    Schema,
    exactly_one_of,
    invalid,
    string,
    timestamps,
    url,
)
from receiver.provider_state import ProviderState
from receiver.providers.common import as_text
from receiver.providers.toapis import parse_toapis_task
from receiver.settings import ProviderSettings

# Allowed values, as data (a later correction is one line here). Sources: the provider's
# page in shared/providers/ (primary; it wins) and NOTES.md; where a page is silent
# taskhook adds no rule of its own and the provider decides.
TOAPIS_MODELS = frozenset({"sora-2", "sora-2-pro", "sora-2-vip"})
# character creation page: timestamps "start,end" in seconds, end - start within 1..3.
TOAPIS_TIMESTAMP_SPAN_S = (1.0, 3.0)
# Video generation reusing a character (`character_url`): no primary page, so only
# `prompt` (required) and `character_url` are checked; other fields pass through.

PATH = "/v1/videos/generations"
CREATION_FIELDS = ("url", "from_task", "timestamps")
CREATION = "character creation"
GENERATION = "video generation"


def is_character_creation(task_input: Mapping[str, Any]) -> bool:
    """True when the input creates a character (it names a source clip or its timestamps)."""
    return any(task_input.get(name) is not None for name in CREATION_FIELDS)


def _creation(model: str) -> Schema:
    """The character page's fields; "prompt parameter is not required in this mode"."""
    fields = (
        Field("url", (url,)),
        Field("from_task", (string(),)),
        Field("timestamps", (timestamps(*TOAPIS_TIMESTAMP_SPAN_S),), required=True),
        Field("prompt", (string(min_len=0),)),
    )
    return Schema(f"{model} ({CREATION})", fields, (exactly_one_of("url", "from_task"),))


def _generation(model: str) -> Schema:
    """No primary page: `prompt` is required, the rest passes through (open schema)."""
    fields = (
        Field("prompt", (string(),), required=True),
        Field("character_url", (string(),)),
    )
    return Schema(f"{model} ({GENERATION})", fields, open=True)


class ToapisAdapter:
    """toapis' sora-2 family: character creation and generation reusing a character."""

    name = "toapis"

    def __init__(self) -> None:
        models = sorted(TOAPIS_MODELS)
        self._creation = {m: _creation(m) for m in models}
        self._generation = {m: _generation(m) for m in models}

    def models(self) -> frozenset[str]:
        """Every model this adapter can submit."""
        return frozenset(self._creation)

    def validate(self, model: str, task_input: dict[str, Any]) -> dict[str, Any]:
        """Check every documented rule of the mode the input asks for."""
        schema_for(self.name, self._creation, model)
        if isinstance(task_input, dict) and is_character_creation(task_input):
            return self._creation[model].validate(task_input)
        if isinstance(task_input, dict) and task_input.get("prompt") is None:
            raise invalid(
                "prompt",
                "required",
                None,
                "give a prompt to generate a video, or url or from_task with timestamps "
                '(e.g. "1,3") to create a character',
            )
        return self._generation[model].validate(task_input)

    def supports_callback(self, model: str, settings: ProviderSettings) -> bool:
        """toapis has no documented callbacks."""
        return False

    async def submit(
        self,
        client: httpx.AsyncClient,
        settings: ProviderSettings,
        model: str,
        task_input: dict[str, Any],
        callback_url: str | None,
    ) -> Submitted:
        """Create the task (flat body: model + fields); callback_url is never sent."""
        body: dict[str, Any] = {"model": model, **task_input}
        answer = await request_json(client, settings, "POST", PATH, json=body)
        task_id = as_text(answer.get("id"))
        if task_id is None:
            raise ProviderUnavailable(
                self.name, "create answered without a task id", code="malformed_response"
            )
        state = None
        if "status" in answer:
            state = parse_toapis_task(answer, character=is_character_creation(task_input))
        return Submitted(task_id, None, state)

    async def query(
        self,
        client: httpx.AsyncClient,
        settings: ProviderSettings,
        provider_task_id: str,
        task_input: Mapping[str, Any] | None = None,
    ) -> ProviderState:
        """Read the task with `GET /v1/videos/generations/{id}`."""
        path = f"{PATH}/{quote(provider_task_id, safe='')}"
        character = task_input is not None and is_character_creation(task_input)
        answer = await request_json(client, settings, "GET", path)
        state = parse_toapis_task(answer, character=character)
        if not state.provider_task_id:
            state = dataclasses.replace(state, provider_task_id=provider_task_id)
        return state
