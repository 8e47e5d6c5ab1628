"""Provider adapters: one module per provider, looked up by name.

adapters()        a fresh {name: adapter} registry
get_adapter(name) one adapter, or InvalidInput(field="provider") naming the known ones
"""

from __future__ import annotations

from dispatcher.providers.base import (
    ProviderAdapter,
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
    Submitted,
)
from dispatcher.providers.foxapi import FoxapiAdapter
from dispatcher.providers.kie import KieAdapter
from dispatcher.providers.rules import show
from dispatcher.providers.toapis import ToapisAdapter
from receiver.errors import InvalidInput

__all__ = [
    "ADAPTERS",
    "FoxapiAdapter",
    "KieAdapter",
    "ProviderAdapter",
    "ProviderError",
    "ProviderRejected",
    "ProviderUnavailable",
    "Submitted",
    "ToapisAdapter",
    "adapters",
    "get_adapter",
]


def adapters() -> dict[str, ProviderAdapter]:
    """Every provider adapter by name (plain objects: no clients, no I/O)."""
    found: list[ProviderAdapter] = [KieAdapter(), FoxapiAdapter(), ToapisAdapter()]
    return {adapter.name: adapter for adapter in found}


ADAPTERS: dict[str, ProviderAdapter] = adapters()


def get_adapter(name: str) -> ProviderAdapter:
    """The adapter of provider `name`, or InvalidInput naming the known providers."""
    adapter = ADAPTERS.get(name) if isinstance(name, str) else None
    if adapter is None:
        raise InvalidInput(
            f"provider {show(name)} is unknown: use one of {', '.join(sorted(ADAPTERS))}",
            field="provider",
            rule="one_of",
            value=show(name),
        )
    return adapter
