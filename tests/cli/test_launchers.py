from __future__ import annotations

import json
from pathlib import Path

from shimgen.launcher import stub_bytes
from tests.helpers.cli import run


def test_generate_standard_and_configured(tmp_path: Path) -> None:
    out = tmp_path / "ruff.exe"
    code, stdout, _ = run("generate", "ruff", "--arch", "x64", "--out", str(out))
    assert code == 0 and "standard layout" in stdout
    assert out.read_bytes() == stub_bytes("x64")
    code, stdout, _ = run("generate", "tool", "--arch", "arm64", "--gui", "--out", str(tmp_path / "t.exe"))
    assert code == 0 and "config section" in stdout


def test_inspect_json_and_broken_exit_code(tmp_path: Path) -> None:
    scripts = tmp_path / "env" / "Scripts"
    scripts.mkdir(parents=True)
    run("generate", "tool", "--arch", "x86", "--out", str(scripts / "tool.exe"))
    code, stdout, _ = run("inspect", "--json", str(scripts / "tool.exe"))
    assert code == 3
    report = json.loads(stdout)
    assert report["kind"] == "shimgen launcher" and report["arch"] == "x86" and report["standard_stub"]
    assert report["problems"] == [f"link record missing: {tmp_path / 'env/.shimgen/links/tool'}"]
    code, stdout, _ = run("inspect", str(scripts / "tool.exe"))
    assert code == 3 and "link record missing" in stdout


def test_inspect_other_files(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("hi")
    code, stdout, _ = run("inspect", "--json", str(tmp_path / "a.txt"))
    assert code == 0 and json.loads(stdout)["kind"] == "not a Windows executable"


def test_errors_and_usage(tmp_path: Path) -> None:
    code, _, stderr = run("generate", "x", "--arch", "x64", "--out", str(tmp_path / "missing" / "x.exe"))
    assert code == 1 and "--out's folder does not exist" in stderr and "hint:" in stderr
    code, _, stderr = run("generate", "../x", "--arch", "x64", "--out", str(tmp_path / "x.exe"))
    assert code == 1 and "invalid command name" in stderr
    code, _, _ = run("generate", "x", "--arch", "mips", "--out", str(tmp_path / "x.exe"))
    assert code == 2


def test_a_reader_that_goes_away_is_not_an_error_message(tmp_path: Path) -> None:
    """'shimgen inspect X | head -1' printed "error: Broken pipe" and a hint about atomic steps."""
    import subprocess
    import sys

    launcher = tmp_path / "tool.exe"
    launcher.write_bytes(stub_bytes("x64"))
    child = subprocess.Popen(
        [sys.executable, "-m", "shimgen", "inspect", str(launcher)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()  # before the child writes: its write fails with EPIPE
    stderr = child.stderr.read()
    assert child.wait(timeout=60) == 1
    assert stderr == b""
