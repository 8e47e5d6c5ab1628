"""The per-app emulator context the routes share (reached via `request.app.state.emulator`)."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field

from starlette.requests import Request

from dispatcher.emulator.callbacks import CallbackSender
from dispatcher.emulator.config import EmulatorConfig
from dispatcher.emulator.faults import Faults
from dispatcher.emulator.state import TaskStore
from dispatcher.emulator.stats import Stats

FAKE_HOST = "https://cdn.emulator.example"
# Where result files are served; set per request by `files.FilesBaseMiddleware`.
FILES_BASE: ContextVar[str] = ContextVar("emulator_files_base", default=FAKE_HOST)


@dataclass
class Emulator:
    """Config, tasks, counters, faults and the callback sender of one emulator app."""

    config: EmulatorConfig
    store: TaskStore = field(init=False)
    stats: Stats = field(init=False)
    faults: Faults = field(init=False)
    sender: CallbackSender = field(init=False)
    deleted_files: set[str] = field(default_factory=set)

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
    """The URL of a result file: served by the emulator itself (`/_emulator/files/...`)
    when a request set FILES_BASE, else a well-formed https URL that is never fetched."""
    return f"{FILES_BASE.get()}/{provider}/{task_id}/{name}"
