"""A Windows layout's scripts that are not programs: beside the programs in the store entry, or in
Scripts as pip puts them; never lost (a wheel with no command once lost them), never over a file
that is not the distribution's."""

from __future__ import annotations

from pathlib import Path

from shimgen import stub_bytes
from shimgen.doctor import PROBLEM, doctor
from shimgen.store import Store
from tests.helpers.cli import run
from tests.helpers.wheels import assert_record_follows_rule, build_wheel, record_hash, record_rows

BAT = b"@echo off\r\necho tool\r\n"
HELPER = b"#!python\nprint('helper')\n"


def _prefix(tmp_path: Path) -> Path:
    prefix = tmp_path / "win env"
    (prefix / "Scripts").mkdir(parents=True)
    return prefix


def _install(prefix: Path, wheel: Path) -> tuple[int, str, str]:
    return run("install", "--prefix", str(prefix), "--platform", "win_amd64", str(wheel))


def _wheel(folder: Path, version: str, scripts: dict[str, bytes], entry_points: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    files = {"tool/__init__.py": b"def main(): pass\n"}
    files.update({f"tool-{version}.data/scripts/{name}": data for name, data in scripts.items()})
    return build_wheel(folder, "tool", version, files, entry_points=entry_points)


def test_scripts_of_a_wheel_without_programs_go_to_scripts_as_pip_puts_them(tmp_path: Path) -> None:
    prefix = _prefix(tmp_path)
    code, out, err = _install(prefix, _wheel(tmp_path / "w1", "1.0", {"tool.bat": BAT, "helper": HELPER}))
    assert code == 0 and out == "installed tool 1.0\n", err
    scripts = prefix / "Scripts"
    assert (scripts / "tool.bat").read_bytes() == BAT and (scripts / "helper").read_bytes() == HELPER
    info = prefix / "Lib" / "site-packages" / "tool-1.0.dist-info"
    rows = record_rows(info)
    assert rows["../../Scripts/tool.bat"][1] == record_hash(BAT)
    assert rows["../../Scripts/helper"][1] == record_hash(HELPER)
    assert_record_follows_rule(info)
    assert [f for f in doctor(Store(prefix)) if f.severity == PROBLEM] == []

    # An upgrade replaces the distribution's own files and removes what the new version has not.
    code, out, err = _install(prefix, _wheel(tmp_path / "w2", "2.0", {"tool.bat": BAT + b"rem 2\r\n"}))
    assert code == 0, err
    assert (scripts / "tool.bat").read_bytes().endswith(b"rem 2\r\n") and not (scripts / "helper").exists()
    code, out, err = run("uninstall", "--prefix", str(prefix), "tool")
    assert code == 0 and not (scripts / "tool.bat").exists(), err


def test_beside_entry_points_they_go_to_scripts_too(tmp_path: Path) -> None:
    prefix = _prefix(tmp_path)
    wheel = _wheel(
        tmp_path / "w", "1.0", {"tool.bat": BAT}, entry_points="[console_scripts]\ntool-py = tool:main\n"
    )
    code, out, err = _install(prefix, wheel)
    assert code == 0 and out == "installed tool 1.0; commands: tool-py\n", err
    assert (prefix / "Scripts" / "tool.bat").read_bytes() == BAT
    assert (prefix / "Scripts" / "tool-py.exe").read_bytes() == stub_bytes("x64")


def test_beside_a_program_they_stay_in_its_store_entry(tmp_path: Path) -> None:
    """A program finds its DLLs and data in its own folder, which is the store entry."""
    prefix = _prefix(tmp_path)
    program = stub_bytes("x64") + b"a program"
    wheel = _wheel(tmp_path / "w", "1.0", {"prog.exe": program, "prog.dll": b"MZ a library", "prog.bat": BAT})
    code, out, err = _install(prefix, wheel)
    assert code == 0 and out == "installed tool 1.0; commands: prog\n", err
    assert sorted(p.name for p in (prefix / "Scripts").iterdir()) == ["prog.exe"]
    (entry,) = (prefix / ".shimgen" / "store" / "tool").iterdir()
    assert (entry / "prog.dll").read_bytes() == b"MZ a library" and (entry / "prog.bat").read_bytes() == BAT


def test_a_script_never_replaces_the_environments_files_or_another_distributions(tmp_path: Path) -> None:
    prefix = _prefix(tmp_path)
    code, _, err = _install(prefix, _wheel(tmp_path / "w1", "1.0", {"activate.bat": b"@echo hijacked\r\n"}))
    assert code == 1 and "would replace the environment's own activate.bat" in err, err
    assert not (prefix / "Scripts" / "activate.bat").exists()
    assert not (prefix / "Lib" / "site-packages" / "tool").exists()  # refused before anything was written

    mine = prefix / "Scripts" / "tool.bat"
    mine.write_bytes(b"@echo someone else's\r\n")
    code, _, err = _install(prefix, _wheel(tmp_path / "w2", "1.0", {"tool.bat": BAT}))
    assert code == 1 and "would replace a file tool did not install" in err and str(mine) in err, err
    assert mine.read_bytes() == b"@echo someone else's\r\n"
    assert not (prefix / "Lib" / "site-packages" / "tool").exists()
