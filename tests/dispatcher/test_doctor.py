"""`taskhook doctor`: one line per check, a fix for each failure, exit 1 when any fails."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from dispatcher.cli.main import run
from dispatcher.doctor import run_checks
from dispatcher.emulator.app import create_emulator_app
from dispatcher.emulator.config import EmulatorConfig
from receiver.app import create_app
from receiver.callbacks.callbacks_part import CallbacksPart
from receiver.settings import ProviderSettings, Settings
from tests.support import ADMIN_TOKEN, SECRET_KEY, live_server


def _lines(checks: list) -> dict[str, str]:  # type: ignore[type-arg]
    return {c.name: c.line() for c in checks}


async def test_a_healthy_deployment_passes_and_a_broken_one_says_what_to_do(
    tmp_path: Path,
) -> None:
    db = str(tmp_path / "taskhook.db")
    emulator = create_emulator_app(EmulatorConfig(api_key="right-key"))
    base = Settings(db=db, admin_token=ADMIN_TOKEN, secret_key=SECRET_KEY, workers=False)
    app = create_app(base, [CallbacksPart()])
    async with live_server(emulator) as emu, live_server(app) as public:
        await app.state.runtime.db.execute(
            "INSERT INTO subscribers (id, url, kind, filter, enabled, disabled_reason, "
            "created_at, updated_at) VALUES ('sub_1', 'https://x.example/h', 'webhook', '{}', "
            "0, 'HTTP 410 Gone', 0, 0)"
        )
        good = {p: ProviderSettings(p, f"{emu}/{p}", api_key="right-key")
                for p in ("kie", "toapis")}  # fmt: skip
        good["foxapi"] = ProviderSettings("foxapi", f"{emu}/foxapi", api_key="wrong-key")
        checks = await run_checks(base.replace(providers=good, public_url=public))
        lines = _lines(checks)
        assert lines["database"].startswith("ok") and "writable (sqlite)" in lines["database"]
        assert lines["schema"].startswith("ok")
        assert lines["secret key"].startswith("ok")
        assert lines["provider kie"].startswith("ok") and lines["provider toapis"].startswith("ok")
        assert lines["provider foxapi"].startswith("FAIL")
        assert "TASKHOOK_FOXAPI_API_KEY" in lines["provider foxapi"]
        assert lines["public URL"].startswith("ok")
        assert lines["subscriber sub_1"].startswith("FAIL") and "410" in lines["subscriber sub_1"]
        assert "subscribers resume sub_1" in lines["subscriber sub_1"]

        await app.state.runtime.db.execute("DELETE FROM subscribers")
        good["foxapi"] = ProviderSettings("foxapi", f"{emu}/foxapi", api_key="right-key")
        healthy = await run_checks(base.replace(providers=good, public_url=public))
        assert all(c.ok for c in healthy), [c.line() for c in healthy]

        nowhere = {p: ProviderSettings(p, "http://127.0.0.1:9", api_key="k")
                   for p in ("kie", "foxapi", "toapis")}  # fmt: skip
        broken = base.replace(providers=nowhere, public_url="http://127.0.0.1:9")
        lines = _lines(await run_checks(broken))
        assert lines["provider kie"].startswith("FAIL") and "BASE_URL" in lines["provider kie"]
        assert lines["public URL"].startswith("FAIL")


async def test_missing_database_and_key_and_the_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TASKHOOK_DB", str(tmp_path / "none.db"))
    for name in ("TASKHOOK_SECRET_KEY", "TASKHOOK_PUBLIC_URL", "TASKHOOK_KIE_API_KEY",
                 "TASKHOOK_FOXAPI_API_KEY", "TASKHOOK_TOAPIS_API_KEY"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    assert await asyncio.to_thread(run, ["doctor"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("FAIL  database: no database at") and "taskhook serve" in out[0]
    assert any(line.startswith("FAIL  secret key") for line in out)
    assert any(line.startswith("skip  provider kie") for line in out)
    assert any(line.startswith("skip  public URL") for line in out)
    assert out[-1].endswith("checks failed")
