"""Uninstalling (shimgen's or pip's), and RECORD kept true by ``remove``; no rollback that would leave
the library files behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers.cli import pip, run
from tests.helpers.environments import site_of, snapshot
from tests.helpers.wheels import (
    TOOL_POINTS,
    assert_record_is_true,
    build_wheel,
    tool_wheel,
    tooly_wheel,
)


def test_shimgen_uninstall(tmp_path: Path, venv: Path) -> None:
    run("install", "--prefix", str(venv), str(tooly_wheel(tmp_path / "w", "1.0")))
    code, out, err = run("uninstall", "--prefix", str(venv), "Tooly")
    assert code == 0 and out == "uninstalled tooly 1.0\n", err
    assert not os.path.lexists(venv / "bin" / "tooly")
    assert not list((venv / "lib").glob("python3.*/site-packages/tooly*"))
    code, _, err = run("uninstall", "--prefix", str(venv), "tooly")
    assert code == 1 and "tooly is not installed" in err


def test_uninstall_and_pip_leave_a_command_another_distribution_took_since(
    tmp_path: Path, venv: Path
) -> None:
    """tool's commands are removed, evil takes the name 'tool'; uninstalling tool (with shimgen
    or pip) must not delete evil's launcher or link record, which tool's RECORD once listed."""
    evil = build_wheel(tmp_path, "evil", "1.0", {"evil/__init__.py": b"def main(): print('evil')\n"},
                       entry_points=TOOL_POINTS.replace("tool:main", "evil:main"))  # fmt: skip
    for uninstaller in ("shimgen", "pip"):
        prefix = tmp_path / uninstaller
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", prefix], check=True)
        assert run("install", "--prefix", prefix, tool_wheel(tmp_path / "1", "1.0"))[0] == 0
        code, out, err = run("remove", "--prefix", prefix, "tool")
        assert code == 0 and out == "removed tool; commands: tool\n", err
        rows = assert_record_is_true(site_of(prefix) / "tool-1.0.dist-info")
        assert not [row for row in rows if row.startswith(("../../../.shimgen/", "../../../bin/"))]
        assert run("install", "--prefix", prefix, evil)[0] == 0
        if uninstaller == "shimgen":
            code, _, err = run("uninstall", "--prefix", prefix, "tool")
            assert code == 0, err
        else:
            assert pip(prefix, "uninstall", "-y", "tool").returncode == 0
            # pip deletes bin/<name> for each console_scripts entry point whatever RECORD says
            # (as it would a plain pip install's): evil's symlink. evil's state still names the
            # command, so doctor writes it again.
            assert not os.path.lexists(prefix / "bin" / "tool")
            code, out, _ = run("doctor", "--prefix", prefix)
            assert code == 3 and "shim of tool (evil) is missing" in out, out
            assert run("doctor", "--fix", "--prefix", prefix)[0] == 0
        assert not list(site_of(prefix).glob("tool*"))
        result = subprocess.run([prefix / "bin" / "tool"], capture_output=True, text=True, check=True)
        assert result.stdout == "evil\n"
        assert run("doctor", "--prefix", prefix)[0] == 0


def test_uninstall_without_a_record_removes_nothing_and_says_why(tmp_path: Path, venv: Path) -> None:
    assert run("install", "--prefix", venv, tool_wheel(tmp_path / "1", "1.0"))[0] == 0
    (site_of(venv) / "tool-1.0.dist-info" / "RECORD").unlink()
    before = snapshot(venv)
    code, _, err = run("uninstall", "--prefix", venv, "tool")
    assert code == 1 and "has no RECORD, so its files are unknown; nothing was removed" in err
    assert snapshot(venv) == before


def test_rollback_of_a_wheel_installed_distribution_is_refused(tmp_path: Path, venv: Path) -> None:
    """It switched the entry-point scripts only: 'rolled back to 1.0' while 2.0's code ran."""
    for version in ("1.0", "2.0"):
        assert run("install", "--prefix", venv, tool_wheel(tmp_path / version, version))[0] == 0
    before = snapshot(venv)
    for extra in ((), ("--to", "1.0")):
        code, _, err = run("rollback", "--prefix", venv, "tool", *extra)
        assert code == 1 and "would leave its library files at 2.0" in err
        assert "install the tool 1.0 wheel instead" in err
    assert snapshot(venv) == before
    code, out, err = run("install", "--prefix", venv, tool_wheel(tmp_path / "1.0", "1.0"))
    assert code == 0 and out.startswith("installed tool 1.0 (was 2.0)"), err
    result = subprocess.run([venv / "bin" / "tool"], capture_output=True, text=True, check=True)
    assert result.stdout == "tool 1.0\n"


def test_remove_keeps_the_other_record_rows_as_they_are(tmp_path: Path, venv: Path) -> None:
    """It re-hashed every file of the dist: a library file lost since made it fail after its
    commit point, with RECORD still naming the removed launcher."""
    assert run("install", "--prefix", venv, tool_wheel(tmp_path / "1", "1.0"))[0] == 0
    (site_of(venv) / "tool" / "__init__.py").unlink()
    record = site_of(venv) / "tool-1.0.dist-info" / "RECORD"
    kept = [line for line in record.read_text().splitlines() if not line.startswith("../../../")]
    code, _, err = run("remove", "--prefix", venv, "tool")
    assert code == 0, err
    assert record.read_text().splitlines() == kept  # the lost file's row included, hash and all
