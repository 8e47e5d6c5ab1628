"""The per-app emulator context the routes share (reached via `request.app.state.emulator`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request

from dispatcher.emulator.callbacks import CallbackSender
from dispatcher.emulator.config import EmulatorConfig
from dispatcher.emulator.faults import Faults
from dispatcher.emulator.state import TaskStore
from dispatcher.emulator.stats import Stats

FAKE_HOST = "https://cdn.emulator.example"


@dataclass
class Emulator:
    """Config, tasks, counters, faults and the callback sender of one emulator app."""

    config: EmulatorConfig
    store: TaskStore = field(init=False)
    stats: Stats = field(init=False)
    faults: Faults = field(init=False)
    sender: CallbackSender = field(init=False)

    def __post_init__(self) -> None:
        self.store = TaskStore(self.config)
        self.stats = Stats()
        self.faults = Faults()
        self.sender = CallbackSender(self.config, self.store, self.stats)


def emulator(request: Request) -> Emulator:
    """The emulator serving `request`."""
    found: Emulator = request.app.state.emulator
    return found


def fake_url(provider: str, task_id: str, name: str) -> str:
    """A well-formed https URL for a result file (never fetched)."""
    return f"{FAKE_HOST}/{provider}/{task_id}/{name}"
