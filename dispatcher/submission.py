"""What a submission is (`{"provider", "model", "input", "then"?}`) and whether it is valid.

Everything is checked before anything is stored or sent: the provider and model exist,
the adapter accepts the input, and every `then` follow-up (recursively) has a valid
shape, with its placeholders replaced by stand-ins for the check.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dispatcher.chaining import (
    MAX_CHAIN_DEPTH,
    PLACEHOLDERS,
    SAMPLE_CONTEXT,
    placeholders_in,
    render,
)
from dispatcher.providers.base import ProviderAdapter
from receiver.errors import InvalidInput
from receiver.known_fields import reject_unknown_fields
from receiver.store.jsonutil import dumps
from receiver.task_options import parse_metadata, parse_webhook

Adapters = Mapping[str, ProviderAdapter]
SUBMISSION_FIELDS = ("provider", "model", "input", "then", "metadata", "webhook")
FOLLOW_UP_FIELDS = ("provider", "model", "input", "then")  # a follow-up inherits the rest


@dataclass(frozen=True)
class Submission:
    """A validated request to run one task (and maybe its follow-ups)."""

    provider: str
    model: str
    input: dict[str, Any]
    then: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    webhook: str | None = None

    def fingerprint(self) -> str:
        """A digest of the whole request, to tell an idempotent retry from a different body."""
        body = {"provider": self.provider, "model": self.model, "input": self.input,
                "then": self.then}  # fmt: skip
        extras = {"metadata": self.metadata, "webhook": self.webhook}
        body.update({k: v for k, v in extras.items() if v is not None})
        return hashlib.sha256(dumps(_sorted(body)).encode()).hexdigest()


def parse_submission(
    body: Any, adapters: Adapters, *, prefix: str = "", depth: int = 0
) -> Submission:
    """Check `body`; raise InvalidInput naming the first field that is wrong."""
    if not isinstance(body, dict):
        raise InvalidInput(
            f"{prefix or 'the body'} must be a JSON object with provider, model and input",
            field=prefix.rstrip(".") or None,
        )
    reject_unknown_fields(body, FOLLOW_UP_FIELDS if prefix else SUBMISSION_FIELDS, prefix=prefix)
    provider = _text(body, "provider", prefix)
    adapter = _adapter(adapters, provider, prefix)
    model = _text(body, "model", prefix)
    if model not in adapter.models():
        known = ", ".join(sorted(adapter.models()))
        raise InvalidInput(
            f"{prefix}model {model!r} is not a {provider} model: use one of {known}",
            field=f"{prefix}model", rule="one_of", value=model,
        )  # fmt: skip
    task_input = body.get("input", {})
    if not isinstance(task_input, dict):
        raise InvalidInput(f"{prefix}input must be a JSON object", field=f"{prefix}input")
    checked = _validate(adapter, model, task_input, prefix)
    then = _then(body.get("then"), adapters, prefix, depth)
    if prefix:  # a follow-up inherits its parent's metadata and webhook
        return Submission(provider, model, checked, then)
    metadata, webhook = parse_metadata(body.get("metadata")), parse_webhook(body.get("webhook"))
    return Submission(provider, model, checked, then, metadata, webhook)


def _text(body: dict[str, Any], name: str, prefix: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(
            f"{prefix}{name} is required (a non-empty string)", field=f"{prefix}{name}"
        )
    return value.strip()


def _adapter(adapters: Adapters, provider: str, prefix: str) -> ProviderAdapter:
    adapter = adapters.get(provider)
    if adapter is None:
        known = ", ".join(sorted(adapters)) or "(none configured)"
        raise InvalidInput(
            f"{prefix}provider {provider!r} is unknown: use one of {known}",
            field=f"{prefix}provider", rule="one_of", value=provider,
        )  # fmt: skip
    return adapter


def _validate(
    adapter: ProviderAdapter, model: str, task_input: dict[str, Any], prefix: str
) -> dict[str, Any]:
    """The adapter's check; in a follow-up, fields filled in later get the benefit of doubt."""
    templated = {key for key, value in task_input.items() if placeholders_in(value)}
    unknown = placeholders_in(task_input) - set(PLACEHOLDERS)
    if unknown:
        raise InvalidInput(
            f"{prefix}input uses unknown placeholder {{{{{sorted(unknown)[0]}}}}}: "
            f"use one of {', '.join('{{' + p + '}}' for p in PLACEHOLDERS)}",
            field=f"{prefix}input",
        )
    if templated and not prefix:
        raise InvalidInput(
            "placeholders such as {{character_id}} are only allowed in a `then` follow-up",
            field=f"input.{sorted(templated)[0]}",
        )
    try:
        checked = adapter.validate(model, render(task_input, SAMPLE_CONTEXT))
    except InvalidInput as exc:
        if exc.field and _root(exc.field) in templated:
            return task_input  # the stand-in did not fit; the real value is checked at send
        raise _nested(exc, prefix) from exc
    if templated:
        return task_input  # keep the placeholders; they are filled in when the parent succeeds
    return checked


def _root(field: str) -> str:
    name = field.removeprefix("input.")
    for sep in (".", "["):
        name = name.split(sep, 1)[0]
    return name


def _nested(exc: InvalidInput, prefix: str) -> InvalidInput:
    if not prefix:
        return exc
    context = {k: v for k, v in exc.context.items() if k != "field"}
    field = exc.field or "input"
    if not field.startswith("input"):
        field = f"input.{field}"
    return InvalidInput(f"{prefix}{exc.message}", field=f"{prefix}{field}", **context)


def _then(spec: Any, adapters: Adapters, prefix: str, depth: int) -> dict[str, Any] | None:
    if spec is None:
        return None
    if depth + 1 >= MAX_CHAIN_DEPTH:
        raise InvalidInput(f"at most {MAX_CHAIN_DEPTH} chained tasks", field=f"{prefix}then")
    child = parse_submission(spec, adapters, prefix=f"{prefix}then.", depth=depth + 1)
    out: dict[str, Any] = {"provider": child.provider, "model": child.model, "input": child.input}
    if child.then is not None:
        out["then"] = child.then
    return out


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value
