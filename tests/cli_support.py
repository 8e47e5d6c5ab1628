"""Run the CLI in-process as a user runs it in a clean shell: argv, environment, directory.

`taskhook(...)` calls the console script's entry function (`dispatcher.cli.main.main`) and
hands back what a subprocess would: the exit code, stdout and stderr. It is much faster than
a subprocess; `tests/test_console_script.py` keeps the installed script itself tested.
Call it from an async test with `await asyncio.to_thread(taskhook, ...)`: a command runs
its own event loop (`asyncio.run`).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import sys
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from dispatcher.cli.main import main

# A command changes process-wide state (environment, directory, sys.stdout, logging):
# one at a time.
_ONE_AT_A_TIME = threading.Lock()
_CONFIGURED_LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access")


@dataclass(frozen=True)
class Ran:
    """What a finished command left: like `subprocess.CompletedProcess`."""

    returncode: int
    stdout: str
    stderr: str


def console_script() -> str:
    """The installed `taskhook` script (the venv's bin/taskhook); skips the test without it."""
    beside = Path(sys.executable).with_name("taskhook")
    found = str(beside) if beside.exists() else shutil.which("taskhook")
    if found is None:
        pytest.skip("the taskhook console script is not installed (pip install -e .)")
    return found


def taskhook(*args: str, cwd: Path | None = None, env: Mapping[str, str] | None = None) -> Ran:
    """`taskhook ARGS...` with no TASKHOOK_* setting but `env`'s, in `cwd` when given."""
    out, err = io.StringIO(), io.StringIO()
    with (
        _ONE_AT_A_TIME,
        pytest.MonkeyPatch.context() as patch,
        _logging_restored(),
        _no_thread_left(args),
    ):
        for key in [k for k in os.environ if k.startswith("TASKHOOK_")]:
            patch.delenv(key)
        for key, value in (env or {}).items():
            patch.setenv(key, value)
        if cwd is not None:
            patch.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(args))
    return Ran(code, out.getvalue(), err.getvalue())


@contextlib.contextmanager
def _logging_restored() -> Iterator[None]:
    """`serve` and `tick` set up logging for the process: put pytest's set-up back after."""
    saved = {
        name: (logger.handlers[:], logger.level, logger.propagate)
        for name in _CONFIGURED_LOGGERS
        for logger in [logging.getLogger(name)]
    }
    try:
        yield
    finally:
        for name, (handlers, level, propagate) in saved.items():
            logger = logging.getLogger(name)
            logger.handlers[:] = handlers
            logger.setLevel(level)
            logger.propagate = propagate


@contextlib.contextmanager
def _no_thread_left(args: tuple[str, ...]) -> Iterator[None]:
    """A command must not leave a thread running (a subprocess would have hidden it).

    Checked only on the main thread: from `asyncio.to_thread` the test's own event loop
    may start threads meanwhile.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = set(threading.enumerate())
    yield
    for thread in set(threading.enumerate()) - before:
        if not thread.daemon:
            thread.join(timeout=5)
            assert not thread.is_alive(), f"`taskhook {' '.join(args)}` left {thread} running"
