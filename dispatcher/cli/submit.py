"""`taskhook submit PROVIDER MODEL -p key=value ...`: submit to a running `taskhook serve`.

Values are JSON when they parse as JSON (numbers, booleans, lists, objects), else text:
`-p duration=8 -p image_urls='["https://..."]' -p prompt="a fox"`. A URL field given as
`@path` (`-p character_file_url=@./clip.mp4`) names a local file, uploaded first to kie's
File Upload API (`TASKHOOK_KIE_UPLOAD_URL`, key `TASKHOOK_KIE_API_KEY`). With `--wait`, a
progress bar follows the task until it ends, and through a `--then-json` chain to its last
task (printing each task id on the way); exit 0 on success, 1 when a task failed or
expired, 2 for invalid input.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from dispatcher.cli.common import CliError, add_db_arg, add_json_arg, print_json, settings_from
from dispatcher.providers.base import ProviderError
from dispatcher.uploads import local_paths, upload_local_files
from receiver.errors import InvalidInput
from receiver.settings import Settings
from receiver.statuses import ACTIVE, UNSUCCESSFUL
from receiver.task_options import parse_meta_args

UPLOAD_TIMEOUT_S = 300.0
DEFAULT_INTERVAL_S = 1.0


def register(sub: Any) -> None:
    """Add the `submit` command."""
    parser = sub.add_parser("submit", help="submit a task to a running taskhook serve")
    parser.add_argument("provider", help="kie, foxapi or toapis")
    parser.add_argument("model", help="e.g. sora-2, sora-2-characters")
    parser.add_argument(
        "-p", "--param", action="append", default=[], metavar="KEY=VALUE",
        help="an input field; VALUE is parsed as JSON when it can be (repeatable)",
    )  # fmt: skip
    parser.add_argument("--then-json", metavar="JSON", help="a follow-up submission (chaining)")
    parser.add_argument("--wait", action="store_true", help="follow the task until it ends")
    parser.add_argument("--webhook", metavar="URL", help="also send this task's events to URL")
    parser.add_argument(
        "--meta", action="append", default=[], metavar="KEY=VALUE",
        help="task metadata, echoed as data.metadata in its events (repeatable)",
    )  # fmt: skip
    parser.add_argument("--idempotency-key", metavar="KEY", help="send an Idempotency-Key")
    parser.add_argument("--url", help="taskhook's URL (default http://TASKHOOK_HOST:TASKHOOK_PORT)")
    parser.add_argument(
        "--interval", type=float, default=DEFAULT_INTERVAL_S, help=argparse.SUPPRESS
    )
    add_db_arg(parser)
    add_json_arg(parser)
    parser.set_defaults(handler=handle)


def parse_params(pairs: list[str]) -> dict[str, Any]:
    """`key=value` pairs as an input object (values as JSON when they parse)."""
    found: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise CliError(f"-p {pair!r}: write KEY=VALUE, e.g. -p prompt='a fox'", exit_code=2)
        try:
            found[key.strip()] = json.loads(raw)
        except ValueError:
            found[key.strip()] = raw
    return found


def _then(raw: str | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        then = json.loads(raw)
    except ValueError as exc:
        raise CliError(f"--then-json is not valid JSON: {exc}", exit_code=2) from exc
    if not isinstance(then, dict):
        raise CliError('--then-json must be an object {"provider", "model", "input"}', exit_code=2)
    return then


def _options(args: argparse.Namespace) -> dict[str, Any]:
    """`--webhook` and `--meta` as the body's `webhook` and `metadata`."""
    options: dict[str, Any] = {}
    if args.webhook:
        options["webhook"] = args.webhook
    try:
        metadata = parse_meta_args(args.meta)
    except InvalidInput as exc:
        raise CliError(exc.message, exit_code=2) from exc
    if metadata is not None:
        options["metadata"] = metadata
    return options


def base_url(args: argparse.Namespace, settings: Settings) -> str:
    """Where `taskhook serve` listens."""
    if args.url:
        return str(args.url).rstrip("/")
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host  # noqa: S104
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{settings.port}"


def admin_token(settings: Settings) -> str:
    """TASKHOOK_ADMIN_TOKEN, else the token file `serve` generated beside the database."""
    if settings.admin_token:
        return settings.admin_token
    if not settings.is_postgres:
        path = Path(settings.db).expanduser().resolve().parent / "taskhook.admin_token"
        if path.is_file():
            return path.read_text().strip()
    raise CliError(
        "no admin token: set TASKHOOK_ADMIN_TOKEN, or pass the --db that `taskhook serve` "
        "uses (its taskhook.admin_token file is read)",
        exit_code=2,
    )


async def handle(args: argparse.Namespace) -> int:
    """Submit; with --wait follow the task to its end."""
    settings = settings_from(args)
    task_input = await _with_uploads(settings, args.provider, parse_params(args.param))
    body: dict[str, Any] = {"provider": args.provider, "model": args.model,
                            "input": task_input}  # fmt: skip
    then = _then(args.then_json)
    if then is not None:
        body["then"] = then
    body.update(_options(args))
    headers = {"Authorization": f"Bearer {admin_token(settings)}"}
    if args.idempotency_key:
        headers["Idempotency-Key"] = args.idempotency_key
    url = base_url(args, settings)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
        task = await _post(client, url, body)
        if args.wait:
            steps = _chain_length(then)
            task = await _follow_chain(client, url, task, args.interval, steps, quiet=args.json)
    return _report(task, as_json=args.json, waited=args.wait)


