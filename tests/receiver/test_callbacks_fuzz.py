"""Random bytes, JSON and headers at both callback routes: never a 500, never an event."""

from __future__ import annotations

import asyncio
import json
import logging
import string

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from receiver.app import create_app
from receiver.callbacks.callbacks_part import CallbacksPart
from receiver.settings import RateLimit, Settings
from tests.asgi_raw import raw_request, split_body
from tests.receiver.callback_helpers import FAST, KIE_KEY, add_task, count, running
from tests.support import app_client

# Latin-1 digits that str.isdigit() accepts and int() refuses ("²³¹") ride along.
HEADER_TEXT = st.text(string.ascii_letters + string.digits + "+/=,. -_:²³¹¼", max_size=60)
HEADERS = st.dictionaries(
    st.sampled_from(
        ["x-webhook-timestamp", "x-webhook-signature", "webhook-id", "webhook-timestamp",
         "webhook-signature", "content-type", "x-other"]
    ),
    HEADER_TEXT.map(lambda text: text.encode("latin-1")),
    max_size=5,
)  # fmt: skip
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
KIE_LIKE = st.fixed_dictionaries(
    {
        "code": JSON,
        "data": st.fixed_dictionaries(
            {"taskId": JSON | st.just("task_abc"), "state": JSON, "resultJson": JSON}
        ),
    }
)
DEEP = st.builds(
    lambda depth, opener, closed: (
        b'{"data": {"taskId": "task_abc", "x": ' + opener * depth
        + ((b"]" if opener == b"[" else b"}") * depth if closed else b"") + b"}}"
    ),
    st.integers(1, 40_000), st.sampled_from([b"[", b'{"a":']), st.booleans(),
)  # fmt: skip
BODIES = (
    st.binary(max_size=300)
    | JSON.map(lambda v: json.dumps(v).encode())
    | KIE_LIKE.map(lambda v: json.dumps(v).encode())
    | DEEP
)
UNTHROTTLED = RateLimit(1_000_000, 1.0)  # the fuzz is about each refusal, not their rate
PATHS = st.sampled_from(["/callbacks/kie", "/callbacks/foxapi", "/callbacks/sw", "/callbacks/x"])


def test_random_requests_never_500_and_never_store_an_event(settings: Settings) -> None:
    sources = {"sw": "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ="}
    cfg = settings.replace(kie_webhook_key=KIE_KEY, workers=False, standard_webhook_sources=sources,
                           callback_refusal_limit=UNTHROTTLED)  # fmt: skip
    loop = asyncio.new_event_loop()
    manager = running(cfg)
    client, rt = loop.run_until_complete(manager.__aenter__())
    try:
        _, token = loop.run_until_complete(add_task(rt.db))
        tokens = st.sampled_from([None, token, "A" * 43, "%2e%2e"])

        @hsettings(max_examples=150, deadline=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
        @given(path=PATHS, token=tokens, body=BODIES, headers=HEADERS)
        def post(path: str, token: str | None, body: bytes, headers: dict[str, bytes]) -> None:
            url = path + (f"/{token}" if token else "")
            resp = loop.run_until_complete(client.post(url, content=body, headers=headers))
            assert resp.status_code < 500, resp.text
            assert "Traceback" not in resp.text

        post()
        assert loop.run_until_complete(count(rt.db, "events")) == 0
        assert loop.run_until_complete(count(rt.db, "inbox")) == 0
    finally:
        loop.run_until_complete(manager.__aexit__(None, None, None))
        loop.close()


def test_clients_vanishing_mid_body_never_500_and_are_audited(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = settings.replace(kie_webhook_key=KIE_KEY, workers=False,
                           callback_refusal_limit=UNTHROTTLED)  # fmt: skip
    app = create_app(cfg, [CallbacksPart(FAST)])
    loop = asyncio.new_event_loop()
    manager = app_client(app)
    loop.run_until_complete(manager.__aenter__())
    sent_count = [0]
    try:
        _, token = loop.run_until_complete(add_task(app.state.runtime.db))

        @hsettings(max_examples=60, deadline=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
        @given(body=BODIES, cut=st.integers(0, 400), with_token=st.booleans())
        def vanish(body: bytes, cut: int, with_token: bool) -> None:
            path = "/callbacks/kie" + (f"/{token}" if with_token else "")
            sent = loop.run_until_complete(raw_request(app, path, split_body(body, cut)))
            assert all(m.get("status", 0) < 500 for m in sent)
            sent_count[0] += 1

        vanish()
        db = app.state.runtime.db
        audited = loop.run_until_complete(count(db, "callbacks", "WHERE verdict = 'disconnected'"))
        assert audited == sent_count[0] and loop.run_until_complete(count(db, "inbox")) == 0
    finally:
        loop.run_until_complete(manager.__aexit__(None, None, None))
        loop.close()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
