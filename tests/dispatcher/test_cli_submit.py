"""`taskhook submit` as a user runs it, against a live server and emulator."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from dispatcher.cli.common import CliError
from dispatcher.cli.submit import parse_params
from receiver.settings import Settings
from tests import cli_support
from tests.dispatcher.emulated import emulator, taskhook
from tests.support import ADMIN_TOKEN, SECRET_KEY

FAST = {"poll_min_interval_s": 0.05, "poll_max_interval_s": 0.2}


def test_values_are_json_when_they_parse_else_text() -> None:
    params = parse_params(["duration=8", "flag=true", 'image_urls=["https://a/b.png"]',
                           "prompt=a fox", "name=", "ratio=16:9"])  # fmt: skip
    assert params == {"duration": 8, "flag": True, "image_urls": ["https://a/b.png"],
                      "prompt": "a fox", "name": "", "ratio": "16:9"}  # fmt: skip
    with pytest.raises(CliError) as caught:
        parse_params(["prompt"])
    assert caught.value.exit_code == 2


async def run_cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """`taskhook ARGS` (in-process, on a thread: the server runs on this test's loop)."""
    env = env if env is not None else {"TASKHOOK_ADMIN_TOKEN": ADMIN_TOKEN}
    ran = await asyncio.to_thread(cli_support.taskhook, *args, env=env)
    return ran.returncode, ran.stdout, ran.stderr


@asynccontextmanager
async def served(tmp_path: Path, **emu: object) -> AsyncIterator[str]:
    settings = Settings(db=str(tmp_path / "t.db"), admin_token=ADMIN_TOKEN,
                        secret_key=SECRET_KEY, **FAST)  # type: ignore[arg-type]  # fmt: skip
    async with emulator(**emu) as emu_url, taskhook(settings, emu_url) as client:
        yield str(client.base_url).rstrip("/")


async def test_submit_wait_prints_the_character_and_exits_0(tmp_path: Path) -> None:
    async with served(tmp_path, delay_s=0.3) as url:
        code, out, err = await run_cli(
            "submit", "foxapi", "sora-2-character", "-p", "video_url=https://f/me.mp4",
            "-p", "name=Al", "--wait", "--url", url,
        )  # fmt: skip
    assert code == 0, err
    assert ": succeeded" in out and "character: " in out


async def test_submit_wait_json_gives_the_final_task(tmp_path: Path) -> None:
    async with served(tmp_path, delay_s=0.2) as url:
        code, out, _ = await run_cli(
            "submit", "foxapi", "sora-2", "-p", "prompt=waves", "-p", "duration=4",
            "--wait", "--json", "--url", url,
        )  # fmt: skip
    task = json.loads(out)
    assert code == 0 and task["status"] == "succeeded" and task["result"]["video_urls"]


async def test_a_failed_task_exits_1_with_its_error(tmp_path: Path) -> None:
    async with served(tmp_path, delay_s=0.2, fail_rate=1.0) as url:
        code, out, _ = await run_cli("submit", "foxapi", "sora-2", "-p", "prompt=waves",
                                     "--wait", "--url", url)  # fmt: skip
    assert code == 1 and ": failed" in out and "error: " in out


async def test_invalid_input_exits_2_naming_the_field(tmp_path: Path) -> None:
    async with served(tmp_path) as url:
        code, _, err = await run_cli("submit", "foxapi", "sora-2", "-p", "prompt=waves",
                                     "-p", "duration=7", "--url", url)  # fmt: skip
    assert code == 2 and "duration" in err and "Traceback" not in err


async def test_the_token_file_beside_the_database_is_used(tmp_path: Path) -> None:
    (tmp_path / "taskhook.admin_token").write_text(ADMIN_TOKEN + "\n")
    async with served(tmp_path, delay_s=0.2) as url:
        code, out, err = await run_cli(
            "submit", "foxapi", "sora-2", "-p", "prompt=waves", "--url", url,
            "--db", str(tmp_path / "t.db"), env={},
        )  # fmt: skip
    assert code == 0, err
    assert ": submitted" in out


async def test_no_server_is_a_clear_error(tmp_path: Path) -> None:
    code, _, err = await run_cli("submit", "foxapi", "sora-2", "-p", "prompt=x",
                                 "--url", "http://127.0.0.1:9")  # fmt: skip
    assert code == 1 and "is `taskhook serve` running?" in err and "Traceback" not in err


async def test_submit_wait_follows_a_kie_chain_to_its_last_task(tmp_path: Path) -> None:
    child = {"prompt": "me surfing", "character_id_list": ["{{character_id}}"]}
    then = {"provider": "kie", "model": "sora-2-text-to-video", "input": child}
    async with served(tmp_path, delay_s=0.2) as url:
        code, out, err = await run_cli(
            "submit", "kie", "sora-2-characters", "-p", 'character_file_url=["https://f/me.mp4"]',
            "--then-json", json.dumps(then), "--wait", "--url", url,
        )  # fmt: skip
    assert code == 0, err
    lines = out.splitlines()
    done = [line for line in lines if line.endswith(": succeeded")]
    [step] = [line for line in lines if line.startswith("then: ")]
    assert len(done) == 2 and done[0] != done[1]
    assert step.split()[1] == done[1].split(":")[0]  # the child it announced is the last task
    assert step.endswith("kie/sora-2-text-to-video")
    assert lines.index(step) < lines.index(done[1])
    assert any(line.startswith("character: ") for line in lines[: lines.index(step)])
    assert any(line.startswith("video: ") for line in lines[lines.index(step) :])


async def test_submit_wait_prints_a_toapis_profile_picture_as_an_image(tmp_path: Path) -> None:
    async with served(tmp_path, delay_s=0.2) as url:
        code, out, err = await run_cli(
            "submit", "toapis", "sora-2", "-p", "url=https://f/me.mp4", "-p", "timestamps=1,3",
            "--wait", "--url", url,
        )  # fmt: skip
    assert code == 0, err
    assert "image: " in out and "video: " not in out and "character: task_" in out


async def test_foxapi_duration_16_exits_2_with_the_pages_list(tmp_path: Path) -> None:
    """foxapi sora-2 page: duration "可选值: 4 8 12": 16 never reaches the provider."""
    async with served(tmp_path) as url:
        code, _, err = await run_cli("submit", "foxapi", "sora-2", "-p", "prompt=waves",
                                     "-p", "duration=16", "--wait", "--url", url)  # fmt: skip
    assert code == 2 and "duration" in err and "4, 8, 12" in err and "16, 20" not in err
