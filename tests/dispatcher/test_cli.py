"""The CLI as a user meets it: exit codes and one-line errors (in-process, see cli_support).

`serve` answering and stopping on SIGTERM stays a real subprocess of the installed script:
it needs the process's signals and its own event loop while the test polls it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

from tests.cli_support import console_script, taskhook
from tests.support import free_port

__all__ = ["taskhook"]  # other CLI tests import it from here


def test_version(tmp_path: Path) -> None:
    out = taskhook("--version", cwd=tmp_path)
    assert out.returncode == 0 and out.stdout.startswith("taskhook ")


def test_bad_flag_is_one_line_and_exit_2(tmp_path: Path) -> None:
    out = taskhook("tasks", "--bogus", cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "--bogus" in out.stderr and "Traceback" not in out.stderr


def test_unwritable_database_path_is_a_clear_error(tmp_path: Path) -> None:
    out = taskhook("tasks", "--db", str(tmp_path / "missing" / "x.db"), cwd=tmp_path)
    assert out.returncode != 0
    assert "does not exist" in out.stderr and "Traceback" not in out.stderr
    assert out.stderr.count("\n") == 1


def test_bad_environment_is_a_clear_error(tmp_path: Path) -> None:
    out = taskhook("tasks", cwd=tmp_path, env={"TASKHOOK_PORT": "eighty"})
    assert out.returncode == 2 and "TASKHOOK_PORT" in out.stderr and "Traceback" not in out.stderr


def test_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        out = taskhook("serve", "--port", str(port), cwd=tmp_path)
    assert out.returncode == 1
    assert f"port {port}" in out.stderr and "already in use" in out.stderr
    assert "Traceback" not in out.stderr


def test_serve_creates_secrets_answers_ready_and_exits_0_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASKHOOK_")}
    proc = subprocess.Popen(
        [console_script(), "serve", "--port", str(port)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, proc.stderr.read() if proc.poll() else ""
                time.sleep(0.1)
        assert ready.status_code == 200
        token = (tmp_path / "taskhook.admin_token").read_text().strip()
        assert (tmp_path / "taskhook.admin_token").stat().st_mode & 0o777 == 0o600
        assert (tmp_path / "taskhook.secret_key").stat().st_mode & 0o777 == 0o600
        api = httpx.get(
            f"http://127.0.0.1:{port}/api/tasks", headers={"Authorization": f"Bearer {token}"}
        )
        assert api.status_code == 200 and api.json() == {"items": [], "next_cursor": None}
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert err.count("generated taskhook.admin_token") == 1
    assert (tmp_path / "taskhook.db").exists()


def test_tasks_and_events_list_an_empty_store(tmp_path: Path) -> None:
    out = taskhook("tasks", "--json", cwd=tmp_path)
    assert out.returncode == 0 and out.stdout.strip() == "[]"
    out = taskhook("events", cwd=tmp_path)
    assert out.returncode == 0 and "ID" in out.stdout
    missing = taskhook("events", "evt_nope", cwd=tmp_path)
    assert missing.returncode == 1 and "evt_nope" in missing.stderr
