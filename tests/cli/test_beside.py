"""``shimgen run``: its exit status is the installer's; with --only-installs, anything else runs
directly, without an environment."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.helpers.cli import shimgen_run


def test_only_installs_runs_anything_else_directly_without_an_environment(tmp_path: Path) -> None:
    """cmd's doskey sends every call through; a non-installing one needs no environment, no lock."""
    true = shutil.which("true")
    assert true is not None
    result = subprocess.run(
        [sys.executable, "-m", "shimgen", "run", "--only-installs", "--prefix", str(tmp_path), "--", true],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PATH": os.environ["PATH"]},
    )
    assert result.returncode == 0 and result.stderr == "" and not (tmp_path / ".shimgen").exists()


def test_run_exit_status_is_the_installers_and_no_command_is_a_usage_error(venv: Path) -> None:
    false = shutil.which("false")
    assert false is not None
    assert shimgen_run(venv, false).returncode == 1
    assert shimgen_run(venv, sys.executable, "-c", "import sys; sys.exit(7)").returncode == 7
    result = shimgen_run(venv, "no-such-installer-anywhere")
    assert result.returncode == 127 and "command not found: no-such-installer-anywhere" in result.stderr
    result = subprocess.run(
        [sys.executable, "-m", "shimgen", "run", "--prefix", str(venv)], capture_output=True, text=True
    )
    assert result.returncode == 2 and "Missing argument 'COMMAND...'" in result.stderr
