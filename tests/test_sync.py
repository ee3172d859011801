"""sync and doctor --fix against the states pip and uv leave, natively in both layouts.

Each state is made the way an installer makes it (deleting what a RECORD lists, in its order),
then ``doctor`` must name it, ``doctor --fix`` or ``sync`` must repair it without removing a
command of a distribution that is still installed, and a second sync must change nothing.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import os
import sys
from pathlib import Path

import pytest

from shimgen.doctor import doctor
from shimgen.install import install_wheel
from shimgen.store import Store
from tests.helpers.cli import run
from tests.helpers.environments import (
    assert_synced_and_clean,
    delete_as_an_installer,
    problems,
    record,
    shims,
    stub_program,
)
from tests.helpers.wheels import assert_record_follows_rule, build_wheel

ENTRY_POINTS = "[console_scripts]\ntool = tool:main\n"


@pytest.fixture(params=["windows", "posix"])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """tool 1.0 (an entry point and a program) installed by shimgen into a prefix of each layout."""
    windows = request.param == "windows"
    prefix = tmp_path / "my env"
    (prefix / ("Scripts" if windows else "bin")).mkdir(parents=True)
    if windows:
        (prefix / "Scripts" / "python.exe").write_bytes(b"MZ stand-in")
    else:
        (prefix / "pyvenv.cfg").write_text("home = /usr/bin\nversion_info = 3.11.7\n")
        (prefix / "bin" / "python").symlink_to(sys.executable)
    program = {
        "tool-1.0.data/scripts/tool-native.exe" if windows else "tool-1.0.data/scripts/tool-native": (
            stub_program() if windows else b"#!/bin/sh\necho native\n"
        )
    }
    wheel = build_wheel(
        tmp_path,
        "tool",
        "1.0",
        {"tool/__init__.py": b"def main(): pass\n", **program},
        entry_points=ENTRY_POINTS,
    )
    install_wheel(Store(prefix), wheel, platform="win_amd64" if windows else None)
    return prefix


def test_hard_linked_launchers_and_record_order(env: Path) -> None:
    names = shims(env)
    assert len(names) == 2
    paths = assert_record_follows_rule(record(env).parent)
    assert [p.rsplit("/", 1)[-1] for p in paths[:2]] == names
    if (env / "Scripts").is_dir():  # one file for both commands of the distribution
        assert os.path.samefile(env / "Scripts" / names[0], env / "Scripts" / names[1])


def test_uninstalled_by_pip_doctor_fix_removes_the_commands_not_restores_them(env: Path) -> None:
    """pip deleted what RECORD lists (the shims first); the store still has the commands."""
    delete_as_an_installer(env, stop_at=None)
    assert shims(env) == []
    assert problems(env) == ["uninstalled"]
    code, out, _ = run("doctor", "--fix", "--prefix", env)
    assert code == 0 and "fixed: .shimgen/dists/tool.json: tool is no longer installed" in out, out
    assert shims(env) == [] and list((env / ".shimgen" / "links").iterdir()) == []


def test_lost_dist_state_is_rebuilt_not_its_commands_removed(env: Path) -> None:
    (env / ".shimgen" / "dists" / "tool.json").unlink()
    assert problems(env) == ["installed-version"]
    code, out, _ = run("doctor", "--fix", "--prefix", env)
    assert code == 0 and "fixed:" in out and "has no dist state" in out, out
    assert len(shims(env)) == 2
    assert_synced_and_clean(env)


def test_the_legacy_uv_failure_is_repaired_by_sync(env: Path) -> None:
    """The state the issue reported: an older shimgen's RECORD listed .shimgen/; uv deleted the dist
    state, the link records and the entry's manifest and script, then stopped at the running
    program. sync rebuilds the entry (the script from entry_points.txt, the program from the store,
    its bytes checked against that RECORD) and rewrites the RECORD by the rule."""
    _make_record_legacy(env)
    native = "tool-native.exe" if (env / "Scripts").is_dir() else "tool-native"
    delete_as_an_installer(env, stop_at=native)
    assert not (env / ".shimgen" / "dists" / "tool.json").exists()
    assert not any((env / ".shimgen" / "links").iterdir())
    assert problems(env)  # named, whatever the store-level view adds
    code, out, err = run("sync", "--prefix", env)
    assert code == 0, (out, err)
    assert "repaired tool: 1.0 entry rebuilt for tool, tool-native" in out
    assert len(shims(env)) == 2
    assert_synced_and_clean(env)


def test_a_version_without_commands_loses_the_old_ones(env: Path, tmp_path: Path) -> None:
    """uv upgraded tool to 2.0, which has no commands: its old launchers were deleted with 1.0."""
    delete_as_an_installer(env, stop_at=None)
    site = next(env.glob("**/site-packages"))
    info = site / "tool-2.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tool\nVersion: 2.0\n")
    (info / "RECORD").write_text("tool-2.0.dist-info/METADATA,,\ntool-2.0.dist-info/RECORD,,\n")
    code, out, _ = run("sync", "--prefix", env)
    assert code == 0 and "repaired tool: 2.0 has no commands: removed tool, tool-native" in out, out
    assert shims(env) == [] and problems(env) == []


def _make_record_legacy(prefix: Path) -> None:
    """Add what an older shimgen's RECORD listed: every file of .shimgen/ for this dist, hashed."""
    path = record(prefix)
    lib = path.parent.parent
    rows = list(csv.reader(path.read_text().splitlines()))
    for file in sorted((prefix / ".shimgen").rglob("*")):
        if file.is_file() and file.relative_to(prefix).parts[1] in ("dists", "links", "store"):
            data = file.read_bytes()
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            rows.insert(0, [os.path.relpath(file, lib), f"sha256={digest}", str(len(data))])
    rows.sort(key=lambda row: row[0])  # as uv and pip write RECORD: sorted, so ../../.shimgen/ first
    path.write_text("".join(",".join(row) + "\n" for row in rows))


