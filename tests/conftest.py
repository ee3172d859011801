"""The native tests' fixtures; what they share besides fixtures is in tests/helpers/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.sandbox import Sandbox


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
