"""`GET /openapi.json`: every `/api` route described; the admin API fuzzed from it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import jsonschema_rs
import pytest
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hsettings
from starlette.applications import Starlette

from dispatcher.compose import build_app, parts
from receiver.app import create_app
from receiver.openapi import OPERATIONS, api_routes
from receiver.settings import ProviderSettings, Settings
from tests.support import ADMIN_TOKEN, SECRET_KEY, app_client, live_server


def _settings(tmp_path: Path) -> Settings:
    closed = "http://127.0.0.1:9"  # no provider is ever reached from these tests
    return Settings(
        db=str(tmp_path / "api.db"), admin_token=ADMIN_TOKEN, secret_key=SECRET_KEY,
        workers=False, allow_http_subscribers=True, allow_private_subscribers=True,
        providers={p: ProviderSettings(p, closed) for p in ("kie", "foxapi", "toapis")},
        submit_wait_s=0.5, provider_timeout_s=0.5, delivery_timeout_s=0.5,
    )  # fmt: skip


async def _local_only(_host: str, _port: int) -> list[str]:
    return ["127.0.0.1"]


def _app(tmp_path: Path) -> Starlette:
    """The full app, with subscriber host names resolving to loopback (no DNS)."""
    settings = _settings(tmp_path)
    return create_app(settings, parts(settings, resolver=_local_only))


async def test_every_api_route_is_described_and_nothing_else(tmp_path: Path) -> None:
    app = build_app(_settings(tmp_path))
    routed = set(api_routes(app.routes))
    assert routed - set(OPERATIONS) == set(), "routes without a description"
    assert set(OPERATIONS) - routed == set(), "descriptions of routes that do not exist"
    async with app_client(app, token=None) as client:
        answer = await client.get("/openapi.json")
    assert answer.status_code == 200
    document = answer.json()
    described = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
    assert described == routed
    for schema in document["components"]["schemas"].values():
        jsonschema_rs.meta.validate(schema)
    assert {"task.succeeded", "delivery.exhausted", "taskhook.test"} <= set(document["webhooks"])
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            assert "401" in op["responses"] and "403" in op["responses"], (method, path)


async def test_answers_match_the_description(tmp_path: Path) -> None:
    """A walk through the API: every answer validates against its documented schema."""
    app = _app(tmp_path)
    async with app_client(app) as client:
        document = (await client.get("/openapi.json")).json()
        made = await client.post("/api/subscribers", json={
            "url": "http://127.0.0.1:9/h", "headers": {"X-K": "v"}})  # fmt: skip
        sub = made.json()
        calls = [
            ("post", "/api/subscribers", made),
            ("get", "/api/subscribers", await client.get("/api/subscribers")),
            ("get", "/api/subscribers/{id}", await client.get(f"/api/subscribers/{sub['id']}")),
            ("post", "/api/subscribers/{id}/test",
             await client.post(f"/api/subscribers/{sub['id']}/test")),
            ("get", "/api/tasks", await client.get("/api/tasks")),
            ("get", "/api/deliveries", await client.get("/api/deliveries")),
            ("post", "/api/tick", await client.post("/api/tick")),
            ("get", "/api/tasks/{id}", await client.get("/api/tasks/tsk_nope")),
        ]  # fmt: skip
    for method, path, answer in calls:
        spec = document["paths"][path][method]["responses"][str(answer.status_code)]
        schema = {**spec["content"]["application/json"]["schema"],
                  "components": document["components"]}  # fmt: skip
        jsonschema_rs.Draft202012Validator(schema).validate(answer.json())


@pytest.mark.slow
async def test_schemathesis_fuzz_of_the_admin_api(tmp_path: Path) -> None:
    """No 500, and every answer's status, content type and body match the description."""
    import schemathesis
    from schemathesis import checks

    app = _app(tmp_path)
    chosen = [checks.not_a_server_error, checks.status_code_conformance,
              checks.content_type_conformance, checks.response_schema_conformance]  # fmt: skip
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with live_server(app) as base:
        async with httpx.AsyncClient() as plain:
            document = (await plain.get(f"{base}/openapi.json")).json()
        schema = schemathesis.openapi.from_dict(document)

        statuses: dict[int, int] = {}

        def fuzz() -> int:
            tried = 0
            for result in schema.get_all_operations():
                operation = result.ok()

                @hsettings(max_examples=20, deadline=None, database=None,
                           phases=[Phase.explicit, Phase.generate],
                           suppress_health_check=list(HealthCheck))  # fmt: skip
                @given(case=operation.as_strategy())
                def one(case: schemathesis.Case) -> None:
                    response = case.call(base_url=base, headers=auth, timeout=10)
                    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                    case.validate_response(response, checks=chosen)

                one()
                tried += 1
            return tried

        assert await asyncio.to_thread(fuzz) == len(OPERATIONS)
    print(f"\nanswers by status: {dict(sorted(statuses.items()))}")
    assert sum(statuses.values()) >= 5 * len(OPERATIONS)
    assert any(200 <= code < 300 for code in statuses)  # not only refusals
