"""shimgen's command line as the tests run it: in this process, or as a process of its own; and pip."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from shimgen.cli import main
from tests.helpers.sandbox import Sandbox


def run(*args: str | Path, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """``shimgen ARGS`` in this process: its exit code, stdout and stderr."""
    result = CliRunner().invoke(main, [str(a) for a in args], env=env)
    return result.exit_code, result.stdout, result.stderr


def link(box: Sandbox, version: str, *names: str, extra: tuple[str, ...] = ()) -> tuple[int, str, str]:
    """``shimgen link`` of programs named ``names`` (default: ``tool``) as dist ``tool`` ``version``."""
    programs = [str(box.program(n, version)) for n in names or ("tool",)]
    platform = ["--platform", box.layout] + (["--arch", "x64"] if box.windows else [])
    return run("link", "--prefix", str(box.prefix), *platform, *extra, "tool", version, *programs)


def shimgen_run(venv: Path, *command: str | Path) -> subprocess.CompletedProcess[str]:
    """``shimgen run --prefix VENV -- COMMAND`` as its own process (it exits with the installer's status)."""
    return subprocess.run(
        [sys.executable, "-m", "shimgen", "run", "--prefix", str(venv), "--", *map(str, command)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "UV_CACHE_DIR": str(venv.parent / "uv-cache"), "UV_NO_CONFIG": "1"},
    )


def pip(venv: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """The test runner's pip, working on ``venv`` (``--python``): it reads what shimgen wrote."""
    python = venv / "bin" / "python"
    command = [sys.executable, "-m", "pip", "--python", python, "--disable-pip-version-check", *args]
    return subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=300)
