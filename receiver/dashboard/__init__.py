"""The web dashboard served at `/ui`: tasks, events, deliveries, subscribers, callbacks."""

from __future__ import annotations

from receiver.dashboard.plugin import DashboardPlugin

__all__ = ["DashboardPlugin"]
