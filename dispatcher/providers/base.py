"""What every provider adapter offers, and the errors it raises.

An adapter knows one provider's request shapes, validation rules, result shapes and
error codes. It does no scheduling, storing or retrying: the dispatcher does that.

    ProviderError                 base; carries provider, HTTP status / in-body code, message
    ├── ProviderRejected      fail now: 400/401/402/403/404/422/433/451/501/505 (a GiveUp)
    └── ProviderUnavailable   try later: 408/429/455/5xx/network (a RetryLater, with
                              `delay_s` = `retry_after_s` from the provider's Retry-After)

Workers read them through `receiver.retry`'s RetryLater and GiveUp, which the receiver
defines and the dispatcher's errors extend (receiver never imports the dispatcher).
`retryable` is derived from that: True exactly for a RetryLater.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from receiver.provider_state import ProviderState
from receiver.retry import GiveUp, RetryLater
from receiver.settings import ProviderSettings


class ProviderError(Exception):
    """A provider request failed."""

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        code: str | int | None = None,
        http_status: int | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.message = message
        self.code = code
        self.http_status = http_status
        self.retry_after_s = retry_after_s

    @property
    def retryable(self) -> bool:
        """Whether trying again can help: the error is a RetryLater (ProviderUnavailable)."""
        return isinstance(self, RetryLater)

    def to_error(self) -> dict[str, Any]:
        """The task's `error` object."""
        code = self.code if self.code is not None else self.http_status
        return {"code": f"provider_{code}" if code is not None else "provider_error",
                "message": self.message}  # fmt: skip


class ProviderRejected(ProviderError, GiveUp):
    """Permanent: the task fails at once with the provider's message."""


class ProviderUnavailable(ProviderError, RetryLater):
    """Transient: retry with backoff and jitter, honouring `retry_after_s`."""

    @property
    def delay_s(self) -> float | None:  # type: ignore[override]
        """The provider's Retry-After: the earliest sensible retry."""
        return self.retry_after_s


@dataclass(frozen=True)
class Submitted:
    """The provider accepted a task."""

    provider_task_id: str
    estimated_time_s: float | None = None
    state: ProviderState | None = None


class ProviderAdapter(Protocol):
    """One provider. Implementations live one per module in this package."""

    name: str

    def models(self) -> frozenset[str]:
        """Every model this adapter can submit."""

    def validate(self, model: str, task_input: dict[str, Any]) -> dict[str, Any]:
        """Check every documented rule; return the input to send (defaults untouched).

        Raises receiver.errors.InvalidInput naming the field, the rule and the value.
        """

    def supports_callback(self, model: str, settings: ProviderSettings) -> bool:
        """Whether tasks of `model` are submitted with a callback URL."""

    async def submit(
        self,
        client: httpx.AsyncClient,
        settings: ProviderSettings,
        model: str,
        task_input: dict[str, Any],
        callback_url: str | None,
    ) -> Submitted:
        """Create the task at the provider (one HTTP request, no retries)."""

    async def query(
        self,
        client: httpx.AsyncClient,
        settings: ProviderSettings,
        provider_task_id: str,
        task_input: Mapping[str, Any] | None = None,
    ) -> ProviderState:
        """Read the task's current state (one HTTP request, no retries).

        `task_input` is the stored request, when known: it tells how to read the result
        (e.g. a toapis character creation versus a video generation).
        """
