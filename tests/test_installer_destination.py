"""pypa/installer driving shimgen's destination, into a POSIX venv and a Windows environment."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from shimgen import stub_bytes
from shimgen.errors import ShimgenError
from shimgen.store import Store
from tests.helpers.cli import pip, run
from tests.helpers.environments import snapshot
from tests.helpers.wheels import (
    TOOL_POINTS,
    assert_record_is_true,
    build_wheel,
    tool_wheel,
    tooly_wheel,
)


def install_with_pypa_installer(prefix: Path, wheel: Path, platform: str | None = None):  # type: ignore[no-untyped-def]
    from installer import install
    from installer.sources import WheelFile

    from shimgen.installer_destination import ShimgenDestination

    with (
        WheelFile.open(wheel) as source,
        ShimgenDestination(prefix, source.distribution, platform=platform) as dest,
    ):
        install(source, dest, {"INSTALLER": b"installer\n"})
    return dest.result


def test_pypa_installer_destination(tmp_path: Path, venv: Path) -> None:
    native = b"#!python\nprint('native script')\n"
    result = install_with_pypa_installer(venv, tooly_wheel(tmp_path / "w1", "1.0", native=native))
    assert result is not None and sorted(result.commands) == ["tooly", "tooly-gui", "tooly-native"]
    tooly = venv / "bin" / "tooly"
    assert subprocess.run([tooly], capture_output=True, text=True, check=True).stdout == "tooly 1.0\n"
    install_with_pypa_installer(venv, tooly_wheel(tmp_path / "w2", "2.0", native=native))
    assert subprocess.run([tooly], capture_output=True, text=True, check=True).stdout == "tooly 2.0\n"
    site = next((venv / "lib").glob("python3.*/site-packages"))
    dist_info = site / "tooly-2.0.dist-info"
    assert (dist_info / "INSTALLER").read_text() == "shimgen\n" and not (
        site / "tooly-1.0.dist-info"
    ).exists()
    assert_record_is_true(dist_info)
    assert pip(venv, "uninstall", "-y", "tooly").returncode == 0 and not os.path.lexists(tooly)


def test_pypa_installer_destination_for_windows(tmp_path: Path) -> None:
    prefix = tmp_path / "win env"
    prefix.mkdir()
    wheel = tooly_wheel(tmp_path / "w", "1.0", native=stub_bytes("x64") + b"native")
    install_with_pypa_installer(prefix, wheel, platform="win_amd64")
    assert (prefix / "Scripts" / "tooly.exe").read_bytes() == stub_bytes("x64")
    assert "script=.shimgen/store/tooly/1.0-" in (prefix / ".shimgen" / "links" / "tooly").read_text()
    assert Store(prefix).layout().arch.value == "x64"


def test_the_installer_destination_writes_no_library_file_when_a_command_is_taken(
    tmp_path: Path, venv: Path
) -> None:
    from installer import install
    from installer.sources import WheelFile as InstallerWheel

    from shimgen.installer_destination import ShimgenDestination

    code, _, err = run("install", "--prefix", venv, tool_wheel(tmp_path / "1", "1.0"))
    assert code == 0, err
    evil = build_wheel(tmp_path, "evil", "1.0", {"evil/__init__.py": b""}, entry_points=TOOL_POINTS)
    before = snapshot(venv)
    with (
        InstallerWheel.open(evil) as source,
        pytest.raises(ShimgenError, match="belongs to tool"),
        ShimgenDestination(venv, source.distribution) as destination,
    ):
        install(source, destination, {})
    assert snapshot(venv) == before
