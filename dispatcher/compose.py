"""The plugin registry: which parts make up `taskhook serve`. Adding a part is one line here."""

from __future__ import annotations

from starlette.applications import Starlette

from dispatcher.plugin import DispatchPlugin
from receiver.app import create_app
from receiver.callbacks import CallbacksPlugin
from receiver.dashboard import DashboardPlugin
from receiver.db import Database
from receiver.fanout import FanoutPlugin
from receiver.media import MediaPlugin
from receiver.retention import RetentionPlugin
from receiver.runtime import Plugin
from receiver.settings import Settings


def plugins(settings: Settings) -> list[Plugin]:
    """Every part of the full service, in start-up order."""
    found: list[Plugin] = []
    found.append(DispatchPlugin())
    found.append(DashboardPlugin())
    found.append(CallbacksPlugin())
    found.append(FanoutPlugin())
    found.append(RetentionPlugin())
    found.append(MediaPlugin())
    return found


def build_app(settings: Settings, *, db: Database | None = None) -> Starlette:
    """The complete taskhook app: receiver, fan-out and dispatcher."""
    return create_app(settings, plugins(settings), db=db)
