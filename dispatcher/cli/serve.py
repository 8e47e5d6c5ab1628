"""`taskhook serve`: the HTTP service plus background workers, on SQLite or PostgreSQL."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import importlib.util
import logging
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import uvicorn

from dispatcher.cli import logs
from dispatcher.cli.common import CliError, add_db_arg, settings_from
from dispatcher.compose import build_app
from receiver.db import migrate, open_database
from receiver.settings import Settings, ensure_local_secrets

log = logging.getLogger("taskhook.serve")
GRACEFUL_SHUTDOWN_S = 15
KEEP_ALIVE_S = 5  # an idle keep-alive connection is closed after this
_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Server(uvicorn.Server):
    """uvicorn's server, but a SIGTERM/SIGINT ends in a graceful shutdown and exit 0.

    (uvicorn re-raises the captured signal after shutting down, which would make the
    process die of it; the contract says `serve` exits 0.)
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in _SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def register(sub: Any) -> None:
    """Add the `serve` command."""
    parser = sub.add_parser("serve", help="run the receiver, dispatcher and delivery workers")
    add_db_arg(parser)
    parser.add_argument("--host", help="listen address (env TASKHOOK_HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="listen port (env TASKHOOK_PORT, default 8080)")
    parser.add_argument(
        "--no-workers",
        action="store_true",
        help="HTTP only; run background work with `taskhook tick` (env TASKHOOK_WORKERS=0)",
    )
    parser.set_defaults(handler=handle)


def bind(settings: Settings) -> socket.socket:
    """Bind the listening socket up front, so a busy port is one clear error."""
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP_NODELAY on accept
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((settings.host, settings.port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise CliError(
                f"port {settings.port} on {settings.host} is already in use: "
                "stop the other process or pass --port"
            ) from exc
        raise CliError(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror}") from exc
    sock.set_inheritable(True)
    return sock


def handle(args: argparse.Namespace) -> int:
    """Serve on the configured server stack's event loop until SIGTERM/SIGINT."""
    settings = settings_from(args, workers=False if args.no_workers else None)
    logs.configure(settings.log_format)
    with asyncio.Runner(loop_factory=loop_factory(settings.server_stack)) as runner:
        return runner.run(serve(settings))


def loop_factory(stack: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop for the `fast` stack when it is installed; asyncio's otherwise."""
    if stack != "fast":
        return None
    try:
        import uvloop
    except ImportError:
        log.warning("uvloop is not installed: serving on asyncio's event loop")
        return None
    return uvloop.new_event_loop


def http_protocol(stack: str) -> str:
    """httptools for the `fast` stack when it is installed; h11 otherwise."""
    if stack == "fast" and importlib.util.find_spec("httptools") is not None:
        return "httptools"
    return "h11"


async def serve(settings: Settings) -> int:
    """Open and migrate the store, then serve until SIGTERM/SIGINT."""
    settings, notes = ensure_local_secrets(settings)
    for note in notes:
        log.warning("%s", note)
    with contextlib.closing(bind(settings)) as sock:  # closed also when the store fails
        db = await open_database(settings.db)
        try:
            await migrate(db)
            app = build_app(settings, db=db)
            config = uvicorn_config(app, settings)
            log.info(
                "taskhook serving on http://%s:%d (database %s, workers %s, %s on %s)",
                settings.host, settings.port, _safe_db(settings.db),
                "on" if settings.workers else "off", config.http,
                type(asyncio.get_running_loop()).__module__.split(".")[0],
            )  # fmt: skip
            await Server(config).serve(sockets=[sock])
        finally:
            await db.close()
    log.info("taskhook stopped")
    return 0


def uvicorn_config(app: Any, settings: Settings) -> uvicorn.Config:
    """The server's bounds: connections (503 beyond), keep-alive, graceful shutdown.

    The time a request body may take is bounded by the app (`TASKHOOK_BODY_READ_TIMEOUT_S`).
    """
    return uvicorn.Config(
        app,
        log_config=None,
        http=http_protocol(settings.server_stack),
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        server_header=False,
        limit_concurrency=settings.max_connections,
        timeout_keep_alive=KEEP_ALIVE_S,
    )


def _safe_db(url: str) -> str:
    """The database location without a password."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
