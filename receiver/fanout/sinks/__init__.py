"""The sink registry: subscriber kind -> sink class. A new sink is one file and one line."""

from __future__ import annotations

from receiver.fanout.sinks.base import Sink, Target, Verdict
from receiver.fanout.sinks.discord import DiscordSink
from receiver.fanout.sinks.slack import SlackSink
from receiver.fanout.sinks.webhook import WebhookSink

SINKS: dict[str, type[Sink]] = {
    "webhook": WebhookSink,
    "slack": SlackSink,
    "discord": DiscordSink,
}


def build_sinks() -> dict[str, Sink]:
    """One fresh instance of every sink (they hold per-subscriber pacing state)."""
    return {kind: cls() for kind, cls in SINKS.items()}


__all__ = ["SINKS", "Sink", "Target", "Verdict", "build_sinks"]
