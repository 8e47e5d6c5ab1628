"""`taskhook emulator`: a local fake of kie.ai, foxapi and toapis (see docs/EMULATOR.md)."""

from __future__ import annotations

import argparse
import logging
import os
from typing import Any

import uvicorn

from dispatcher.cli import logs
from dispatcher.cli.common import CliError
from dispatcher.cli.serve import GRACEFUL_SHUTDOWN_S, Server, bind
from dispatcher.emulator import EmulatorConfig, create_emulator_app
from receiver.settings import Settings

log = logging.getLogger("taskhook.emulator")
DEFAULT_PORT = 9000


def register(sub: Any) -> None:
    """Add the `emulator` command."""
    parser = sub.add_parser("emulator", help="run a local fake of kie.ai, foxapi and toapis")
    parser.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="listen port (default 9000)")
    parser.add_argument("--delay", type=float, default=5.0, help="seconds until a task finishes")
    parser.add_argument("--fail-rate", type=float, default=0.0, help="fraction of tasks that fail")
    parser.add_argument(
        "--kie-webhook-key",
        help="sign kie callbacks with this HMAC key (env TASKHOOK_KIE_WEBHOOK_KEY)",
    )
    parser.add_argument("--api-key", help="the only bearer accepted (default: any non-empty)")
    parser.add_argument("--seed", type=int, help="seed ids and failure draws")
    parser.add_argument("--estimated-time", type=float, help="foxapi estimated_time (s)")
    parser.add_argument("--callback-delay", type=float, default=0.0, help="extra callback wait")
    parser.add_argument("--query-delay", type=float, default=0.0, help="seconds each read takes")
    parser.add_argument("--quirks", action="store_true", help="serve alternative shapes too")
    parser.add_argument(
        "--kie-credits", type=float, default=1000.0, help="kie account credits (default 1000)"
    )
    parser.add_argument(
        "--fake-file-urls", action="store_true",
        help="result URLs on https://cdn.emulator.example (never fetched) instead of served files",
    )  # fmt: skip
    parser.set_defaults(handler=handle)


def config_from(args: argparse.Namespace) -> EmulatorConfig:
    """The emulator config from the flags (usage errors exit 2)."""
    try:
        return EmulatorConfig(
            delay_s=args.delay,
            fail_rate=args.fail_rate,
            kie_webhook_key=args.kie_webhook_key or os.environ.get("TASKHOOK_KIE_WEBHOOK_KEY"),
            api_key=args.api_key,
            seed=args.seed,
            estimated_time_s=args.estimated_time,
            callback_delay_s=args.callback_delay,
            query_delay_s=args.query_delay,
            quirks=args.quirks,
            kie_credits=args.kie_credits,
            serve_files=not args.fake_file_urls,
        )
    except ValueError as exc:
        raise CliError(f"invalid emulator option: {exc}", exit_code=2) from exc


async def handle(args: argparse.Namespace) -> int:
    """Serve the emulator until SIGTERM/SIGINT; exit 0."""
    config = config_from(args)
    logs.configure("text")
    sock = bind(Settings(host=args.host, port=args.port))
    try:
        app = create_emulator_app(config)
        server_config = uvicorn.Config(
            app, log_config=None, timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
            server_header=False, access_log=False,
        )  # fmt: skip
        log.info(
            "provider emulator on http://%s:%d (delay %gs, fail rate %g, kie callbacks %s)",
            args.host, args.port, config.delay_s, config.fail_rate,
            "signed" if config.kie_webhook_key else "unsigned",
        )  # fmt: skip
        await Server(server_config).serve(sockets=[sock])
    finally:
        sock.close()
    log.info("provider emulator stopped")
    return 0
