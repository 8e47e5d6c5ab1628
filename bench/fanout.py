"""Fan-out benchmark: callback-to-subscriber latency and deliveries per second, side by side.

    .venv/bin/python bench/fanout.py [--subscribers 5] [--rates 25,50] [--seconds 20] [--burst 1000]
                                     [--queue redis|nats|amqp]  (see bench/fanout_queue.py)

`taskhook serve` (SQLite, its workers as in production) runs in one process; N webhook
subscribers (small Starlette apps, one uvicorn server per port) run in another and record
when each delivery arrives (`webhook-id`, `data.provider_task_id`, monotonic clock, which
is system-wide on Linux). The bench process sends.

1. Latency at a fixed arrival rate: signed kie callbacks to `POST /callbacks/kie` at
   each of `--rates` per second for `--seconds`; latency = arrival at a subscriber minus the moment
   the callback was sent (one HTTP hop in, durable commit, inbox worker, event, delivery
   worker, one HTTP hop out). Reference, same run: the bench POSTs the same event bodies
   straight to the same subscribers at the same rate (one HTTP hop).
2. Deliveries per second: a burst of `--burst` callbacks, time until all N*M deliveries
   arrived. Reference, same run: a plain httpx client posting the same bodies to the
   same subscribers with the delivery worker's concurrency.
Duplicates (one `webhook-id` twice at one subscriber) and missing deliveries are counted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench.common import (
    ADMIN_TOKEN,
    ROOT,
    SEND_CONCURRENCY,
    Run,
    bounded,
    cpu_seconds,
    free_port,
    kie_callback,
    machine_load,
    percentile,
    start_taskhook,
    wait_listening,
)
from bench.fanout_queue import add_queue_args, queue_phase, report_queue

DELIVERY_CONCURRENCY = 32  # receiver.fanout.worker.DEFAULT_CONCURRENCY


# ---------------------------------------------------------------- subscriber process


def subscriber_app(index: int, records: list[list[Any]], bodies: dict[str, str]) -> Any:
    """One webhook subscriber: records each arrival; port 0's app also serves the records."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    async def hook(request: Request) -> Response:
        arrived = time.monotonic()
        raw = await request.body()
        wid = request.headers.get("webhook-id", "")
        try:
            ptid = json.loads(raw)["data"]["provider_task_id"]
        except (ValueError, KeyError, TypeError):
            ptid = None
        records.append([index, wid, ptid, arrived])
        if index == 0 and wid not in bodies:
            bodies[wid] = raw.decode()
        return Response(status_code=200)

    async def dump(request: Request) -> Response:
        if request.method == "DELETE":
            records.clear()
            bodies.clear()
            return Response(status_code=204)
        if request.query_params.get("count"):
            return JSONResponse({"count": len(records)})
        return JSONResponse({"records": records, "bodies": bodies})

    routes = [Route("/hook", hook, methods=["POST"])]
    if index == 0:
        routes.append(Route("/_records", dump, methods=["GET", "DELETE"]))
    return Starlette(routes=routes)


async def serve_subscribers(ports: list[int]) -> None:
    """N uvicorn servers in one event loop (the subscriber process)."""
    import uvicorn

    records: list[list[Any]] = []
    bodies: dict[str, str] = {}
    servers = [
        uvicorn.Server(
            uvicorn.Config(
                subscriber_app(i, records, bodies),
                host="127.0.0.1",
                port=port,
                log_level="warning",
                access_log=False,
                lifespan="off",
            )
        )
        for i, port in enumerate(ports)
    ]
    await asyncio.gather(*(s.serve() for s in servers))


def start_subscribers(ports: list[int]) -> subprocess.Popen[bytes]:
    code = (
        "import asyncio, sys; sys.path.insert(0, sys.argv[1]); "
        "from bench.fanout import serve_subscribers; "
        "asyncio.run(serve_subscribers([int(p) for p in sys.argv[2:]]))"
    )
    cmd = [sys.executable, "-c", code, str(ROOT), *map(str, ports)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)


# ---------------------------------------------------------------- measuring


