"""Slack incoming webhooks: a text fallback plus Block Kit blocks, about 1 message/s."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from receiver.fanout.pacing import TokenBucket
from receiver.fanout.sinks.base import BaseSink, Target, Verdict
from receiver.fanout.sinks.summary import Summary, summarise
from receiver.settings import RateLimit

EMOJI = {"succeeded": ":white_check_mark:", "failed": ":x:", "expired": ":hourglass:"}


def _escape(text: str) -> str:
    """Slack mrkdwn control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _fields(summary: Summary) -> list[dict[str, str]]:
    fields = [{"type": "mrkdwn", "text": f"*Status*\n{_escape(summary.status)}"}]
    if summary.provider_model:
        fields.append(
            {"type": "mrkdwn", "text": f"*Provider / model*\n{_escape(summary.provider_model)}"}
        )
    if summary.task_id:
        fields.append({"type": "mrkdwn", "text": f"*Task*\n`{_escape(summary.task_id)}`"})
    if summary.character_id:
        fields.append(
            {"type": "mrkdwn", "text": f"*Character id*\n`{_escape(summary.character_id)}`"}
        )
    return fields


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:2900]}}


def slack_message(event: Mapping[str, Any]) -> dict[str, Any]:
    """The incoming-webhook JSON for one event."""
    summary = summarise(event)
    emoji = EMOJI.get(summary.status, ":bell:")
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"{summary.title}"[:150]}},
        {"type": "section", "fields": _fields(summary)},
    ]
    if summary.prompt:
        blocks.append(_section(f"*Prompt*\n>{_escape(summary.prompt)}"))
    if summary.links:
        links = "\n".join(f"<{u}|Result {i}>" for i, u in enumerate(summary.links, 1))
        blocks.append(_section(f"*Results*\n{links}"))
    if summary.error:
        blocks.append(_section(f"*Error*\n```{_escape(summary.error)}```"))
    return {"text": f"{emoji} {summary.fallback}", "blocks": blocks}


class SlackSink(BaseSink):
    """Paced per subscriber by a token bucket; a 429's Retry-After holds the subscriber."""

    kind = "slack"
    pace: RateLimit | None = RateLimit(1, 1.0)  # Slack: about one message a second per webhook

    def __init__(self, rate_per_s: float = 1.0, burst: float = 1.0) -> None:
        self.bucket = TokenBucket(rate_per_s, burst)

    def wait_s(self, target: Target) -> float:
        """Seconds until this subscriber may receive another message."""
        return self.bucket.take(target.subscriber_id)

    def build(self, target: Target, event: Mapping[str, Any], body: bytes) -> httpx.Request:
        """POST the Block Kit message."""
        content = json.dumps(slack_message(event)).encode()
        headers = {"content-type": "application/json"}
        return httpx.Request("POST", target.url, content=content, headers=headers)

    def judge(self, target: Target, status: int, headers: httpx.Headers, body: bytes) -> Verdict:
        """Shared rules; a 429 also pauses this subscriber's other messages."""
        verdict = super().judge(target, status, headers, body)
        if status == 429:
            self.bucket.hold(target.subscriber_id, verdict.retry_after_s or 1.0)
        return verdict
