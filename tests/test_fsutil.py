"""The files shimgen writes get the modes pip gives its own."""

from __future__ import annotations

import os
from pathlib import Path

from shimgen.scripts import DISPATCHER
from tests.helpers.cli import run
from tests.helpers.wheels import (
    tooly_wheel,
)


def test_installed_files_get_the_modes_pip_gives_them(tmp_path: Path, venv: Path) -> None:
    """0o666 or 0o777 less the umask, as pip and installer create files; a private 0o600 would
    hide the library from the environment's other users (an image built as root, run as a user)."""
    wheel = tooly_wheel(tmp_path / "w", "1.0", native=b"#!python\nprint('native')\n")
    old_umask = os.umask(0o022)
    try:
        code, _, err = run("install", "--prefix", str(venv), str(wheel))
    finally:
        os.umask(old_umask)
    assert code == 0, err
    site = next((venv / "lib").glob("python3.*/site-packages"))
    store = venv / ".shimgen"
    modes = {
        path: path.stat().st_mode & 0o777
        for path in [*site.rglob("*"), *store.rglob("*")]
        if path.is_file() and not path.is_symlink() and path.name != "lock"
    }
    entry = next((store / "store" / "tooly").iterdir())
    executables = {p for p in modes if p.parent == entry and p.name != ".shimgen-entry.json"}
    assert {p.name for p in executables} == {DISPATCHER, "tooly-native"}  # one script for the entry points
    assert {modes[p] for p in executables} == {0o755}
    assert {mode for path, mode in modes.items() if path not in executables} == {0o644}
