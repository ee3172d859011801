"""Build-time generation of launchers from entry points (API and CLI), for any Windows architecture."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from shimgen import EntryPoint, ShimgenError, generate_launchers, identify, stub_bytes
from shimgen.cli import main
from tests.helpers.cli import run
from tests.helpers.wheels import build_wheel


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


def test_cli_generate_from_every_source(tmp_path: Path) -> None:
    sources = {
        "wheel": build_wheel(
            tmp_path, "tool", "1.0", entry_points="[console_scripts]\na = m:f\n[gui_scripts]\nb = m:g\n"
        ),
        "pyproject": tmp_path / "pyproject.toml",
        "entry_points": tmp_path / "entry_points.txt",
    }
    sources["pyproject"].write_text(
        '[project]\nname = "t"\nscripts = {a = "m:f"}\ngui-scripts = {b = "m:g"}\n'
    )
    sources["entry_points"].write_text("[console_scripts]\na = m:f\n[gui_scripts]\nb = m:g\n")
    for kind, source in sources.items():
        out = tmp_path / f"out-{kind}"
        out.mkdir()
        code, stdout, stderr = run("generate", "--from", str(source), "--arch", "arm64", "--out", str(out))
        assert code == 0, stderr
        assert stdout == f"wrote {out / 'a.exe'} (arm64)\nwrote {out / 'b.exe'} (arm64)\n"
        assert (out / "a.exe").read_bytes() == stub_bytes("arm64")
        assert (out / "b.exe").read_bytes() == stub_bytes("arm64", gui=True)


def test_cli_generate_usage_errors(tmp_path: Path) -> None:
    assert run("generate", "--arch", "x64", "--out", str(tmp_path))[0] == 2
    code, _, err = run("generate", "x", "--from", "y", "--arch", "x64", "--out", str(tmp_path))
    assert code == 2 and "either NAME or --from" in err
    code, _, err = run(
        "generate", "--from", str(tmp_path / "nothing.txt"), "--arch", "x64", "--out", str(tmp_path)
    )
    assert code == 1 and "no such file" in err
    empty = tmp_path / "entry_points.txt"
    empty.write_text("[other]\nx = m:f\n")
    code, out, _ = run("generate", "--from", str(empty), "--arch", "x64", "--out", str(tmp_path))
    assert code == 0 and "nothing written" in out


def test_out_of_the_wrong_kind_says_so(tmp_path: Path) -> None:
    """A folder where a file is wanted failed with a rename error and a hint about permissions; a
    file where a folder is wanted said the output folder does not exist."""

    folder = tmp_path / "out"
    folder.mkdir()
    result = CliRunner().invoke(main, ["generate", "tool", "--arch", "x64", "--out", str(folder)])
    assert result.exit_code == 1 and "--out is a folder, and the launcher is a file" in result.stderr
    assert f"--out {folder / 'tool'}.exe" in result.stderr and list(folder.iterdir()) == []
    source = tmp_path / "entry_points.txt"
    source.write_text("[console_scripts]\ntool = m:f\n")
    afile = tmp_path / "a file"
    afile.write_text("x")
    result = CliRunner().invoke(
        main, ["generate", "--from", str(source), "--arch", "x64", "--out", str(afile)]
    )
    assert result.exit_code == 1 and "--out is a file, and with --from it is the folder" in result.stderr
