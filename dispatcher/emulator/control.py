"""The emulator's own API under `/_emulator/` for tests and benchmarks (no auth).

    POST   /_emulator/faults              queue a fault (or a JSON array of faults); 201
    DELETE /_emulator/faults              drop all queued faults
    GET    /_emulator/stats               request counts per provider/operation and task id
    DELETE /_emulator/stats               reset the counts
    POST   /_emulator/tasks/{id}/finish   make a task final now; body {"fail": true} optional
    POST   /_emulator/callbacks/pause     drop callbacks that fall due (lost callbacks)
    POST   /_emulator/callbacks/resume    send them again
    GET    /_emulator/health              {"ok": true, ...}

Errors: `{"error": {"code", "message"}}`. Fault fields: see `dispatcher.emulator.faults`.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from dispatcher.emulator.context import emulator
from dispatcher.emulator.faults import FaultError, parse_fault
from dispatcher.emulator.state import EmuTask


def routes() -> list[BaseRoute]:
    """The `/_emulator/` endpoints."""
    return [
        Route("/_emulator/faults", add_faults, methods=["POST"]),
        Route("/_emulator/faults", clear_faults, methods=["DELETE"]),
        Route("/_emulator/stats", stats, methods=["GET"]),
        Route("/_emulator/stats", reset_stats, methods=["DELETE"]),
        Route("/_emulator/tasks/{task_id}/finish", finish, methods=["POST"]),
        Route("/_emulator/callbacks/pause", pause, methods=["POST"]),
        Route("/_emulator/callbacks/resume", resume, methods=["POST"]),
        Route("/_emulator/health", health, methods=["GET"]),
    ]


def _error(status: int, code: str, message: str) -> Response:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


async def _body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return None
    return json.loads(raw)


async def add_faults(request: Request) -> Response:
    """Queue one fault or a list of faults."""
    emu = emulator(request)
    try:
        body = await _body(request)
        items = body if isinstance(body, list) else [body]
        faults = [parse_fault(item) for item in items]
    except (ValueError, FaultError) as exc:
        return _error(400, "invalid_fault", str(exc))
    for fault in faults:
        emu.faults.add(fault)
    return JSONResponse({"queued": len(faults), "pending": emu.faults.pending()}, 201)


async def clear_faults(request: Request) -> Response:
    """Drop every queued fault."""
    emu = emulator(request)
    cleared = emu.faults.pending()
    emu.faults.clear()
    return JSONResponse({"cleared": cleared})


async def stats(request: Request) -> Response:
    """Request and callback counts."""
    emu = emulator(request)
    return JSONResponse({**emu.stats.to_json(), "faults_pending": emu.faults.pending(),
                         "callbacks_paused": emu.sender.paused})  # fmt: skip


async def reset_stats(request: Request) -> Response:
    """Zero the counts."""
    emulator(request).stats.reset()
    return Response(status_code=204)


async def finish(request: Request) -> Response:
    """Make a task final now (failed with `{"fail": true}`)."""
    emu = emulator(request)
    task_id = request.path_params["task_id"]
    task = emu.store.find(task_id)
    if task is None:
        return _error(404, "not_found", f"no emulated task {task_id}")
    try:
        body = await _body(request) or {}
    except ValueError:
        return _error(400, "invalid_body", 'the body must be JSON like {"fail": true}')
    fail = body.get("fail") if isinstance(body, dict) else None
    if fail is not None and not isinstance(fail, bool):
        return _error(400, "invalid_body", "fail must be true or false")
    if not emu.store.finish(task, fail):
        return _error(409, "already_final", f"task {task_id} has already finished")
    return JSONResponse(_summary(task, emu.store.now()))


def _summary(task: EmuTask, now: float) -> dict[str, Any]:
    return {"id": task.id, "provider": task.provider, "status": task.phase(now)}


async def pause(request: Request) -> Response:
    """Drop callbacks from now on."""
    emulator(request).sender.paused = True
    return JSONResponse({"paused": True})


async def resume(request: Request) -> Response:
    """Send callbacks again."""
    emulator(request).sender.paused = False
    return JSONResponse({"paused": False})


async def health(request: Request) -> Response:
    """Liveness and the (non-secret) configuration."""
    config = emulator(request).config
    return JSONResponse({
        "ok": True, "providers": ["kie", "foxapi", "toapis"], "delay_s": config.delay_s,
        "fail_rate": config.fail_rate, "quirks": config.quirks,
        "signed_kie_callbacks": config.kie_webhook_key is not None,
    })  # fmt: skip