def test_doctor_names_a_second_dist_info(env: Path) -> None:
    site = next(env.glob("**/site-packages"))
    second = site / "tool-0.9.dist-info"
    second.mkdir()
    (second / "METADATA").write_text("Metadata-Version: 2.1\nName: tool\nVersion: 0.9\n")
    findings = [f for f in doctor(Store(env)) if f.kind == "two-dist-infos"]
    assert len(findings) == 1 and findings[0].fix is None
    assert (
        findings[0].message
        == "tool has more than one .dist-info: tool-0.9.dist-info (no RECORD), tool-1.0.dist-info"
    )


def test_posix_doctor_names_a_missing_interpreter(env: Path) -> None:
    if (env / "Scripts").is_dir():
        return  # Windows: the store-level check looks at Scripts/python.exe (tests/test_doctor.py)
    (env / "bin" / "python").unlink()
    findings = [f for f in doctor(Store(env)) if f.kind == "missing-interpreter"]
    assert (
        len(findings) == 1 and "Python commands of 1 distribution(s) cannot run (tool)" in findings[0].message
    )


def test_a_config_that_contradicts_the_environment_is_repaired_by_what_it_shows(env: Path) -> None:
    """A POSIX environment whose config.json says windows: doctor --fix wrote Scripts\\*.exe beside the
    stale bin/ symlinks and reported 0 remaining."""
    if (env / "Scripts").is_dir():
        return  # the other way round is the same code; this is the reported case
    config = env / ".shimgen" / "config.json"
    config.write_text('{"format": 1, "layout": "windows", "arch": "x64"}\n')
    assert problems(env) == ["config"]
    code, out, _ = run("doctor", "--fix", "--prefix", env)
    assert code == 0 and "config.json says windows, but the shims and the interpreter show a posix" in out, (
        out
    )
    assert '"layout": "posix"' in config.read_text() and not (env / "Scripts").exists()
    assert problems(env) == [] and shims(env) == ["tool", "tool-native"]


def test_a_tampered_entry_of_an_installed_dist_says_reinstall_not_rollback(env: Path) -> None:
    """doctor suggested 'shimgen rollback', which refuses a wheel-installed distribution."""
    state = json.loads((env / ".shimgen" / "dists" / "tool.json").read_text())
    entry = env / ".shimgen" / "store" / "tool" / state["generations"][0]
    script = next(p for p in entry.iterdir() if p.name.startswith("tool") and "native" not in p.name)
    data = script.read_bytes()
    script.write_bytes(data[:-1] + (b"!" if data[-1:] != b"!" else b"?"))  # same size: only a hash tells
    (finding,) = [f for f in doctor(Store(env)) if f.kind == "damaged-entry"]
    assert "install the same wheel again" in finding.hint and "rollback" not in finding.hint


def test_an_empty_dist_info_an_installer_left_is_named_and_removed(env: Path) -> None:
    """uv killed right after making tool-2.0.dist-info: an empty folder, taken for an install."""
    delete_as_an_installer(env, stop_at=None)
    empty = next(env.glob("**/site-packages")) / "tool-2.0.dist-info"
    empty.mkdir()
    assert problems(env) == ["empty-dist-info", "uninstalled"]
    code, out, _ = run("sync", "--prefix", env)
    assert code == 0 and "removed an empty .dist-info folder an installer left: tool-2.0.dist-info" in out
    assert "removed tool (no longer installed)" in out and not empty.exists() and problems(env) == []
