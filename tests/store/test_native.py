"""What ``shimgen link`` publishes (native_entry): programs, and data files that ride along."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shimgen import ShimgenError
from shimgen.store import native_entry
from tests.helpers.sandbox import Sandbox


def test_data_files_ride_along_without_commands(sandbox: Sandbox, tmp_path: Path) -> None:
    data = tmp_path / "tool.dll"
    data.write_bytes(b"library")
    result = sandbox.publish("tool", "1.0", extras=[data])
    assert (result.entry / "tool.dll").read_bytes() == b"library"
    assert not os.path.lexists(sandbox.shim("tool.dll"))


def test_missing_program_file(sandbox: Sandbox, tmp_path: Path) -> None:
    with pytest.raises(ShimgenError, match="no such file") as error:
        native_entry(
            [tmp_path / "absent"], layout=sandbox.store().planned_layout(sandbox.layout, sandbox.arch)
        )
    assert "absent" in str(error.value)
