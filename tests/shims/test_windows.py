"""Windows shims: the plain stub, never rewritten in place; a new stub is renamed over the name."""

from __future__ import annotations

import os
from pathlib import Path

from shimgen import stub_bytes
from shimgen.store import native_entry
from tests.helpers.sandbox import Sandbox


def test_windows_launcher_is_the_plain_stub_and_never_rewritten(tmp_path: Path) -> None:
    box = Sandbox(tmp_path, "windows")
    box.prefix.mkdir()
    box.publish("tool", "1.0")
    launcher = box.shim("tool")
    assert launcher.read_bytes() == stub_bytes("x64")
    before = os.stat(launcher)
    box.publish("tool", "2.0")
    box.store().rollback("tool")
    after = os.stat(launcher)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert box.runs("tool") == "1.0"


def test_gui_program_gets_the_gui_launcher_swapped_in_by_rename(tmp_path: Path) -> None:
    box = Sandbox(tmp_path, "windows")
    box.prefix.mkdir()
    box.publish("tool", "1.0")
    store = box.store()
    launcher = box.shim("tool")
    old = launcher.stat()
    # Version 2 is a GUI program: its launcher must be the GUI stub.
    program = box.program("tool", "2.0", gui=True)
    files, commands = native_entry([program], layout=store.planned_layout())
    assert commands[0].gui
    store.publish("tool", "2.0", files, commands)
    assert launcher.read_bytes() == stub_bytes("x64", gui=True)
    assert launcher.stat().st_ino != old.st_ino  # a new file renamed over the name, not rewritten
