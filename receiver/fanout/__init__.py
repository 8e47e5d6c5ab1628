"""Fan-out: durable, signed delivery of events to webhooks, Slack and Discord."""

from __future__ import annotations

from receiver.fanout.plugin import Fanout, FanoutPlugin
from receiver.fanout.worker import DeliveryWorker

__all__ = ["DeliveryWorker", "Fanout", "FanoutPlugin"]
