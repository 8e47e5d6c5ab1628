"""AWS Lambda entry point: taskhook's HTTP app through Mangum, plus the scheduled tick.

Function handler: `handler.handler`. Configure with the usual environment variables
(`TASKHOOK_DB=postgresql://...`, `TASKHOOK_SECRET_KEY`, `TASKHOOK_ADMIN_TOKEN`,
`TASKHOOK_PUBLIC_URL`, provider keys). Background workers are always off here (a
function is frozen between invocations): an EventBridge schedule invokes this same
function with `{"taskhook": "tick"}` (or a classic "Scheduled Event"), which runs one
bounded tick: inbox processing, due polls, submissions and due deliveries.
See README.md beside this file.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from mangum import Mangum

from dispatcher.cli import logs
from dispatcher.compose import build_app
from receiver.settings import Settings, ensure_local_secrets
from receiver.tick import DEFAULT_MAX_ROUNDS, run_tick

log = logging.getLogger("taskhook.lambda")


def load_settings() -> Settings:
    """Settings from the function's environment, with background workers off; logs set up."""
    settings = Settings.from_env(workers=False)
    logs.configure(settings.log_format)
    logging.getLogger("mangum").setLevel(logging.WARNING)  # one line per invocation is enough
    settings, notes = ensure_local_secrets(settings)
    for note in notes:
        log.warning("%s", note)
    return settings


# Built once per container (a cold start) and reused by warm invocations. The app
# opens its database in its lifespan, which Mangum runs around every invocation.
SETTINGS = load_settings()
APP = build_app(SETTINGS)
_http = Mangum(APP, lifespan="auto")


def is_tick(event: Any) -> bool:
    """True for a scheduler's invocation rather than an HTTP request."""
    if not isinstance(event, dict):
        return False
    return event.get("taskhook") == "tick" or event.get("detail-type") == "Scheduled Event"


async def tick(max_rounds: int = DEFAULT_MAX_ROUNDS) -> dict[str, Any]:
    """One bounded tick with the app's lifespan (database, parts) around it."""
    async with APP.router.lifespan_context(APP):
        result = await run_tick(APP.state.runtime.runner, max_rounds=max_rounds)
    body = result.to_api()
    if result.failed:
        # an error result makes the failure visible in the function's metrics and alarms
        raise RuntimeError(f"taskhook tick: worker(s) failed: {', '.join(result.failed)}")
    log.info("tick handled %d item(s) in %d pass(es)", result.total, result.rounds)
    return body


def handler(event: Any, context: Any) -> dict[str, Any]:
    """The Lambda entry point: a scheduled tick, or an HTTP request for the app."""
    if is_tick(event):
        rounds = event.get("rounds", DEFAULT_MAX_ROUNDS)
        # Mangum set up this loop; reuse it so warm invocations share one loop
        loop = asyncio.get_event_loop()
        return loop.run_until_complete(tick(int(rounds)))
    response: dict[str, Any] = _http(event, context)
    return response
