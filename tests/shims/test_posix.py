"""POSIX shims: relative symlinks into the store that run."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.helpers.sandbox import Sandbox


def test_posix_shim_is_a_relative_symlink_that_runs(tmp_path: Path) -> None:
    box = Sandbox(tmp_path, "posix")
    box.prefix.mkdir()
    box.publish("tool", "1.0")
    shim = box.shim("tool")
    assert shim.is_symlink() and not os.readlink(shim).startswith("/")

    assert subprocess.run([shim], capture_output=True, text=True, check=True).stdout == "tool 1.0\n"
    box.publish("tool", "2.0")
    assert subprocess.run([shim], capture_output=True, text=True, check=True).stdout == "tool 2.0\n"
