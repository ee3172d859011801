"""Build-time generation of launchers from entry points (API), for any Windows architecture.

The command line's ``generate``: tests/cli/test_launchers.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from shimgen import EntryPoint, ShimgenError, generate_launchers, identify, stub_bytes


@pytest.mark.parametrize("arch", ["x86", "x64", "arm64"])
def test_generate_launchers_api(tmp_path: Path, arch: str) -> None:
    written = generate_launchers(
        {"tool": "tool.cli:main", "tool-gui": "tool.gui:main"}, tmp_path, arch=arch, gui=["tool-gui"]
    )
    assert written == {"tool": tmp_path / "tool.exe", "tool-gui": tmp_path / "tool-gui.exe"}
    assert written["tool"].read_bytes() == stub_bytes(arch)
    assert written["tool-gui"].read_bytes() == stub_bytes(arch, gui=True)


def test_generate_launchers_refuses_before_writing(tmp_path: Path) -> None:
    points = [EntryPoint("ok", "m", "f"), EntryPoint("OK", "m", "g")]
    with pytest.raises(ShimgenError, match="given twice"):
        generate_launchers(points, tmp_path, arch="x64")
    with pytest.raises(ShimgenError, match="gui names no entry point: nope"):
        generate_launchers({"ok": "m:f"}, tmp_path, arch="x64", gui=["nope"])
    with pytest.raises(ShimgenError, match="output folder does not exist"):
        generate_launchers({"ok": "m:f"}, tmp_path / "missing", arch="x64")
    assert list(tmp_path.iterdir()) == []


def test_generate_launchers_for_another_layout(tmp_path: Path) -> None:
    written = generate_launchers({"tool": "m:f"}, tmp_path, arch="x64", prefix="C:\\tools")
    config = identify(written["tool"].read_bytes()).config
    assert config is not None and config.prefix == "C:\\tools" and config.command is None
