"""Entry point: parse, run a command module, turn failures into one line and an exit code."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import threading
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from types import ModuleType
from typing import NoReturn

from dispatcher.cli import callbacks, deliveries, events, replay, serve, subscribers, tasks, tick
from dispatcher.cli import doctor as doctor_cmd
from dispatcher.cli import emulator as emulator_cmd
from dispatcher.cli import media as media_cmd
from dispatcher.cli import providers as providers_cmd
from dispatcher.cli import secrets as secrets_cmd
from dispatcher.cli import submit as submit_cmd
from dispatcher.cli.common import CliError
from receiver.errors import TaskhookError

COMMANDS: list[ModuleType] = [serve, tasks, events, tick, callbacks, emulator_cmd]
COMMANDS += [subscribers, deliveries, replay]
COMMANDS += [submit_cmd]
COMMANDS += [doctor_cmd]
COMMANDS += [providers_cmd]
COMMANDS += [media_cmd, secrets_cmd]


class Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exits 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _version() -> str:
    try:
        return version("taskhook")
    except PackageNotFoundError:
        return "unknown"


def build_parser() -> Parser:
    """The full parser with every registered command."""
    parser = Parser(prog="taskhook", description="Dispatch, receive and fan out AI video tasks.")
    parser.add_argument("--version", action="version", version=f"taskhook {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    for module in COMMANDS:
        module.register(sub)
    return parser


def run(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit code (argparse may raise SystemExit: see `main`)."""
    args = build_parser().parse_args(argv)
    try:
        result = args.handler(args)
        if asyncio.iscoroutine(result):
            result = asyncio.run(result)
        return int(result or 0)
    except CliError as exc:
        print(f"taskhook: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except TaskhookError as exc:
        print(f"taskhook: error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


def main(argv: Sequence[str] | None = None) -> int:
    """Run `taskhook ARGS...` and return its exit code; output goes to stdout and stderr.

    Tests call it in-process with `argv`. Without `argv` it is the console script (and
    `python -m dispatcher.cli`): the arguments are the process's, and the caller exits with
    the code returned.
    """
    logging.basicConfig(level=logging.WARNING)
    try:
        code = run(argv)
    except SystemExit as exc:  # argparse: --help, --version (0) and usage errors (2)
        code = _exit_code(exc)
    if argv is None and code != 0 and _stray_threads():
        # A failed command must end now: a thread some library left running (e.g. a
        # database connection's) would otherwise keep the process alive, and systemd or
        # compose would never restart it.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def _exit_code(exc: SystemExit) -> int:
    """SystemExit's code as a process would report it."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1


def _stray_threads() -> bool:
    """True when a non-daemon thread besides the main one is still running."""
    main = threading.main_thread()
    return any(t is not main and not t.daemon and t.is_alive() for t in threading.enumerate())
