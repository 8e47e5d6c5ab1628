"""A naive durable receiver: parse JSON, synchronous sqlite3 insert + commit per request."""

from __future__ import annotations

import argparse
import json
import sqlite3

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


def build(path: str) -> Starlette:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE IF NOT EXISTS inbox (task_id TEXT PRIMARY KEY, body TEXT)")

    async def accept(request: Request) -> Response:
        body = await request.body()
        task_id = json.loads(body)["data"]["taskId"]
        conn.execute("BEGIN")
        conn.execute("INSERT OR IGNORE INTO inbox VALUES (?, ?)", (task_id, body.decode()))
        conn.execute("COMMIT")
        return JSONResponse({"ok": True})

    return Starlette(routes=[Route("/callbacks/{provider}", accept, methods=["POST"])])


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", required=True)
    args = parser.parse_args()
    uvicorn.run(build(args.db), host="127.0.0.1", port=args.port, log_level="warning",
                access_log=False)  # fmt: skip