async def _with_uploads(
    settings: Settings, provider: str, task_input: dict[str, Any]
) -> dict[str, Any]:
    """Upload local `@file` values of URL fields first (kie's File Upload API)."""
    if not local_paths(task_input):
        return task_input
    async with httpx.AsyncClient(timeout=UPLOAD_TIMEOUT_S) as client:
        try:
            return await upload_local_files(client, settings.provider(provider), task_input)
        except ProviderError as exc:
            raise CliError(f"uploading a local file to {provider} failed: {exc.message}") from exc


def _chain_length(then: dict[str, Any] | None) -> int:
    """How many follow-ups a `then` (nested through `then.then`) asks for."""
    count = 0
    while isinstance(then, dict):
        count += 1
        then = then.get("then")
    return count


async def _follow_chain(
    client: httpx.AsyncClient,
    url: str,
    task: dict[str, Any],
    interval_s: float,
    steps: int,
    *,
    quiet: bool,
) -> dict[str, Any]:
    """Follow `task`, then each follow-up it creates, to the chain's last task."""
    if task["status"] in ACTIVE:
        task = await _follow(client, url, task, interval_s)
    for _ in range(steps):
        if task["status"] != "succeeded":
            break
        child = await _child(client, url, task["id"])
        if child is None:
            break
        if not quiet:
            _print_task(task)
            print(f"then: {child['id']} {child['provider']}/{child['model']}")
        task = await _follow(client, url, child, interval_s) if child["status"] in ACTIVE else child
    return task


async def _child(client: httpx.AsyncClient, url: str, task_id: str) -> dict[str, Any] | None:
    """The follow-up task `task_id` created, if any (it is stored with its parent's end)."""
    try:
        response = await client.get("/api/tasks", params={"parent_id": task_id})
    except httpx.HTTPError as exc:
        raise CliError(f"lost contact with taskhook at {url} ({exc!r})") from exc
    if response.status_code != 200:
        raise _error_from(response)
    items: list[dict[str, Any]] = response.json().get("items") or []
    return items[0] if items else None


async def _post(client: httpx.AsyncClient, url: str, body: dict[str, Any]) -> dict[str, Any]:
    try:
        response = await client.post("/api/tasks", json=body)
    except httpx.HTTPError as exc:
        message = f"cannot reach taskhook at {url} ({exc!r}): is `taskhook serve` running?"
        raise CliError(message) from exc
    if response.status_code != 202:
        raise _error_from(response)
    task: dict[str, Any] = response.json()
    return task


def _error_from(response: httpx.Response) -> CliError:
    try:
        error = response.json()["error"]
        message = str(error.get("message"))
    except (ValueError, KeyError, TypeError, AttributeError):
        message = response.text[:200]
    usage = response.status_code in (400, 401, 403, 409, 422)
    return CliError(f"{message} (HTTP {response.status_code})", exit_code=2 if usage else 1)


async def _get(client: httpx.AsyncClient, url: str, task_id: str) -> dict[str, Any]:
    try:
        response = await client.get(f"/api/tasks/{task_id}")
    except httpx.HTTPError as exc:
        raise CliError(f"lost contact with taskhook at {url} ({exc!r})") from exc
    if response.status_code != 200:
        raise _error_from(response)
    task: dict[str, Any] = response.json()
    return task


async def _follow(
    client: httpx.AsyncClient, url: str, task: dict[str, Any], interval_s: float
) -> dict[str, Any]:
    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
               TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        row = bar.add_task(_describe(task), total=100, completed=shown_progress(task))
        while task["status"] in ACTIVE:
            await asyncio.sleep(interval_s)
            task = await _get(client, url, task["id"])
            bar.update(row, description=_describe(task), completed=shown_progress(task))
    return task


def shown_progress(task: dict[str, Any]) -> int:
    """The provider's progress, else the estimate against the expected duration."""
    estimate = task.get("estimate") or {}
    return int(task.get("progress") or estimate.get("progress") or 0)


def _describe(task: dict[str, Any]) -> str:
    text = f"{task['id']} {task['provider']}/{task['model']}: {task['status']}"
    estimate = task.get("estimate")
    if estimate:
        text += f" (estimate: ~{estimate['expected_s']:g} s expected)"
    return text


def _print_task(task: dict[str, Any]) -> None:
    """The task's id, status and result: videos, pictures, character."""
    print(f"{task['id']}: {task['status']}")
    result = task.get("result") or {}
    for video in result.get("video_urls") or []:
        print(f"video: {video}")
    for image in result.get("image_urls") or []:
        print(f"image: {image}")
    if result.get("character_id"):
        name = f" ({result['character_name']})" if result.get("character_name") else ""
        print(f"character: {result['character_id']}{name}")


def _report(task: dict[str, Any], *, as_json: bool, waited: bool) -> int:
    code = 1 if task["status"] in UNSUCCESSFUL else 0
    if as_json:
        print_json(task)
        return code
    _print_task(task)
    error = task.get("error")
    if error:
        print(f"error: {error.get('message')} [{error.get('code')}]")
    if not waited and task["status"] in ACTIVE:
        print(f"follow it with: taskhook tasks {task['id']}")
    return code
