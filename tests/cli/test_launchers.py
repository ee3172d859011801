"""``generate`` and ``inspect`` on the command line: launchers made for any architecture from any
source, usage errors, and what ``inspect`` prints of a launcher's bytes. What ``inspect`` reports
is tested in tests/test_inspection.py.
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from shimgen.cli import main
from shimgen.launcher import stub_bytes
from tests.helpers.cli import run
from tests.helpers.foreign import DISTLIB, zipped_main
from tests.helpers.wheels import build_wheel


def test_generate_standard_and_configured(tmp_path: Path) -> None:
    out = tmp_path / "ruff.exe"
    code, stdout, _ = run("generate", "ruff", "--arch", "x64", "--out", str(out))
    assert code == 0 and "standard layout" in stdout
    assert out.read_bytes() == stub_bytes("x64")
    code, stdout, _ = run("generate", "tool", "--arch", "arm64", "--gui", "--out", str(tmp_path / "t.exe"))
    assert code == 0 and "config section" in stdout


def test_errors_and_usage(tmp_path: Path) -> None:
    code, _, stderr = run("generate", "x", "--arch", "x64", "--out", str(tmp_path / "missing" / "x.exe"))
    assert code == 1 and "--out's folder does not exist" in stderr and "hint:" in stderr
    code, _, stderr = run("generate", "../x", "--arch", "x64", "--out", str(tmp_path / "x.exe"))
    assert code == 1 and "invalid command name" in stderr
    code, _, _ = run("generate", "x", "--arch", "mips", "--out", str(tmp_path / "x.exe"))
    assert code == 2


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


def test_control_characters_from_a_launcher_do_not_reach_the_terminal(tmp_path: Path) -> None:
    path = "C:\\v\\\x1b[31mred\x07\\python.exe"
    launcher = tmp_path / "ansi.exe"
    launcher.write_bytes(
        (DISTLIB / "t64.exe").read_bytes()
        + f"#!{path}\n".encode()
        + zipped_main(b"from black import main\nsys.exit(main())\n")
    )
    code, out, _ = run("inspect", launcher)
    assert code == 0 and "\x1b" not in out and "\x07" not in out
    assert "\\x1b[31mred\\x07" in out
