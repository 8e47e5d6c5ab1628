"""deploy/: the files a user copies must be consistent with the code (Docker does not run here)."""

from __future__ import annotations

import importlib.util
import json
import os
import shlex
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
import yaml

from dispatcher.cli.main import build_parser
from tests.support import free_port

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"


def console_scripts() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    scripts: dict[str, str] = project["scripts"]
    return scripts


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, rest = (pending + line).partition(" ")
        out.append((keyword.upper(), rest.strip()))
        pending = ""
    return out


def final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    starts = [i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM"]
    return instructions[starts[-1] :]


def assert_taskhook_command(argv: list[str]) -> None:
    """argv runs a declared console script with arguments our CLI accepts."""
    assert argv[0] in console_scripts(), f"{argv[0]!r} is not a console script in pyproject.toml"
    args = build_parser().parse_args(argv[1:])
    assert callable(args.handler)


def test_dockerfile_runs_the_console_script_as_non_root() -> None:
    stage = final_stage(dockerfile_instructions((DEPLOY / "Dockerfile").read_text()))
    assert stage[0][1].startswith("python:3.11-slim")
    commands = [args for keyword, args in stage if keyword in ("CMD", "ENTRYPOINT")]
    argv = [part for args in commands for part in json.loads(args)]
    assert argv[:2] == ["taskhook", "serve"] and "0.0.0.0" in argv
    assert_taskhook_command(argv)
    users = [args for keyword, args in stage if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    health = " ".join(args for keyword, args in stage if keyword == "HEALTHCHECK")
    probe = json.loads(health.split(" CMD ", 1)[1])  # exec form: must be a valid JSON array
    assert probe[0] == "python" and "/healthz" in probe[-1]
    compile(probe[-1], "<healthcheck>", "exec")  # the probe itself is valid Python
    env = " ".join(args for keyword, args in stage if keyword == "ENV")
    assert "TASKHOOK_PORT" not in env, "setting TASKHOOK_PORT would hide the platform's PORT"


def healthcheck_probe() -> list[str]:
    stage = final_stage(dockerfile_instructions((DEPLOY / "Dockerfile").read_text()))
    health = " ".join(args for keyword, args in stage if keyword == "HEALTHCHECK")
    probe: list[str] = json.loads(health.split(" CMD ", 1)[1])
    return [sys.executable, *probe[1:]]


def test_image_command_listens_on_platform_port_and_passes_its_healthcheck(
    tmp_path: Path,
) -> None:
    """The container's CMD with only `PORT` set (as Cloud Run does) serves; the probe agrees."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASKHOOK_")}
    env.update(PORT=str(port), TASKHOOK_DB=str(tmp_path / "t.db"))
    probe = healthcheck_probe()
    server = subprocess.Popen(
        [sys.executable, "-m", "dispatcher.cli", "serve", "--host", "127.0.0.1"],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while subprocess.run(probe, env=env, capture_output=True, timeout=10).returncode != 0:
            assert server.poll() is None, server.communicate()[1]
            assert time.monotonic() < deadline, "the healthcheck never passed"
            time.sleep(0.2)
    finally:
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=30)
    assert server.returncode == 0, err
    assert subprocess.run(probe, env=env, capture_output=True, timeout=10).returncode != 0


def test_dockerfile_copies_only_what_exists() -> None:
    instructions = dockerfile_instructions((DEPLOY / "Dockerfile").read_text())
    for keyword, args in instructions:
        if keyword == "COPY" and not args.startswith("--from"):
            for source in shlex.split(args)[:-1]:
                assert (ROOT / source).exists(), f"COPY {source}: not in the build context"


def test_compose_runs_taskhook_on_a_healthy_postgres() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) >= {"taskhook", "postgres"}
    pg = services["postgres"]
    assert pg["image"].startswith("postgres:16")
    assert "pg_isready" in " ".join(pg["healthcheck"]["test"])
    app = services["taskhook"]
    assert app["depends_on"]["postgres"]["condition"] == "service_healthy"
    env = app["environment"]
    db_url = env["TASKHOOK_DB"]
    assert db_url.startswith("postgresql://") and "@postgres:5432/" in db_url
    for required in ("TASKHOOK_SECRET_KEY", "TASKHOOK_ADMIN_TOKEN"):
        assert ":?" in env[required], f"{required} must be required (${{VAR:?message}})"
    build = app["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == DEPLOY / "Dockerfile"
    assert "/readyz" in " ".join(app["healthcheck"]["test"])


def unit_settings(path: Path) -> dict[str, list[str]]:
    """key -> every value given (systemd allows repeated keys)."""
    values: dict[str, list[str]] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            values.setdefault(key.strip(), []).append(value.strip())
    return values


def test_systemd_unit_serves_hardened() -> None:
    unit = unit_settings(DEPLOY / "systemd" / "taskhook.service")
    argv = shlex.split(unit["ExecStart"][0])
    assert Path(argv[0]).name == "taskhook" and argv[1] == "serve"
    assert_taskhook_command([Path(argv[0]).name, *argv[1:]])
    assert unit["Restart"] == ["on-failure"] and unit["KillSignal"] == ["SIGTERM"]
    assert unit["TimeoutStopSec"] and unit["StateDirectory"] == ["taskhook"]
    assert unit["EnvironmentFile"] and unit.get("DynamicUser") == ["yes"]
    assert unit["NoNewPrivileges"] == ["yes"] and unit["ProtectSystem"] == ["strict"]
    tick = unit_settings(DEPLOY / "systemd" / "taskhook-tick.service")
    assert shlex.split(tick["ExecStart"][0])[1:] == ["tick"]
    assert tick["User"] == unit["User"], "both units must share the state directory's owner"


def test_every_target_has_a_readme() -> None:
    index = (DEPLOY / "README.md").read_text()
    for target in ("systemd", "cloudrun", "lambda"):
        assert (DEPLOY / target / "README.md").is_file()
        assert f"{target}/" in index


def test_lambda_extra_declares_mangum() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert any(dep.startswith("mangum") for dep in extras["lambda"])


LAMBDA_PROBE = """
import json, sys
sys.path.insert(0, sys.argv[1])
import handler

def http(method, path, headers):
    return {"version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
            "headers": {"host": "fn.lambda-url.eu-west-1.on.aws", **headers},
            "requestContext": {"http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                                        "sourceIp": "203.0.113.9", "userAgent": "probe"},
                               "stage": "$default", "requestId": "r1",
                               "domainName": "fn.lambda-url.eu-west-1.on.aws"},
            "isBase64Encoded": False}

auth = {"authorization": "Bearer " + sys.argv[2]}
out = {
    "healthz": handler.handler(http("GET", "/healthz", {}), None),
    "ready": handler.handler(http("GET", "/readyz", {}), None),
    "tick_api": handler.handler(http("POST", "/api/tick", auth), None),
    "tick_api_anonymous": handler.handler(http("POST", "/api/tick", {}), None),
    "scheduled": handler.handler({"taskhook": "tick"}, None),
    "workers": handler.SETTINGS.workers,
}
print(json.dumps(out))
"""


def test_lambda_handler_serves_http_and_scheduled_ticks(tmp_path: Path) -> None:
    if importlib.util.find_spec("mangum") is None:
        pytest.skip("mangum is not installed: pip install -e '.[test]' (or the lambda extra)")
    token = "lambda-admin-token-0123456789"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASKHOOK_")}
    env.update(TASKHOOK_DB=str(tmp_path / "fn.db"), TASKHOOK_ADMIN_TOKEN=token)
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-c", LAMBDA_PROBE, str(DEPLOY / "lambda"), token],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["workers"] is False
    assert out["healthz"]["statusCode"] == 200
    assert json.loads(out["ready"]["body"])["status"] == "ready"
    assert out["tick_api"]["statusCode"] == 200
    assert json.loads(out["tick_api"]["body"])["failed"] == []
    assert out["tick_api_anonymous"]["statusCode"] == 401
    assert out["scheduled"]["failed"] == [] and out["scheduled"]["rounds"] >= 1
