"""`Confirmer`: what the inbox needs to re-read a task at its provider.

A callback body that is not signed is only a hint; where the provider can be asked,
the inbox records the provider's own answer instead. The dispatcher implements this
(it holds the adapters and the query budget); the composition function hands it to
the callbacks part. Without one, unsigned bodies are trusted (with a warning).
"""

from __future__ import annotations

from typing import Protocol

from receiver.provider_state import ProviderState


class Confirmer(Protocol):
    """Re-reads tasks at the providers it knows."""

    def confirms(self, provider: str) -> bool:
        """Whether `provider`'s tasks can be re-read."""

    async def confirm(self, provider: str, provider_task_id: str) -> ProviderState:
        """The task's state at its provider (raises RetryLater / GiveUp on failure)."""
