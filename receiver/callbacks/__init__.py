"""Inbound provider callbacks: verified, stored durably, processed once."""

from __future__ import annotations

from receiver.callbacks.plugin import CallbacksPlugin
from receiver.callbacks.processor import InboxOptions, InboxWorker

__all__ = ["CallbacksPlugin", "InboxOptions", "InboxWorker"]