class Bench:
    """The bench side: a client for taskhook, one for the subscribers."""

    def __init__(
        self, taskhook: str, hooks: list[str], client: httpx.AsyncClient, meter: Meter
    ) -> None:
        self.taskhook, self.hooks, self.client, self.meter = taskhook, hooks, client, meter
        self.run_id = os.urandom(3).hex()
        self.counter = 0

    async def register(self) -> None:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        for url in self.hooks:
            answer = await self.client.post(
                f"{self.taskhook}/api/subscribers",
                json={"url": url, "kind": "webhook"},
                headers=headers,
            )
            if answer.status_code != 201:
                raise SystemExit(
                    f"registering subscriber {url} failed: {answer.status_code} {answer.text[:300]}"
                )

    async def send_callback(self, run: Run) -> None:
        self.counter += 1
        ptid = f"fan_{self.run_id}_{self.counter}"
        body, headers = kie_callback(ptid)
        run.sent[ptid] = sent = time.monotonic()
        try:
            answer = await self.client.post(
                f"{self.taskhook}/callbacks/kie", content=body, headers=headers
            )
            ok = answer.is_success
            run.acks.append((time.monotonic() - sent) * 1000)
        except httpx.HTTPError as exc:
            ok, answer = False, exc  # type: ignore[assignment]
        if not ok:
            run.failed.append(f"{ptid}: {answer}")
            del run.sent[ptid]

    async def send_direct(self, run: Run, wid: str, body: str) -> None:
        """The reference: the same event body straight to every subscriber (one hop)."""
        key = f"ref-{wid}"
        headers = {"content-type": "application/json", "webhook-id": key}
        run.sent[key] = time.monotonic()

        async def one(url: str) -> None:
            try:
                answer = await self.client.post(url, content=body, headers=headers)
                if not answer.is_success:
                    run.failed.append(f"{url}: {answer.status_code}")
            except httpx.HTTPError as exc:
                run.failed.append(f"{url}: {exc!r}")

        await asyncio.gather(*(one(url) for url in self.hooks))

    async def records(self) -> tuple[list[list[Any]], dict[str, str]]:
        data = (await self.client.get(f"{self.hooks[0].rsplit('/', 1)[0]}/_records")).json()
        return data["records"], data["bodies"]

    async def arrivals(self) -> int:
        url = f"{self.hooks[0].rsplit('/', 1)[0]}/_records"
        return int((await self.client.get(url, params={"count": 1})).json()["count"])

    async def reset(self) -> None:
        await self.client.delete(f"{self.hooks[0].rsplit('/', 1)[0]}/_records")

    async def wait_arrivals(self, expected: int, timeout_s: float) -> float:
        """Wait until `expected` deliveries arrived (or time out); the time it ended."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if await self.arrivals() >= expected:
                break
            await asyncio.sleep(0.05)
        return time.monotonic()


async def at_rate(rate: float, seconds: float, send: Callable[[int], Awaitable[None]]) -> None:
    """Call `send(i)` at a fixed rate without waiting for earlier calls to finish."""
    start, pending = time.monotonic(), []
    for i in range(int(rate * seconds)):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        pending.append(asyncio.create_task(send(i)))
    await asyncio.gather(*pending)


@dataclass
class Result:
    """The figures of one phase."""

    latencies: list[float]
    expected: int
    arrived: int
    duplicates: int
    failed: int
    acks: list[float]
    elapsed_s: float = 0.0
    acked_s: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)


class Meter:
    """CPU cores each process used over a phase (shows who was the bottleneck)."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.start()

    def start(self) -> None:
        self.began = time.monotonic()
        self.before = {name: cpu_seconds(pid) for name, pid in self.pids.items()}

    def stop(self) -> dict[str, float]:
        wall = time.monotonic() - self.began
        return {
            name: (cpu_seconds(pid) - self.before[name]) / wall for name, pid in self.pids.items()
        }


def tally(run: Run, records: list[list[Any]], n_subs: int, *, by_ptid: bool) -> Result:
    """Latency per arrival, duplicates (a webhook-id twice at one subscriber), missing."""
    seen: Counter[tuple[int, str]] = Counter()
    latencies: list[float] = []
    for sub, wid, ptid, arrived in records:
        key = ptid if by_ptid else wid
        if key not in run.sent:
            continue
        seen[(sub, wid)] += 1
        if seen[(sub, wid)] == 1:
            latencies.append((arrived - run.sent[key]) * 1000)
    duplicates = sum(n - 1 for n in seen.values())
    expected = len(run.sent) * n_subs
    return Result(latencies, expected, len(seen), duplicates, len(run.failed), run.acks)


# ---------------------------------------------------------------- phases


