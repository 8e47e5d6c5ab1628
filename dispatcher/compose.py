"""The composition root: which parts make up `taskhook serve`, and how they are wired.

Each part receives the others' services it needs as constructor arguments (typed slots,
filled when that part starts). Adding a part is one line here.
"""

from __future__ import annotations

from starlette.applications import Starlette

from dispatcher.dispatch_part import DispatchPart
from receiver.app import create_app
from receiver.callbacks.callbacks_part import CallbacksPart
from receiver.dashboard.collaborators import Collaborators
from receiver.dashboard.dashboard_part import DashboardPart
from receiver.db import Database
from receiver.fanout.fanout_part import FanoutPart
from receiver.fanout.ssrf import Resolver, system_resolver
from receiver.media.media_part import MediaPart
from receiver.retention import RetentionPart
from receiver.runtime import Part
from receiver.settings import Settings


def parts(settings: Settings, *, resolver: Resolver = system_resolver) -> list[Part]:
    """Every part of the full service, in start-up order.

    `resolver` resolves subscriber and media host names (tests pin them to loopback).
    """
    fanout = FanoutPart(resolver)
    media = MediaPart(resolver)
    dispatch = DispatchPart(fanout=fanout.fanout)
    links = Collaborators(accounts=dispatch.accounts, media=media.archive, fanout=fanout.fanout)
    return [
        dispatch,
        DashboardPart(links),
        CallbacksPart(confirmer=dispatch),
        fanout,
        RetentionPart(),
        media,
    ]


def build_app(settings: Settings, *, db: Database | None = None) -> Starlette:
    """The complete taskhook app: receiver, fan-out and dispatcher."""
    return create_app(settings, parts(settings), db=db)
