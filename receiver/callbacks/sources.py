"""Who may call `/callbacks/{name}`: the providers' sources and Standard Webhooks sources.

- `kie`, `foxapi`: defined with the rest of each provider's receiving knowledge in
  `receiver/providers/{kie,foxapi}.py`; listed in `PROVIDER_SOURCES`.
- every `settings.standard_webhook_sources` entry: the generic body (see `generic.py`),
  Standard Webhooks signed on both routes; the signature covers the body.

Provider names win over a Standard Webhooks source of the same name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from receiver.callbacks.generic import generic_task_id, parse_generic
from receiver.errors import ConfigError
from receiver.providers import foxapi, kie
from receiver.providers.source import Source
from receiver.settings import PROVIDERS, Settings
from receiver.signatures import StandardWebhookVerifier

# Providers that call back: name -> its source (adding one is a line here).
PROVIDER_SOURCES: dict[str, Callable[[Settings], Source]] = {
    "kie": kie.callback_source,
    "foxapi": foxapi.callback_source,
}


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
    for name, source in PROVIDER_SOURCES.items():
        found[name] = source(settings)
    return found
