"""Faults end to end: providers and subscribers misbehave; the service keeps its word.

The complete app (`build_app`) runs on loopback against the provider emulator, whose
programmed faults (`POST /_emulator/faults`) make providers answer 429, 455, 500, an
in-body 402, malformed JSON, or hang; local subscriber servers hang, reset the
connection, trickle their answer, or answer 500, 429 + Retry-After and 410. Each test
asserts the state every task and delivery ends in and what a user reads about it, that
no wait is unbounded, and (the combination) that the API keeps answering quickly while
the faults are active. Component-level retry details are covered in
tests/dispatcher/test_poller.py, test_submit_api.py and tests/receiver/test_fanout_failures.py.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response

from receiver.clock import parse_time
from receiver.settings import Settings
from receiver.store.jsonutil import loads
from tests.dispatcher.emulated import (
    emulator,
    emulator_stats,
    events_of,
    finished,
    submit,
    taskhook,
)
from tests.receiver.fanout_support import Behaviour, Recorder
from tests.receiver.test_fanout_failures import resetting_server
from tests.reliability.fault_support import (
    SUBMISSIONS,
    Hang,
    deliveries_of,
    fast,
    history_of,
    measure,
    program,
    settled,
    subscribe,
    task_detail,
    trickling_server,
)
from tests.support import live_server, wait_for

# (provider, fault, what the user reads in the retry's error)
ON_CREATE = [
    pytest.param("kie", {"status": 429, "retry_after": 1}, "HTTP 429", id="kie-429-retry-after"),
    pytest.param("foxapi", {"status": 455}, "HTTP 455", id="foxapi-455"),
    pytest.param("toapis", {"status": 500, "times": 2}, "HTTP 500", id="toapis-500-twice"),
    pytest.param("foxapi", {"malformed": True}, "not a JSON object", id="foxapi-malformed"),
    pytest.param("kie", {"in_body_code": 500}, "code 500", id="kie-in-body-500"),
]


@pytest.mark.parametrize(("provider", "fault", "said"), ON_CREATE)
async def test_a_transient_fault_at_submission_is_retried_until_the_task_succeeds(
    settings: Settings, provider: str, fault: dict[str, Any], said: str
) -> None:
    async with emulator(delay_s=0.2) as emu, taskhook(fast(settings), emu) as th:
        await program(emu, {"provider": provider, "operation": "create", **fault})
        task = await submit(th, provider, *SUBMISSIONS[provider])
        # accepted and kept, not failed: the submitter sends it again
        assert task["status"] == "submitted" and task["provider_task_id"] is None
        assert task["error"] is None
        done = await finished(th, task["id"])
        assert done["status"] == "succeeded" and done["error"] is None, done
        retries = history_of(await task_detail(th, task["id"]), "send_retry")
        assert len(retries) == fault.get("times", 1)
        assert all(said in r["error"] for r in retries), retries
        if "retry_after" in fault:
            assert retries[0]["retry_in_s"] >= fault["retry_after"]  # Retry-After honoured
        assert [e["type"] for e in await events_of(th, task["id"])] == ["task.succeeded"]
        stats = await emulator_stats(emu)
        assert stats["requests"][provider]["create"] == fault.get("times", 1) + 1


# (provider, fault, the error code each failed poll records)
ON_QUERY = [
    pytest.param("kie", {"status": 429, "retry_after": 1}, "provider_429", id="kie-429-wait"),
    pytest.param("foxapi", {"status": 455, "times": 2}, "provider_455", id="foxapi-455-twice"),
    pytest.param("toapis", {"status": 500, "times": 2}, "provider_500", id="toapis-500-twice"),
    pytest.param("kie", {"in_body_code": 455}, "provider_455", id="kie-in-body-455"),
    pytest.param("foxapi", {"malformed": True}, "provider_malformed_response", id="fox-malformed"),
    pytest.param("toapis", {"hang_s": 1.2}, "provider_timeout", id="toapis-hang"),
]  # fmt: skip


@pytest.mark.parametrize(("provider", "fault", "code"), ON_QUERY)
async def test_a_transient_fault_while_polling_is_retried_until_the_task_succeeds(
    settings: Settings, provider: str, fault: dict[str, Any], code: str
) -> None:
    async with emulator(delay_s=0.2) as emu, taskhook(fast(settings), emu) as th:
        await program(emu, {"provider": provider, "operation": "query", **fault})
        task = await submit(th, provider, *SUBMISSIONS[provider])
        done = await finished(th, task["id"])
        assert done["status"] == "succeeded" and done["source"] == "poll", done
        errors = history_of(await task_detail(th, task["id"]), "poll_error")
        assert len(errors) == fault.get("times", 1), errors
        assert all(e["error"]["code"] == code and e["error"]["message"] for e in errors)
        if "retry_after" in fault:
            assert errors[0]["next_in_s"] >= fault["retry_after"]
        assert [e["type"] for e in await events_of(th, task["id"])] == ["task.succeeded"]


@pytest.mark.parametrize(("operation", "times", "source"), [("create", 1, "submit"),
                                                            ("query", 3, "poll")])  # fmt: skip
async def test_kie_out_of_credits_fails_the_task_with_kies_message(
    settings: Settings, operation: str, times: int, source: str
) -> None:
    watcher = Recorder()
    async with (
        emulator(delay_s=0.2) as emu,
        taskhook(fast(settings), emu) as th,
        # a subscriber: what the user's own system is told
        _served(watcher) as hook,
    ):
        await subscribe(th, hook)
        fault = {"provider": "kie", "operation": operation, "in_body_code": 402, "times": times}
        await program(emu, fault)
        task = await submit(th, "kie", *SUBMISSIONS["kie"])
        done = await finished(th, task["id"])
        await wait_for(lambda: len(watcher.received) == 1)
        stats = await emulator_stats(emu)
    assert done["status"] == "failed" and done["source"] == source
    error = done["error"]
    assert error["code"] == "provider_402"
    assert "Credits insufficient" in error["message"] and "top up" in error["message"]
    event = httpx.Response(200, content=watcher.received[0].body).json()
    assert event["type"] == "task.failed" and event["data"]["error"] == error
    # a permanent refusal is not retried
    assert stats["requests"]["kie"]["create"] == 1
    assert stats["requests"]["kie"].get("query", 0) == (0 if operation == "create" else times)


NEVER_RECOVERS = [
    # a long Retry-After must not keep a task past its deadline
    pytest.param("create", {"status": 429, "retry_after": 30}, "did not accept", id="create-429"),
    pytest.param("create", {"status": 503}, "did not accept", id="create-503"),
    pytest.param("query", {"status": 429, "retry_after": 30}, "did not finish", id="query-429"),
    pytest.param("query", {"malformed": True}, "did not finish", id="query-malformed"),
]


@pytest.mark.parametrize(("operation", "fault", "said"), NEVER_RECOVERS)
async def test_a_provider_that_never_recovers_expires_the_task_at_its_deadline(
    settings: Settings, operation: str, fault: dict[str, Any], said: str
) -> None:
    tuned = fast(settings, task_deadline_s=1.0)
    async with emulator(delay_s=0.2) as emu, taskhook(tuned, emu) as th:
        await program(emu, {"provider": "foxapi", "operation": operation, "times": 10_000, **fault})
        task = await submit(th, "foxapi", *SUBMISSIONS["foxapi"])
        done = await finished(th, task["id"], timeout_s=6)
    assert done["status"] == "expired", done
    assert done["error"]["code"] == "deadline_exceeded"
    assert said in done["error"]["message"] and "1s" in done["error"]["message"]
    took_s = (parse_time(done["completed_at"]) - parse_time(done["created_at"])) / 1000
    assert 0.95 <= took_s < 3.5  # the deadline (created_at is stamped a moment after it)


async def test_a_create_that_hangs_is_answered_in_bounded_time_then_sent_again(
    settings: Settings,
) -> None:
    async with emulator(delay_s=0.2) as emu, taskhook(fast(settings), emu) as th:
        await program(emu, {"provider": "foxapi", "operation": "create", "hang_s": 1.5})
        started = time.monotonic()
        task = await submit(th, "foxapi", *SUBMISSIONS["foxapi"])
        answered_s = time.monotonic() - started
        done = await finished(th, task["id"])
        retries = history_of(await task_detail(th, task["id"]), "send_retry")
        # the hung create still lands at the provider: a timed-out create can leave an
        # orphan task there (the providers offer no idempotency key; DISPATCHING.md)
        await wait_for(lambda: _creates(emu, 2))
    assert answered_s < 1.2  # provider_timeout_s (0.5) plus overhead, not the 1.5 s hang
    assert (task["status"], task["provider_task_id"]) == ("submitted", None)
    assert done["status"] == "succeeded" and done["provider_task_id"]
    assert len(retries) == 1 and "timed out" in retries[0]["error"], retries


async def test_a_provider_that_trickles_its_answer_is_cut_off_and_the_task_expires(
    settings: Settings,
) -> None:
    # every provider URL points at a server that sends one byte per 0.1 s, forever
    tuned = fast(settings, task_deadline_s=1.5)
    async with trickling_server() as (base, hits), taskhook(tuned, base) as th:
        started = time.monotonic()
        task = await submit(th, "foxapi", *SUBMISSIONS["foxapi"])
        answered_s = time.monotonic() - started
        done = await finished(th, task["id"], timeout_s=6)
        retries = history_of(await task_detail(th, task["id"]), "send_retry")
    assert answered_s < 1.2 and task["status"] == "submitted"
    assert retries and all("no complete submit answer within 0.5s" in r["error"] for r in retries)
    assert done["status"] == "expired" and done["error"]["code"] == "deadline_exceeded"
    assert len(hits) == len(retries)


async def _creates(emu: str, n: int) -> bool:
    return bool((await emulator_stats(emu))["requests"]["foxapi"]["create"] >= n)


@asynccontextmanager
async def _served(recorder: Recorder) -> AsyncIterator[str]:
    async with live_server(recorder.app()) as base:
        yield f"{base}/hook"


def _answer(status: int, text: str, **headers: str) -> Behaviour:
    return lambda _n, _r: Response(text, status, headers)


def _throttle_once(n: int, _request: Request) -> Response:
    return Response("slow down", 429, {"Retry-After": "1"}) if n == 0 else Response("ok")


@dataclass
class Subscribers:
    """Misbehaving subscribers on loopback, subscribed to task events through the API."""

    good: Recorder = field(default_factory=Recorder)
    failing: Recorder = field(default_factory=lambda: Recorder(_answer(500, "boom")))
    throttling: Recorder = field(default_factory=lambda: Recorder(_throttle_once))
    gone: Recorder = field(default_factory=lambda: Recorder(_answer(410, "gone")))
    hang: Hang = field(default_factory=lambda: Hang(times=1))
    ids: dict[str, str] = field(default_factory=dict)
    reset_hits: list[int] = field(default_factory=list)
    trickle_hits: list[int] = field(default_factory=list)

    async def start(self, stack: AsyncExitStack, client: httpx.AsyncClient) -> None:
        recorders = {"failing": self.failing, "throttling": self.throttling,
                     "gone": self.gone, "hanging": Recorder(self.hang)}  # fmt: skip
        urls = {name: await stack.enter_async_context(_served(r)) for name, r in recorders.items()}
        urls["resetting"], self.reset_hits = await stack.enter_async_context(resetting_server())
        urls["trickling"], self.trickle_hits = await stack.enter_async_context(trickling_server())
        stack.callback(self.hang.released.set)  # let the hung handler end before shutdown
        self.ids["good"] = (await subscribe(client, await stack.enter_async_context(
            _served(self.good))))["id"]  # fmt: skip
        only_tasks = {"type": ["task.succeeded", "task.failed", "task.expired"]}
        for name, url in urls.items():
            self.ids[name] = (await subscribe(client, url, filter=only_tasks))["id"]


def _attempts(delivery: dict[str, Any]) -> list[tuple[int | None, str]]:
    return [(a["status_code"], a["error"] or "") for a in delivery["attempts"]]


@pytest.mark.slow
async def test_each_misbehaving_subscriber_ends_in_a_stated_state(settings: Settings) -> None:
    subs = Subscribers()
    async with AsyncExitStack() as stack:
        emu = await stack.enter_async_context(emulator(delay_s=0.1))
        th = await stack.enter_async_context(taskhook(fast(settings), emu))
        await subs.start(stack, th)
        task = await submit(th, "toapis", *SUBMISSIONS["toapis"])
        assert (await finished(th, task["id"]))["status"] == "succeeded"

        async def throttled() -> Any:
            [found] = await deliveries_of(th, subs.ids["throttling"])
            return found if found["attempt_count"] == 1 else None

        waiting = await wait_for(throttled)  # between the 429 and the retry it asked for
        final = {name: await wait_for(lambda s=sub_id: settled(th, s), timeout_s=15)
                 for name, sub_id in subs.ids.items()}  # fmt: skip
        await wait_for(lambda: len(subs.good.received) == 2)
        gone_sub = (await th.get(f"/api/subscribers/{subs.ids['gone']}")).json()
        task_after = await task_detail(th, task["id"])
    assert waiting["state"] == "pending" and waiting["last_status"] == 429
    wait_s = (parse_time(waiting["due_at"]) - parse_time(waiting["attempts"][0]["at"])) / 1000
    assert wait_s >= 0.95  # Retry-After: 1, not the 0.1 s of the schedule

    states = {name: [d["state"] for d in items] for name, items in final.items()}
    assert states == {"good": ["delivered", "delivered"], "failing": ["dead"],
                      "throttling": ["delivered"], "gone": ["dead"], "hanging": ["delivered"],
                      "resetting": ["dead"], "trickling": ["dead"]}  # fmt: skip
    [failing], [throttling], [gone] = final["failing"], final["throttling"], final["gone"]
    assert _attempts(failing) == [(500, failing["last_error"])] * 3
    assert "HTTP 500" in failing["last_error"] and "boom" in failing["last_error"]
    assert [status for status, _ in _attempts(throttling)] == [429, 200]
    assert _attempts(gone) == [(410, "HTTP 410 Gone: the endpoint no longer exists")]
    assert gone_sub["enabled"] is False and "410" in gone_sub["disabled_reason"]
    disabled = [loads(r.body.decode()) for r in subs.good.received
                if b"subscriber.disabled" in r.body]  # fmt: skip
    assert [e["data"]["subscriber_id"] for e in disabled] == [subs.ids["gone"]]
    [(first_status, first_error), second] = _attempts(final["hanging"][0])
    assert first_status is None and first_error.startswith("timeout") and second[0] == 200
    resets = _attempts(final["resetting"][0])
    assert len(resets) == 3 == len(subs.reset_hits) and all(s is None and e for s, e in resets)
    trickles = _attempts(final["trickling"][0])
    assert trickles == [(None, "timeout: no complete answer within 0.5s")] * 3
    # subscribers' troubles never touch the task
    assert task_after["status"] == "succeeded" and task_after["error"] is None


SERVING = ("/healthz", "/api/tasks", "/api/deliveries", "/api/events")


@pytest.mark.slow
async def test_the_service_keeps_serving_while_providers_and_subscribers_misbehave(
    settings: Settings,
) -> None:
    subs = Subscribers(hang=Hang())  # this one hangs until the end
    # keep retrying deliveries through the whole test: they stay pending, with a due time
    tuned = fast(settings, delivery_retry_schedule_s=(0.0,) + (0.2,) * 50)
    async with AsyncExitStack() as stack:
        emu = await stack.enter_async_context(emulator(delay_s=0.1))
        th = await stack.enter_async_context(taskhook(tuned, emu))
        await subs.start(stack, th)
        await program(
            emu,
            {"provider": "kie", "operation": "query", "hang_s": 1.0, "times": 10_000},
            {"provider": "foxapi", "operation": "create", "status": 500, "times": 10_000},
            {"provider": "toapis", "operation": "query", "status": 429, "retry_after": 0.3},
        )
        tasks = [await submit(th, p, *SUBMISSIONS[p]) for p in ("kie", "foxapi", "toapis")]
        await wait_for(lambda: _faults_active(emu, subs))
        timings = await measure(th, SERVING, duration_s=1.5)
        started = time.monotonic()
        late = await submit(th, "kie", *SUBMISSIONS["kie"])
        submit_s = time.monotonic() - started
        assert await _faults_active(emu, subs)  # they lasted through the measurement
        # the faults end: everything that can finish does, within bounded time
        async with httpx.AsyncClient() as client:
            await client.delete(f"{emu}/_emulator/faults")
        done = [await finished(th, t["id"]) for t in [*tasks, late]]
        subs.hang.released.set()
        hanging = await wait_for(lambda: _delivered(th, subs.ids["hanging"]), timeout_s=10)
        failing = await deliveries_of(th, subs.ids["failing"])
    assert timings.count() >= 20
    assert timings.worst() < 0.5, timings.seconds  # nothing waited behind a hung request
    assert timings.median() < 0.1, timings.seconds
    assert submit_s < 0.5
    assert [t["status"] for t in done] == ["succeeded"] * 4, [t["error"] for t in done]
    # the hung subscriber: timed out while it hung, delivered once it answered again
    errors = [a["error"] or "" for d in hanging for a in d["attempts"]]
    timeouts = [e for e in errors if e.startswith("timeout")]
    assert timeouts and len(hanging) == 4
    # a subscriber still failing: its delivery waits for its next attempt, and says why
    assert len(failing) == 4
    for pending in failing:
        assert pending["state"] == "pending" and pending["due_at"] is not None
        assert pending["last_status"] == 500 and "HTTP 500" in pending["last_error"]


async def _faults_active(emu: str, subs: Subscribers) -> bool:
    stats = await emulator_stats(emu)
    kie_polls = stats["requests"].get("kie", {}).get("query", 0)
    fox_creates = stats["requests"].get("foxapi", {}).get("create", 0)
    return (kie_polls >= 1 and fox_creates >= 2 and subs.hang.started >= 1
            and not subs.hang.released.is_set() and len(subs.failing.received) >= 1)  # fmt: skip


async def _delivered(client: httpx.AsyncClient, subscriber_id: str) -> Any:
    items = await deliveries_of(client, subscriber_id)
    return items if items and all(d["state"] == "delivered" for d in items) else None


async def test_a_slow_provider_does_not_hold_the_api_past_submit_wait(settings: Settings) -> None:
    # the provider answers in 1.5 s, inside provider_timeout_s (5 s): no retry is needed,
    # but POST /api/tasks answers after submit_wait_s (0.3 s) and the send finishes behind it
    tuned = fast(settings, provider_timeout_s=5.0, submit_wait_s=0.3)
    async with emulator(delay_s=0.2) as emu, taskhook(tuned, emu) as th:
        await program(emu, {"provider": "foxapi", "operation": "create", "hang_s": 1.5})
        started = time.monotonic()
        task = await submit(th, "foxapi", *SUBMISSIONS["foxapi"])
        answered_s = time.monotonic() - started
        done = await finished(th, task["id"])
        retries = history_of(await task_detail(th, task["id"]), "send_retry")
        creates = (await emulator_stats(emu))["requests"]["foxapi"]["create"]
    assert answered_s < 1.0  # not the provider's 1.5 s
    assert (task["status"], task["provider_task_id"]) == ("submitted", None)
    assert done["status"] == "succeeded" and done["provider_task_id"]
    assert retries == [] and creates == 1  # the one slow send went through, sent once
