"""Item 10: `-p character_file_url=@./clip.mp4` uploads the file to kie's File Upload API."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from receiver.settings import Settings
from tests.dispatcher.emulated import emulator, emulator_stats, taskhook
from tests.dispatcher.test_cli_submit import run_cli
from tests.dispatcher.test_emulator import emulator as emulator_client
from tests.support import ADMIN_TOKEN

FAST = {"poll_min_interval_s": 0.05, "poll_max_interval_s": 0.2}


async def test_page_kie_file_stream_upload_answers_a_download_url() -> None:
    """kie page: "Before using the Character Animation API, you need to upload your character
    videos" ... "After successful upload, you'll receive file URLs that can be used in the
    character_file_url parameter"."""
    async with emulator_client() as client:
        answer = (await client.post(
            "/kie/api/file-stream-upload",
            files={"file": ("clip.mp4", b"\x00\x01mp4", "video/mp4")},
            data={"uploadPath": "chars", "fileName": "me.mp4"},
        )).json()  # fmt: skip
        missing = (await client.post("/kie/api/file-stream-upload", data={"x": "1"})).json()
        async with httpx.AsyncClient(base_url=str(client.base_url)) as anonymous:
            unauthorised = await anonymous.post(
                "/kie/api/file-stream-upload", files={"file": ("a", b"a", "video/mp4")}
            )
    assert answer["code"] == 200 and answer["success"] is True
    data = answer["data"]
    assert (data["fileName"], data["filePath"], data["fileSize"], data["mimeType"]) == (
        "me.mp4", "chars/me.mp4", 5, "video/mp4")  # fmt: skip
    assert data["downloadUrl"].startswith("https://") and data["downloadUrl"].endswith("me.mp4")
    assert missing["code"] == 400
    assert unauthorised.json()["code"] == 401


async def test_submit_uploads_a_local_file_first(settings: Settings, tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\x00" * 2048)
    async with emulator(delay_s=0.2) as emu, taskhook(settings.replace(**FAST), emu) as th:
        env = {"TASKHOOK_ADMIN_TOKEN": ADMIN_TOKEN, "TASKHOOK_KIE_API_KEY": "k",
               "TASKHOOK_KIE_UPLOAD_URL": f"{emu}/kie"}  # fmt: skip
        url = str(th.base_url).rstrip("/")
        code, out, err = await run_cli(
            "submit", "kie", "sora-2-characters", "-p", f"character_file_url=@{clip}",
            "--wait", "--json", "--url", url, env=env,
        )  # fmt: skip
        missing = await run_cli(
            "submit", "kie", "sora-2-characters", "-p", "character_file_url=@/no/such.mp4",
            "--url", url, env=env,
        )  # fmt: skip
        other = await run_cli(
            "submit", "foxapi", "sora-2-character", "-p", f"video_url=@{clip}", "-p", "name=A",
            "--url", url, env=env,
        )  # fmt: skip
        stats = await emulator_stats(emu)
    assert code == 0, err
    task = json.loads(out)
    [uploaded] = task["input"]["character_file_url"]
    assert uploaded.startswith("https://cdn.emulator.example/kie-uploads/")
    assert uploaded.endswith("/taskhook/clip.mp4")
    assert task["status"] == "succeeded" and task["result"]["character_id"]
    assert stats["requests"]["kie"]["upload"] == 1
    assert missing[0] == 2 and "/no/such.mp4" in missing[2]
    assert other[0] == 2 and "only for kie" in other[2]
