"""What the benchmarks share: ports, signed kie callbacks, a `taskhook serve` subprocess."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KIE_KEY = "bench-webhook-key-0123456789"
ADMIN_TOKEN = "bench-admin-token-0123456789"
SECRET_KEY = "bench-secret-key-0123456789-0123456789"


def free_port() -> int:
    """A loopback port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int, proc: subprocess.Popen[bytes], timeout_s: float = 30) -> None:
    """Block until something accepts connections on `port` (or the process died)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited early with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"server on port {port} did not start")


def kie_signature(task_id: str, timestamp: str, key: str = KIE_KEY) -> str:
    """base64(HMAC-SHA256(key, taskId + "." + timestamp)), as kie documents."""
    mac = hmac.new(key.encode(), f"{task_id}.{timestamp}".encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def kie_callback(task_id: str) -> tuple[bytes, dict[str, str]]:
    """A signed kie success callback for `task_id`: body and headers."""
    ts = str(int(time.time()))
    body = {
        "code": 200,
        "msg": "success",
        "data": {
            "taskId": task_id,
            "model": "sora-2-characters",
            "state": "success",
            "resultJson": json.dumps({"character_id": f"char_{task_id}"}),
        },
    }
    headers = {
        "Content-Type": "application/json",
        "X-Webhook-Timestamp": ts,
        "X-Webhook-Signature": kie_signature(task_id, ts),
    }
    return json.dumps(body).encode(), headers


def start_taskhook(port: int, db: Path, **env_extra: str) -> subprocess.Popen[bytes]:
    """`taskhook serve` on SQLite with bench credentials; env_extra adds TASKHOOK_* vars."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASKHOOK_")}
    env.update(
        PYTHONPATH=str(ROOT),
        TASKHOOK_KIE_WEBHOOK_KEY=KIE_KEY,
        TASKHOOK_ADMIN_TOKEN=ADMIN_TOKEN,
        TASKHOOK_SECRET_KEY=SECRET_KEY,
        TASKHOOK_KIE_CONFIRM_CALLBACKS="0",
        TASKHOOK_ALLOW_HTTP_SUBSCRIBERS="1",
        TASKHOOK_ALLOW_PRIVATE_SUBSCRIBERS="1",
    )
    env.update(env_extra)
    cmd = [sys.executable, "-m", "dispatcher.cli", "serve", "--port", str(port), "--db", str(db)]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def rss_mib(pid: int) -> float:
    """Resident memory of a process, in MiB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], pct: float) -> float:
    """The pct-th percentile (0-100) of `values`."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far, in seconds (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_load() -> str:
    """The 1-minute load average and core count, to print beside figures (noisy machines)."""
    return f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"


SEND_CONCURRENCY = 32  # callbacks in flight at once from a benchmark's sender


@dataclass
class Run:
    """What one phase sent and when (monotonic seconds), keyed by what arrivals carry."""

    sent: dict[str, float] = field(default_factory=dict)
    acks: list[float] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    started: float = 0.0
    acked: float = 0.0


async def bounded(count: int, limit: int, send: Callable[[int], Awaitable[None]]) -> None:
    """Call `send(i)` for every i, at most `limit` at once."""
    gate = asyncio.Semaphore(limit)

    async def one(i: int) -> None:
        async with gate:
            await send(i)

    await asyncio.gather(*(one(i) for i in range(count)))
