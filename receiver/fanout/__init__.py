"""Fan-out: durable delivery of events to webhooks, Slack, Discord and message brokers."""

from __future__ import annotations

from receiver.fanout.plugin import Fanout, FanoutPlugin
from receiver.fanout.worker import DeliveryWorker

__all__ = ["DeliveryWorker", "Fanout", "FanoutPlugin"]
