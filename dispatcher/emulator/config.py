"""How the provider emulator behaves: timing, failures, keys and quirks."""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_DELAY_S = 5.0
DEFAULT_CALLBACK_RETRIES = 3
DEFAULT_CALLBACK_TIMEOUT_S = 10.0


@dataclass(frozen=True, kw_only=True)
class EmulatorConfig:
    """Settings of one emulator instance (all providers share them).

    - `delay_s`: seconds from create to the final state (event-loop clock).
    - `fail_rate`: fraction (0-1) of tasks that end failed with a realistic message.
    - `kie_webhook_key`: when set, kie callbacks carry `X-Webhook-Timestamp` and
      `X-Webhook-Signature`.
    - `api_key`: the bearer every request must carry; None accepts any non-empty bearer.
    - `seed`: seeds ids and failure draws (None = unpredictable).
    - `estimated_time_s`: foxapi `task_info.estimated_time`; None = `delay_s`.
    - `callback_delay_s`: extra wait between the final state and its callback.
    - `query_delay_s`: how long every read (kie recordInfo, foxapi/toapis task query)
      takes to answer, like a real internet round trip.
    - `kie_credits`: the kie account's starting credits (`GET /api/v1/chat/credit` answers
      them minus what succeeded kie tasks consumed).
    - `quirks`: serve the alternative shapes seen in the wild on every other task (kie
      `message` instead of `msg` and `character_id_list`; foxapi `output` instead of `results`).
    """

    delay_s: float = DEFAULT_DELAY_S
    fail_rate: float = 0.0
    kie_webhook_key: str | None = field(default=None, repr=False)
    api_key: str | None = field(default=None, repr=False)
    seed: int | None = None
    estimated_time_s: float | None = None
    callback_delay_s: float = 0.0
    query_delay_s: float = 0.0
    quirks: bool = False
    kie_credits: float = 1000.0
    callback_retries: int = DEFAULT_CALLBACK_RETRIES
    callback_timeout_s: float = DEFAULT_CALLBACK_TIMEOUT_S
    serve_files: bool = False  # result URLs point at the emulator's own /_emulator/files
    files_base_url: str | None = None  # with serve_files: None = the request's base URL

    def __post_init__(self) -> None:
        if self.delay_s < 0:
            raise ValueError(f"delay_s must be >= 0, not {self.delay_s}")
        if not 0.0 <= self.fail_rate <= 1.0:
            raise ValueError(f"fail_rate must be between 0 and 1, not {self.fail_rate}")
        if self.query_delay_s < 0:
            raise ValueError(f"query_delay_s must be >= 0, not {self.query_delay_s}")
        if self.callback_retries < 0:
            raise ValueError(f"callback_retries must be >= 0, not {self.callback_retries}")

    @property
    def estimated_s(self) -> float:
        """What foxapi announces as `estimated_time`."""
        return self.delay_s if self.estimated_time_s is None else self.estimated_time_s
