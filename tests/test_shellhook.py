"""The shell hooks: only subcommands that change an environment go through ``shimgen run``."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from shimgen.shellhook import changes_environment, hook
from tests.helpers.cli import run


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["uv", "pip", "install", "-U", "ruff"], True),
        (["uv", "pip", "uninstall", "ruff"], True),
        (["uv", "pip", "sync", "req.txt"], True),
        (["uv", "sync"], True),
        (["uv", "add", "ruff"], True),
        (["uv", "remove", "ruff"], True),
        (["C:\\Users\\me\\.local\\bin\\uv.exe", "sync"], True),
        (["uv", "--version"], False),
        (["uv", "pip", "list"], False),
        (["uv", "run", "pytest"], False),
        (["pip", "install", "x"], True),
        (["pip3", "uninstall", "-y", "x"], True),
        (["pip", "list"], False),
        (["pip"], False),
        ([], False),
    ],
)
def test_which_subcommands_change_an_environment(argv: list[str], expected: bool) -> None:
    assert changes_environment(argv) is expected


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is part of every CI image here")
def test_the_bash_hook_routes_installs_through_shimgen(tmp_path: Path) -> None:
    """Stand-in uv, pip and shimgen on PATH log how they were called; the hook picks between them."""
    log = tmp_path / "log"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("uv", "pip", "shimgen"):
        stand_in = bin_dir / name
        stand_in.write_text(f'#!/bin/sh\necho "{name} $*" >> "{log}"\n')
        stand_in.chmod(0o755)
    script = f"""eval "$(cat {tmp_path / "hook.sh"})"
uv --version
uv pip install -U ruff
uv pip list
uv sync --frozen
pip list
pip install 'a b'
"""
    (tmp_path / "hook.sh").write_text(hook("bash"))
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run(["bash", "-c", script], env=env, check=True, timeout=60)
    assert log.read_text().splitlines() == [
        "uv --version",
        "shimgen run -- uv pip install -U ruff",
        "uv pip list",
        "shimgen run -- uv sync --frozen",
        "pip list",
        "shimgen run -- pip install a b",
    ]


def test_every_shell_gets_a_hook() -> None:
    assert "function uv {" in hook("powershell") and "$args[0] -eq 'pip'" in hook("powershell")
    assert hook("cmd").splitlines()[0] == "doskey uv=shimgen run --only-installs -- uv $*"
    code, out, _ = run("shell-hook", "zsh")
    assert code == 0 and out == hook("zsh")
    assert run("shell-hook", "fish")[0] == 2
