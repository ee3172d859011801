"""Entry-point scripts: the environment's path in their /bin/sh line is only ever a name."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.helpers.cli import run
from tests.helpers.environments import snapshot
from tests.helpers.wheels import (
    build_wheel,
    tool_wheel,
)


def test_a_prefix_that_looks_like_shell_code_is_only_a_name(tmp_path: Path) -> None:
    """The /bin/sh line of an entry-point script quotes the path: sh must expand nothing in it."""
    marker = tmp_path / "PWNED"
    prefix = tmp_path / f"my env $(touch {marker})"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", prefix], check=True)
    code, _, err = run("install", "--prefix", prefix, tool_wheel(tmp_path / "1", "1.0"))
    assert code == 0, err
    result = subprocess.run([prefix / "bin" / "tool"], capture_output=True, text=True)
    assert (result.returncode, result.stdout) == (0, "tool 1.0\n"), result.stderr
    assert not marker.exists()


def test_a_prefix_with_a_quote_runs_and_one_with_a_backslash_is_refused_early(tmp_path: Path) -> None:
    quoted = tmp_path / "Bob's env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", quoted], check=True)
    assert run("install", "--prefix", quoted, tool_wheel(tmp_path / "1", "1.0"))[0] == 0
    result = subprocess.run([quoted / "bin" / "tool"], capture_output=True, text=True)
    assert (result.returncode, result.stdout) == (0, "tool 1.0\n"), result.stderr

    backslash = tmp_path / "back\\slash env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", backslash], check=True)
    before = snapshot(backslash)
    code, _, err = run("install", "--prefix", backslash, tool_wheel(tmp_path / "1", "1.0"))
    assert code == 1 and "cannot name safely" in err
    assert snapshot(backslash) == before
    # A wheel without commands needs no entry-point script, so no such line: it installs.
    code, _, err = run(
        "install", "--prefix", backslash, build_wheel(tmp_path, "six", "1.16.0", {"six.py": b""})
    )
    assert code == 0, err
