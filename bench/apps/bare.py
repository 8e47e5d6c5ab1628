"""The stack's ceiling: a bare Starlette app on uvicorn that answers 200 to any POST."""

from __future__ import annotations

import argparse

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


async def accept(request: Request) -> Response:
    await request.body()
    return JSONResponse({"ok": True})


app = Starlette(routes=[Route("/callbacks/{provider}", accept, methods=["POST"])])

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--stack", choices=["fast", "plain"], default="fast")
    args = parser.parse_args()
    loop, http = ("uvloop", "httptools") if args.stack == "fast" else ("asyncio", "h11")
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False,
                loop=loop, http=http)  # fmt: skip