async def latency_phase(
    bench: Bench, args: argparse.Namespace, rate: float
) -> tuple[float, Result, Result]:
    """Callbacks at a fixed rate through taskhook, then the same bodies sent direct."""
    n = len(bench.hooks)
    await bench.reset()
    th = Run()
    bench.meter.start()
    await at_rate(rate, args.seconds, lambda _i: bench.send_callback(th))
    await bench.wait_arrivals(len(th.sent) * n, args.drain)
    cpu = bench.meter.stop()
    records, bodies = await bench.records()
    taskhook = tally(th, records, n, by_ptid=True)
    taskhook.cpu = cpu
    items = sorted(bodies.items())
    if not items:
        raise SystemExit("no delivery reached the subscribers: is fan-out working?")
    await bench.reset()
    ref = Run()

    async def direct(i: int) -> None:
        wid, body = items[i % len(items)]
        await bench.send_direct(ref, f"{i}-{wid}", body)

    bench.meter.start()
    await at_rate(rate, args.seconds, direct)
    await bench.wait_arrivals(len(ref.sent) * n, args.drain)
    cpu = bench.meter.stop()
    records, _ = await bench.records()
    reference = tally(ref, records, n, by_ptid=False)
    reference.cpu = cpu
    return rate, taskhook, reference


async def burst_phase(bench: Bench, args: argparse.Namespace) -> tuple[Result, Result]:
    """M callbacks as fast as they are acknowledged, then the same bodies via httpx."""
    n = len(bench.hooks)
    await bench.reset()
    th = Run(started=time.monotonic())
    bench.meter.start()
    await bounded(args.burst, SEND_CONCURRENCY, lambda _i: bench.send_callback(th))
    th.acked = time.monotonic()
    await bench.wait_arrivals(len(th.sent) * n, args.drain)
    cpu = bench.meter.stop()
    records, bodies = await bench.records()
    taskhook = tally(th, records, n, by_ptid=True)
    taskhook.elapsed_s = max(r[3] for r in records) - th.started if records else 0.0
    taskhook.cpu = cpu
    await bench.reset()
    sends = [
        (f"ref-{wid}", body, url) for wid, body in sorted(bodies.items()) for url in bench.hooks
    ]
    ref = Run(started=time.monotonic())
    bench.meter.start()
    await bounded(len(sends), DELIVERY_CONCURRENCY, lambda i: _post(bench, ref, *sends[i]))
    await bench.wait_arrivals(len(sends), args.drain)
    cpu = bench.meter.stop()
    records, _ = await bench.records()
    reference = tally(ref, records, n, by_ptid=False)
    reference.expected = len(sends)
    reference.elapsed_s = max(r[3] for r in records) - ref.started if records else 0.0
    reference.cpu = cpu
    taskhook.acked_s = th.acked - th.started
    return taskhook, reference


async def _post(bench: Bench, run: Run, wid: str, body: str, url: str) -> None:
    run.sent.setdefault(wid, time.monotonic())
    headers = {"content-type": "application/json", "webhook-id": wid}
    try:
        answer = await bench.client.post(url, content=body, headers=headers)
        if not answer.is_success:
            run.failed.append(f"{url}: {answer.status_code}")
    except httpx.HTTPError as exc:
        run.failed.append(f"{url}: {exc!r}")


# ---------------------------------------------------------------- report


def show(name: str, r: Result, *, latency: bool = True) -> None:
    missing = r.expected - r.arrived
    cpu = "  ".join(f"{k} {v:.2f}" for k, v in r.cpu.items())
    head = (
        f"p50 {percentile(r.latencies, 50):7.1f} ms  p99 {percentile(r.latencies, 99):7.1f} ms"
        if latency
        else f"{r.arrived / max(r.elapsed_s, 1e-9):7.0f} deliveries/s in {r.elapsed_s:5.2f} s"
    )
    print(
        f"  {name:<9} {head}  arrived {r.arrived}/{r.expected}  missing {missing}  "
        f"duplicates {r.duplicates}  send errors {r.failed}"
    )
    print(f"  {'':<9} CPU cores used: {cpu}")


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "n/a"


