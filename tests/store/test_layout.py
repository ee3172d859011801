"""The layout: fixed at first use, the architecture a Windows one needs, the programs it can run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shimgen import ShimgenError
from shimgen.store import Store, native_entry
from tests.helpers.sandbox import Sandbox


def test_non_pe_and_wrong_architecture_programs_are_refused(tmp_path: Path) -> None:
    box = Sandbox(tmp_path, "windows")
    box.prefix.mkdir()
    store = box.store()
    script = tmp_path / "tool.exe"
    script.write_text("#!/bin/sh\necho not a Windows program\n")
    arm = box.program("arm", "1.0", arch="arm64")
    old = box.program("old", "1.0", arch="x86")
    before = box.snapshot()
    layout = store.planned_layout("windows", "x64")
    for program, message in ((script, "not a Windows program"), (arm, "built for arm64, which an x64")):
        files, commands = native_entry([program], layout=layout)
        with pytest.raises(ShimgenError, match=message) as error:
            store.publish("tool", "1.0", files, commands, kind="windows", arch="x64")
        assert str(program) in str(error.value)
    assert box.snapshot() == before
    files, commands = native_entry([old], layout=layout)  # x86 runs on x64
    store.publish("old", "1.0", files, commands, kind="windows", arch="x64")


def test_layout_is_fixed_at_first_use(tmp_path: Path) -> None:
    box = Sandbox(tmp_path, "posix")
    box.prefix.mkdir()
    box.publish("tool", "1.0")
    with pytest.raises(ShimgenError, match="already set up as posix"):
        box.store().planned_layout("windows", "x64")
    config = json.loads((box.prefix / ".shimgen" / "config.json").read_text())
    assert config == {"format": 1, "layout": "posix", "arch": None}


def test_windows_layout_from_another_os_needs_an_architecture(tmp_path: Path) -> None:
    (tmp_path / "Scripts").mkdir()
    with pytest.raises(ShimgenError, match="--arch"):
        Store(tmp_path).planned_layout()
    assert Store(tmp_path).planned_layout(arch="x86").kind == "windows"
