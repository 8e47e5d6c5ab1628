"""`TASKHOOK_LOG_FORMAT=json`: a real `taskhook serve` writes one JSON object per line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support import free_port

ADMIN = "json-logs-admin-token-5f1c9e0b7d"
SECRET = "json-logs-secret-key-0123456789abcdef0123"
METRICS = "json-logs-metrics-token-a8b2c4d6e8"


def wait_ready(proc: subprocess.Popen[str], base: str) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.get(f"{base}/readyz", timeout=1)
            return
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"serve did not start: {proc.communicate()[1]}") from None
            time.sleep(0.1)


def exercise(base: str) -> None:
    """Requests whose logs could leak a secret if redaction were missing."""
    auth = {"Authorization": f"Bearer {ADMIN}"}
    assert httpx.get(f"{base}/healthz").status_code == 200
    assert httpx.get(f"{base}/api/tasks", headers=auth).status_code == 200
    wrong = httpx.get(f"{base}/api/tasks", headers={"Authorization": f"Bearer {SECRET}"})
    assert wrong.status_code == 403
    # secrets pasted into a URL end up in the access log line unless redacted
    leaky = httpx.get(f"{base}/api/nope", params={"token": ADMIN, "secret": SECRET}, headers=auth)
    assert leaky.status_code == 404
    scrape = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {METRICS}"})
    assert scrape.status_code == 200


def test_serve_with_json_logs_writes_only_json_lines_without_secrets(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASKHOOK_")}
    env.update(
        TASKHOOK_LOG_FORMAT="json",
        TASKHOOK_ADMIN_TOKEN=ADMIN,
        TASKHOOK_SECRET_KEY=SECRET,
        TASKHOOK_METRICS_TOKEN=METRICS,
        TASKHOOK_DB=str(tmp_path / "t.db"),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "dispatcher.cli", "serve", "--port", str(port)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_ready(proc, f"http://127.0.0.1:{port}")
        exercise(f"http://127.0.0.1:{port}")
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    lines = err.splitlines()
    entries = [json.loads(line) for line in lines]  # each line must parse on its own
    assert entries and all(isinstance(e, dict) for e in entries)
    assert all({"time", "level", "logger", "message"} <= e.keys() for e in entries)
    messages = "\n".join(e["message"] for e in entries)
    assert "/api/nope" in messages and "/healthz" in messages  # requests are logged
    for secret in (ADMIN, SECRET, METRICS):
        assert secret not in err


def test_json_lines_carry_ids_as_fields_and_redact_secrets() -> None:
    import json as _json
    import logging as _logging

    from dispatcher.cli.logs import JsonFormatter

    record = _logging.LogRecord(
        "dispatcher.poller", _logging.INFO, __file__, 1,
        "task %s sent with Authorization: Bearer %s", ("tsk_1", "sk-live-abcdefghijkl"), None,
    )  # fmt: skip
    record.task_id = "tsk_1"
    record.event_id = "evt_9"
    line = _json.loads(JsonFormatter().format(record))
    assert line["task_id"] == "tsk_1" and line["event_id"] == "evt_9"
    assert line["level"] == "info" and line["logger"] == "dispatcher.poller"
    assert "sk-live-abcdefghijkl" not in line["message"] and "[redacted]" in line["message"]


def test_access_log_lines_never_show_a_callback_token() -> None:
    from dispatcher.cli.logs import redact

    token = "VVa-iiZ6uJEQMXgw9G_ihboI8KwaTyAeOEpGMX67L0U"
    line = redact(f'127.0.0.1:5 - "POST /callbacks/kie/{token} HTTP/1.1" 200')
    assert token not in line and "/callbacks/kie/[redacted]" in line
    assert redact('"POST /callbacks/kie HTTP/1.1" 401') == '"POST /callbacks/kie HTTP/1.1" 401'
