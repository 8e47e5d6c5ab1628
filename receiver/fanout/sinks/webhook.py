"""Generic webhooks, signed per Standard Webhooks; the body is the stored event JSON."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import httpx

from receiver.fanout.sinks.base import BaseSink, Target
from receiver.signatures.standard_webhooks import signature_header

USER_AGENT = "taskhook-webhooks/1"


class WebhookSink(BaseSink):
    """`webhook-id` is the event id on every attempt and replay; one signature per secret."""

    kind = "webhook"
    signed = True
    url_is_secret = False

    def build(self, target: Target, event: Mapping[str, Any], body: bytes) -> httpx.Request:
        """POST the event with `webhook-id`, `webhook-timestamp`, `webhook-signature`."""
        msg_id = str(event["id"])
        timestamp = int(time.time())
        headers = {
            **dict(target.headers),  # custom headers first: ours below always win
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature_header(target.secrets, msg_id, timestamp, body),
        }
        return httpx.Request("POST", target.url, content=body, headers=headers)
