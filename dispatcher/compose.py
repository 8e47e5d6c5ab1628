"""The composition root: which parts make up `taskhook serve`, and how they are wired.

Each part receives the others' services it needs as constructor arguments (typed slots,
filled when that part starts). Adding a part is one line here.
"""

from __future__ import annotations

from starlette.applications import Starlette

from dispatcher.plugin import DispatchPlugin
from receiver.app import create_app
from receiver.callbacks.plugin import CallbacksPlugin
from receiver.dashboard.collaborators import Collaborators
from receiver.dashboard.plugin import DashboardPlugin
from receiver.db import Database
from receiver.fanout.plugin import FanoutPlugin
from receiver.media.plugin import MediaPlugin
from receiver.retention import RetentionPlugin
from receiver.runtime import Plugin
from receiver.settings import Settings


def plugins(settings: Settings) -> list[Plugin]:
    """Every part of the full service, in start-up order."""
    fanout = FanoutPlugin()
    media = MediaPlugin()
    dispatch = DispatchPlugin(fanout=fanout.fanout)
    links = Collaborators(accounts=dispatch.accounts, media=media.archive, fanout=fanout.fanout)
    return [
        dispatch,
        DashboardPlugin(links),
        CallbacksPlugin(confirmer=dispatch),
        fanout,
        RetentionPlugin(),
        media,
    ]


def build_app(settings: Settings, *, db: Database | None = None) -> Starlette:
    """The complete taskhook app: receiver, fan-out and dispatcher."""
    return create_app(settings, plugins(settings), db=db)
