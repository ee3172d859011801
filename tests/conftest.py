"""The native tests' fixtures; what they share besides fixtures is in tests/helpers/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from shimgen.install import install_wheel
from shimgen.store import Store
from tests.helpers.environments import stub_program
from tests.helpers.sandbox import Sandbox
from tests.helpers.wheels import TOOL_POINTS, build_wheel


@pytest.fixture(params=["windows", "posix"])
def sandbox(request: pytest.FixtureRequest, tmp_path: Path) -> Sandbox:
    """An empty environment prefix, once in each layout (tests.helpers.sandbox)."""
    box = Sandbox(tmp_path, request.param)
    box.prefix.mkdir()
    return box


@pytest.fixture
def box(sandbox: Sandbox) -> Sandbox:
    """The sandbox, by the name the command-line tests give it."""
    return sandbox


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    """A real POSIX virtual environment (without pip), in a folder whose name has a space."""
    prefix = tmp_path / "my venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(prefix)], check=True)
    return prefix


@pytest.fixture(params=["windows", "posix"])
def installed_env(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """tool 1.0 (an entry point and a program) installed by shimgen into a prefix of each layout."""
    windows = request.param == "windows"
    prefix = tmp_path / "my env"
    (prefix / ("Scripts" if windows else "bin")).mkdir(parents=True)
    if windows:
        (prefix / "Scripts" / "python.exe").write_bytes(b"MZ stand-in")
    else:
        (prefix / "pyvenv.cfg").write_text("home = /usr/bin\nversion_info = 3.11.7\n")
        (prefix / "bin" / "python").symlink_to(sys.executable)
    program = {
        "tool-1.0.data/scripts/tool-native.exe" if windows else "tool-1.0.data/scripts/tool-native": (
            stub_program() if windows else b"#!/bin/sh\necho native\n"
        )
    }
    wheel = build_wheel(
        tmp_path,
        "tool",
        "1.0",
        {"tool/__init__.py": b"def main(): pass\n", **program},
        entry_points=TOOL_POINTS,
    )
    install_wheel(Store(prefix), wheel, platform="win_amd64" if windows else None)
    return prefix
