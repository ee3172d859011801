"""The wheels the CLI is given: every one checked in full before the first is written; progress."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from shimgen.store import Store
from shimgen.wheelfile import WheelFile
from tests.helpers.cli import run
from tests.helpers.environments import snapshot
from tests.helpers.wheels import (
    TOOL_POINTS,
    build_wheel,
    tool_wheel,
    tooly_wheel,
)


def test_a_tampered_wheel_changes_nothing(tmp_path: Path, venv: Path) -> None:
    import zipfile

    wheel = tooly_wheel(tmp_path / "w", "1.0")
    with zipfile.ZipFile(wheel) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["tooly/__init__.py"] = members["tooly/__init__.py"].replace(b"1.0", b"6.6")  # same size
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    before = sorted(p.relative_to(venv).as_posix() for p in venv.rglob("*"))
    code, _, err = run("install", "--prefix", str(venv), str(wheel))
    assert code == 1 and "does not match its RECORD hash" in err and str(wheel) in err
    assert sorted(p.relative_to(venv).as_posix() for p in venv.rglob("*")) == before


def test_every_wheel_is_checked_before_the_first_is_installed(tmp_path: Path, venv: Path) -> None:
    good = tool_wheel(tmp_path / "good", "1.0")
    tampered = build_wheel(tmp_path, "other", "1.0", {"other.py": b"X = 1\n"})
    with zipfile.ZipFile(tampered) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["other.py"] = b"X = 2\n"
    with zipfile.ZipFile(tampered, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    clash = build_wheel(tmp_path, "clash", "1.0", {"clash.py": b""}, entry_points=TOOL_POINTS)
    before = snapshot(venv)
    for wheels, error in (
        ((good, tampered), "does not match its RECORD hash"),
        ((good, tool_wheel(tmp_path / "again", "2.0")), "tool is given twice"),
        ((good, clash), "provide the command 'tool'"),
    ):
        code, out, err = run("install", "--prefix", venv, *wheels)
        assert code == 1 and error in err and out == "", err
        assert snapshot(venv) == before


def test_progress_counts_every_byte_read(tmp_path: Path, venv: Path) -> None:
    """The bar once counted library files only: a wheel that is one big program stayed at 0%."""
    from shimgen.install import install_wheel, progress_total

    program = b"\x7fELF" + os.urandom(1 << 20)
    wheel = tool_wheel(tmp_path / "w", "1.0", {"tool-1.0.data/scripts/big": program})
    counted: list[int] = []
    install_wheel(Store(venv), wheel, progress=counted.append)
    with WheelFile(wheel) as opened:
        assert sum(counted) == progress_total(opened) > 2 * len(program)


def test_commands_differing_in_case_only_do_not_clash_on_posix(tmp_path: Path, venv: Path) -> None:
    upper = build_wheel(
        tmp_path, "upper", "1.0", {"upper.py": b""}, entry_points="[console_scripts]\nFoo = upper:f\n"
    )
    lower = build_wheel(
        tmp_path, "lower", "1.0", {"lower.py": b""}, entry_points="[console_scripts]\nfoo = lower:f\n"
    )
    code, _, err = run("install", "--prefix", venv, upper, lower)
    assert code == 0, err
    assert (venv / "bin" / "Foo").is_symlink() and (venv / "bin" / "foo").is_symlink()
