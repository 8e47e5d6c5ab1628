"""Who may call `/callbacks/{name}`: one `Source` per provider or Standard Webhooks source.

A source knows where its body names the task, how to read the body as a ProviderState,
and how (if at all) to authenticate a request without a per-task token:

- `kie`: `data.taskId`; kie's HMAC over taskId + timestamp when TASKHOOK_KIE_WEBHOOK_KEY
  is set (then also required on the token route). The body is not signed: confirm it.
- `foxapi`: `id` (or `data.id`); unsigned, so only the per-task token route accepts it.
- every `settings.standard_webhook_sources` entry: the generic body (see `generic.py`),
  Standard Webhooks signed on both routes; the signature covers the body.

Provider names win over a Standard Webhooks source of the same name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from receiver.callbacks.generic import generic_task_id, parse_generic
from receiver.errors import ConfigError, VerificationFailed
from receiver.provider_results import kie_callback_task_id, parse_foxapi_task, parse_kie_callback
from receiver.provider_state import ProviderState
from receiver.settings import PROVIDERS, Settings
from receiver.signatures import StandardWebhookVerifier, verify_kie

# (headers, raw body, provider task id named in the body) -> None, or VerificationFailed
Verify = Callable[[Mapping[str, str], bytes, str], None]

MAX_TASK_ID_CHARS = 200
_PRINTABLE_ID = re.compile(r"[\x21-\x7e]+")


@dataclass(frozen=True)
class Source:
    """One name under `/callbacks/`."""

    name: str
    task_id_field: str
    find_task_id: Callable[[Mapping[str, Any]], str | None]
    parse: Callable[[Mapping[str, Any]], ProviderState]
    verify: Verify | None = None
    signs_body: bool = False
    signature_on_token_route: bool = False
    unverifiable_reason: str = ""

    def task_id(self, body: Mapping[str, Any]) -> str | None:
        """The provider's task id named in `body`, if it is a sane id."""
        found = self.find_task_id(body)
        if found is None or len(found) > MAX_TASK_ID_CHARS or not _PRINTABLE_ID.fullmatch(found):
            return None
        return found

    def authenticate(self, headers: Mapping[str, str], raw: bytes, task_id: str) -> None:
        """Check the signature; VerificationFailed when absent, wrong, or impossible."""
        if self.verify is None:
            raise VerificationFailed(self.unverifiable_reason)
        self.verify(headers, raw, task_id)


def _foxapi_task_id(body: Mapping[str, Any]) -> str | None:
    return parse_foxapi_task(body).provider_task_id or None


def kie_source(settings: Settings) -> Source:
    """kie: signed (taskId + timestamp only) when the webhook key is configured."""
    key = settings.kie_webhook_key
    verify: Verify | None = None
    if key:

        def verify(headers: Mapping[str, str], _raw: bytes, task_id: str) -> None:
            verify_kie(key, task_id, headers, tolerance_s=settings.callback_tolerance_s)

    return Source(
        name="kie",
        task_id_field="data.taskId",
        find_task_id=kie_callback_task_id,
        parse=parse_kie_callback,
        verify=verify,
        signature_on_token_route=key is not None and key != "",
        unverifiable_reason="kie callback without a token while TASKHOOK_KIE_WEBHOOK_KEY is unset",
    )


def foxapi_source() -> Source:
    """foxapi: unsigned; accepted only on the per-task token route."""
    return Source(
        name="foxapi",
        task_id_field="id",
        find_task_id=_foxapi_task_id,
        parse=parse_foxapi_task,
        unverifiable_reason="foxapi callbacks are unsigned: only the per-task URL accepts them",
    )


def standard_webhook_source(name: str, secret: str, tolerance_s: float) -> Source:
    """A Standard Webhooks source with the generic body shape."""
    try:
        verifier = StandardWebhookVerifier.from_secret(secret, tolerance_s=tolerance_s)
    except ConfigError as exc:
        raise ConfigError(f"TASKHOOK_SW_{name.upper()}_SECRET: {exc.message}") from exc

    def verify(headers: Mapping[str, str], raw: bytes, _task_id: str) -> None:
        verifier.verify(headers, raw)

    return Source(
        name=name,
        task_id_field="data.task_id",
        find_task_id=generic_task_id,
        parse=parse_generic,
        verify=verify,
        signs_body=True,
        signature_on_token_route=True,
    )


def build_sources(settings: Settings) -> dict[str, Source]:
    """Every name `/callbacks/{name}` answers for; ConfigError for a bad source secret."""
    found = {
        name: standard_webhook_source(name, secret, settings.callback_tolerance_s)
        for name, secret in settings.standard_webhook_sources.items()
        if name not in PROVIDERS
    }
    found["kie"] = kie_source(settings)
    found["foxapi"] = foxapi_source()
    return found
