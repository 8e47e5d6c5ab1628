"""Random bytes, JSON and headers at both callback routes: never a 500, never an event."""

from __future__ import annotations

import asyncio
import json
import string

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from receiver.settings import Settings
from tests.receiver.callback_helpers import KIE_KEY, add_task, count, running

HEADER_TEXT = st.text(string.ascii_letters + string.digits + "+/=,. -_:", max_size=60)
HEADERS = st.dictionaries(
    st.sampled_from(
        ["x-webhook-timestamp", "x-webhook-signature", "webhook-id", "webhook-timestamp",
         "webhook-signature", "content-type", "x-other"]
    ),
    HEADER_TEXT,
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
BODIES = (
    st.binary(max_size=300)
    | JSON.map(lambda v: json.dumps(v).encode())
    | KIE_LIKE.map(lambda v: json.dumps(v).encode())
)
PATHS = st.sampled_from(["/callbacks/kie", "/callbacks/foxapi", "/callbacks/sw", "/callbacks/x"])


def test_random_requests_never_500_and_never_store_an_event(settings: Settings) -> None:
    sources = {"sw": "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ="}
    cfg = settings.replace(kie_webhook_key=KIE_KEY, workers=False, standard_webhook_sources=sources)
    loop = asyncio.new_event_loop()
    manager = running(cfg)
    client, rt = loop.run_until_complete(manager.__aenter__())
    try:
        _, token = loop.run_until_complete(add_task(rt.db))
        tokens = st.sampled_from([None, token, "A" * 43, "%2e%2e"])

        @hsettings(max_examples=150, deadline=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
        @given(path=PATHS, token=tokens, body=BODIES, headers=HEADERS)
        def post(path: str, token: str | None, body: bytes, headers: dict[str, str]) -> None:
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
