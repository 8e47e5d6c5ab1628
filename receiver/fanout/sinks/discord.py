"""Discord webhooks: content plus one embed; 429 holds, 404 means the webhook is gone."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import httpx

from receiver.fanout.pacing import TokenBucket
from receiver.fanout.sinks.base import BaseSink, Target, Verdict
from receiver.fanout.sinks.summary import summarise
from receiver.retry import MAX_RETRY_AFTER_S
from receiver.settings import RateLimit

COLOURS = {"succeeded": 0x2EB67D, "failed": 0xE01E5A, "expired": 0xECB22E}
GREY = 0x99AAB5


def discord_message(event: Mapping[str, Any]) -> dict[str, Any]:
    """The webhook JSON for one event (mentions disabled)."""
    summary = summarise(event)
    fields = [{"name": "Status", "value": summary.status, "inline": True}]
    if summary.provider_model:
        fields.append({"name": "Provider / model", "value": summary.provider_model, "inline": True})
    if summary.character_id:
        fields.append({"name": "Character id", "value": summary.character_id, "inline": False})
    if summary.links:
        links = "\n".join(f"[Result {i}]({u})" for i, u in enumerate(summary.links, 1))
        fields.append({"name": "Results", "value": links[:1024], "inline": False})
    if summary.error:
        fields.append({"name": "Error", "value": summary.error[:1024], "inline": False})
    embed: dict[str, Any] = {
        "title": summary.title[:256],
        "color": COLOURS.get(summary.status, GREY),
        "fields": fields,
    }
    if summary.prompt:
        embed["description"] = summary.prompt
    if summary.task_id:
        embed["footer"] = {"text": summary.task_id}
    if event.get("created_at"):
        embed["timestamp"] = event["created_at"]
    return {
        "content": summary.fallback[:2000],
        "embeds": [embed],
        "allowed_mentions": {"parse": []},
    }


def body_retry_after(body: bytes) -> float | None:
    """`retry_after` (seconds) from a Discord 429 body, if it is a sane number."""
    try:
        value = json.loads(body).get("retry_after")
        seconds = float(value)
    except (ValueError, TypeError, AttributeError):
        return None
    if math.isnan(seconds) or seconds < 0:
        return None
    return min(seconds, MAX_RETRY_AFTER_S)


class DiscordSink(BaseSink):
    """Paced per subscriber; honours 429 from the header or the body."""

    kind = "discord"
    pace: RateLimit | None = RateLimit(5, 2.5)  # Discord: 5 per 2 s per webhook, with a margin

    def __init__(self, rate_per_s: float = 2.0, burst: float = 5.0) -> None:
        self.bucket = TokenBucket(rate_per_s, burst)

    def wait_s(self, target: Target) -> float:
        """Seconds until this subscriber may receive another message."""
        return self.bucket.take(target.subscriber_id)

    def build(self, target: Target, event: Mapping[str, Any], body: bytes) -> httpx.Request:
        """POST the message."""
        content = json.dumps(discord_message(event)).encode()
        headers = {"content-type": "application/json"}
        return httpx.Request("POST", target.url, content=content, headers=headers)

    def judge(self, target: Target, status: int, headers: httpx.Headers, body: bytes) -> Verdict:
        """404 disables (the webhook was deleted); 429 waits as told."""
        if status == 404:
            return Verdict("gone", status, "HTTP 404: the Discord webhook was deleted")
        verdict = super().judge(target, status, headers, body)
        if status != 429:
            return verdict
        wait = verdict.retry_after_s
        if wait is None:
            wait = body_retry_after(body)
        self.bucket.hold(target.subscriber_id, wait or 1.0)
        return Verdict("failed", status, verdict.error, wait)