def report(
    lats: list[tuple[float, Result, Result]],
    burst: tuple[Result, Result],
    args: argparse.Namespace,
    n: int,
) -> bool:
    for rate, th, ref in lats:
        show_latency(rate, th, ref, args, n)
    th, ref = burst
    print(
        f"\n2. deliveries per second: burst of {args.burst} callbacks x {n} subscribers "
        f"(taskhook: from the first callback sent to the last delivery)"
    )
    show("taskhook", th, latency=False)
    show("httpx", ref, latency=False)
    print(f"  the {args.burst} callbacks were acknowledged within {th.acked_s:.2f} s")
    got = ratio(th.arrived / th.elapsed_s, ref.arrived / ref.elapsed_s) if th.elapsed_s else "n/a"
    print(
        f"  taskhook / httpx deliveries per second = {got}  "
        f"(httpx concurrency {DELIVERY_CONCURRENCY}, as the delivery worker's)"
    )
    results = [r for _, th, ref in lats for r in (th, ref)] + list(burst)
    complete = all(r.arrived == r.expected and r.failed == 0 for r in results)
    return complete and all(r.duplicates == 0 for r in results)


def show_latency(rate: float, th: Result, ref: Result, args: argparse.Namespace, n: int) -> None:
    print(
        f"\n1. callback -> subscriber latency, {rate:g} callbacks/s for {args.seconds:g} s, "
        f"{n} subscribers ({len(th.latencies)} deliveries)"
    )
    show("taskhook", th)
    show("direct", ref)
    print(
        f"  callback acknowledged (2xx): p50 {percentile(th.acks, 50):.1f} ms  "
        f"p99 {percentile(th.acks, 99):.1f} ms"
    )
    for pct in (50, 99):
        got = ratio(percentile(th.latencies, pct), percentile(ref.latencies, pct))
        print(f"  taskhook / direct latency p{pct} = {got}")


async def run(args: argparse.Namespace, tmp: Path) -> bool:
    ports = [free_port() for _ in range(args.subscribers)]
    subs = start_subscribers(ports)
    port = free_port()
    server = start_taskhook(port, tmp / "fanout.db")
    try:
        for p in ports:
            wait_listening(p, subs)
        wait_listening(port, server)
        hooks = [f"http://127.0.0.1:{p}/hook" for p in ports]
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        meter = Meter({"taskhook": server.pid, "subscribers": subs.pid, "bench": os.getpid()})
        async with httpx.AsyncClient(limits=limits, timeout=30) as client:
            bench = Bench(f"http://127.0.0.1:{port}", hooks, client, meter)
            await bench.register()
            await asyncio.sleep(1.0)
            lats = []
            for rate in args.rates:
                print(f"latency phase at {rate:g}/s ... ({machine_load()})", flush=True)
                lats.append(await latency_phase(bench, args, rate))
            print(f"burst phase ... ({machine_load()})", flush=True)
            burst = await burst_phase(bench, args)
            queue = await queue_phase(bench, args)  # --queue KIND: one queue subscriber
        if server.poll() is not None:
            raise SystemExit(f"taskhook serve exited with {server.returncode} during the run")
        ok = report(lats, burst, args, len(hooks))
        webhook_per_s = burst[0].arrived / burst[0].elapsed_s if burst[0].elapsed_s else 0.0
        return report_queue(queue, webhook_per_s) and ok
    finally:
        for proc in (server, subs):
            proc.terminate()
            proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=5, help="N webhook subscribers")
    parser.add_argument(
        "--rates", default="25,50", help="callbacks per second, one latency phase each"
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the rate phase")
    parser.add_argument("--burst", type=int, default=1000, help="M callbacks in the burst")
    parser.add_argument(
        "--drain", type=float, default=60.0, help="seconds to wait for outstanding deliveries"
    )
    parser.add_argument("--keep", type=Path, help="keep the database in this folder")
    add_queue_args(parser)
    args = parser.parse_args()
    try:
        args.rates = [float(r) for r in args.rates.split(",")]
    except ValueError:
        parser.error(f"--rates {args.rates!r}: use numbers separated by commas, e.g. 25,50")
    if args.subscribers < 1 or min(args.rates) <= 0 or args.seconds <= 0 or args.burst < 1:
        parser.error("--subscribers, --rate, --seconds and --burst must be positive")
    started = time.monotonic()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        ok = asyncio.run(run(args, args.keep))
    else:
        with tempfile.TemporaryDirectory() as tmpdir:
            ok = asyncio.run(run(args, Path(tmpdir)))
    print(f"\n(took {time.monotonic() - started:.0f} s; {machine_load()})")
    if not ok:
        raise SystemExit("FAILED: deliveries were missing or duplicated, or sends failed (above)")


if __name__ == "__main__":
    main()
