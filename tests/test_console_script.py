"""The installed `taskhook` script as a shell runs it: a few real subprocesses.

Command behaviour is tested in-process (tests/cli_support.py); these check the wiring
around it: the console script, `python -m dispatcher.cli`, and exit codes reaching the shell.
`serve` is started as a subprocess in tests/dispatcher/test_cli.py and test_json_logs.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.cli_support import console_script


def shell(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASKHOOK_")}
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def test_help_lists_the_commands_and_exits_0(tmp_path: Path) -> None:
    out = shell(console_script(), "--help", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("usage: taskhook") and "serve" in out.stdout
    assert "tick" in out.stdout and "subscribers" in out.stdout


def test_a_usage_error_exits_2_in_one_line(tmp_path: Path) -> None:
    out = shell(console_script(), "tasks", "--bogus", cwd=tmp_path)
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "--bogus" in out.stderr


def test_a_failed_command_exits_1_at_once(tmp_path: Path) -> None:
    out = shell(console_script(), "events", "evt_nope", cwd=tmp_path)
    assert out.returncode == 1 and "evt_nope" in out.stderr and "Traceback" not in out.stderr


def test_python_dash_m_runs_the_same_entry(tmp_path: Path) -> None:
    out = shell(sys.executable, "-m", "dispatcher.cli", "--version", cwd=tmp_path)
    assert out.returncode == 0 and out.stdout.startswith("taskhook ")
    bad = shell(sys.executable, "-m", "dispatcher.cli", "tasks", "--bogus", cwd=tmp_path)
    assert bad.returncode == 2
