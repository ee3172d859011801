"""One wheel going into one environment: a real POSIX venv (with pip reading our RECORD), a Windows
environment prepared from Linux; and what a wheel or an environment may not make it do."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from shimgen import stub_bytes
from shimgen.doctor import PROBLEM, doctor
from shimgen.store import Store
from tests.helpers.cli import pip, run
from tests.helpers.environments import site_of, snapshot
from tests.helpers.wheels import (
    assert_record_follows_rule,
    assert_record_is_true,
    build_wheel,
    record_hash,
    record_rows,
    tool_wheel,
    tooly_wheel,
)


def test_posix_venv_install_upgrade_and_pip_uninstall(tmp_path: Path, venv: Path) -> None:
    native = b"#!python\nprint('native script')\n"
    v1 = tooly_wheel(tmp_path / "w1", "1.0", native=native, extra_module=True)
    v2 = tooly_wheel(tmp_path / "w2", "2.0", native=native)
    code, out, err = run("install", "--prefix", str(venv), str(v1))
    assert code == 0, err
    assert out == "installed tooly 1.0; commands: tooly-native, tooly, tooly-gui\n"
    tooly = venv / "bin" / "tooly"
    assert tooly.is_symlink()
    assert subprocess.run([tooly], capture_output=True, text=True, check=True).stdout == "tooly 1.0\n"
    assert (
        subprocess.run([venv / "bin" / "tooly-native"], capture_output=True, text=True).stdout
        == "native script\n"
    )
    site = next((venv / "lib").glob("python3.*/site-packages"))
    assert (site / "tooly" / "old_only.py").exists()

    code, out, err = run("install", "--prefix", str(venv), str(v2))
    assert code == 0 and out.startswith("installed tooly 2.0 (was 1.0)"), err
    assert subprocess.run([tooly], capture_output=True, text=True, check=True).stdout == "tooly 2.0\n"
    assert not (site / "tooly" / "old_only.py").exists() and not (site / "tooly-1.0.dist-info").exists()
    dist_info = site / "tooly-2.0.dist-info"
    assert (dist_info / "INSTALLER").read_text() == "shimgen\n"
    paths = assert_record_follows_rule(dist_info)  # the shims first, nothing of .shimgen/
    assert paths[:3] == ["../../../bin/tooly", "../../../bin/tooly-gui", "../../../bin/tooly-native"]

    listed = pip(venv, "list", "--format=freeze")
    assert listed.returncode == 0 and "tooly==2.0" in listed.stdout.split(), listed.stderr
    removed = pip(venv, "uninstall", "-y", "tooly")
    assert removed.returncode == 0, removed.stderr
    assert not os.path.lexists(tooly) and not dist_info.exists() and not (site / "tooly").exists()
    # pip took the commands (their symlinks, which are their link records, were in RECORD); the
    # store kept its own files, and sync sees the dist is gone and drops its state and entries.
    code, out, err = run("sync", "--prefix", str(venv), "--keep", "0")
    assert code == 0 and "removed tooly (no longer installed)\n" in out, err
    assert [f for f in doctor(Store(venv)) if f.severity == PROBLEM] == []
    assert not any((venv / ".shimgen" / "store").iterdir()) and not (venv / ".shimgen" / "links").exists()


def test_windows_environment_prepared_from_linux(tmp_path: Path) -> None:
    prefix = tmp_path / "win env"
    prefix.mkdir()
    native = stub_bytes("x64") + b"tooly native"
    wheel = tooly_wheel(tmp_path / "w", "1.0", native=native)
    code, out, err = run("install", "--prefix", str(prefix), "--platform", "win_amd64", str(wheel))
    assert code == 0, err
    assert out == "installed tooly 1.0; commands: tooly-native, tooly, tooly-gui\n"
    scripts = prefix / "Scripts"
    assert (scripts / "tooly.exe").read_bytes() == stub_bytes("x64")
    assert (scripts / "tooly-gui.exe").read_bytes() == stub_bytes("x64", gui=True)
    assert (scripts / "tooly-native.exe").read_bytes() == stub_bytes("x64")
    links = prefix / ".shimgen" / "links"
    record = (links / "tooly-gui").read_text()
    assert "target=Scripts/pythonw.exe\nscript=.shimgen/store/tooly/1.0-" in record
    assert record.endswith("/tooly-gui-script.pyw\n")
    assert "target=.shimgen/store/tooly/1.0-" in (links / "tooly-native").read_text()
    site = prefix / "Lib" / "site-packages"
    assert (site / "tooly" / "__init__.py").exists() and (site / "tooly-1.0.dist-info" / "INSTALLER").exists()
    rows = record_rows(site / "tooly-1.0.dist-info")
    assert "../../Scripts/tooly.exe" in rows and rows["../../Scripts/tooly.exe"][1] == record_hash(
        stub_bytes("x64")
    )
    # Upgrade and uninstall never rewrite a launcher.
    before = (scripts / "tooly.exe").stat()
    code, out, err = run(
        "install", "--prefix", str(prefix), str(tooly_wheel(tmp_path / "w2", "2.0", native=native))
    )
    assert code == 0, err
    assert (scripts / "tooly.exe").stat().st_ino == before.st_ino
    assert "/2.0-" in (links / "tooly").read_text()
    code, out, err = run("uninstall", "--prefix", str(prefix), "tooly")
    assert code == 0 and not (scripts / "tooly.exe").exists() and not (site / "tooly").exists(), err


def test_a_library_without_commands_installs_into_a_fresh_environment(tmp_path: Path, venv: Path) -> None:
    """It used to fail after writing its files: the store was asked for launchers it did not have."""
    wheel = build_wheel(tmp_path, "six", "1.16.0", {"six.py": b"X = 1\n"})
    code, out, err = run("install", "--prefix", venv, wheel)
    assert code == 0, err
    assert out == "installed six 1.16.0\n"
    rows = assert_record_is_true(site_of(venv) / "six-1.16.0.dist-info")
    assert "six.py" in rows
    code, out, err = run("uninstall", "--prefix", venv, "six")
    assert code == 0, err
    assert not (site_of(venv) / "six.py").exists() and not list(site_of(venv).glob("six*"))


def test_an_earlier_record_that_leaves_the_environment_stops_the_upgrade_before_it_starts(
    tmp_path: Path, venv: Path
) -> None:
    code, _, err = run("install", "--prefix", venv, tool_wheel(tmp_path / "1", "1.0"))
    assert code == 0, err
    record = site_of(venv) / "tool-1.0.dist-info" / "RECORD"
    record.write_text(record.read_text() + "../../../../elsewhere/x.py,,\n")
    before = snapshot(venv)
    code, _, err = run("install", "--prefix", venv, tool_wheel(tmp_path / "2", "2.0"))
    assert code == 1 and "outside the environment" in err and str(record) in err
    assert snapshot(venv) == before


@pytest.mark.parametrize(
    ("member", "why"),
    [
        ("evil-1.0.data/data/.shimgen/links/tool", "shimgen's own folder"),
        ("evil-1.0.data/data/.shimgen/dists/tool.json", "shimgen's own folder"),
        ("evil-1.0.data/data/bin/tool", "command 'tool' belongs to tool"),  # a program in bin: a command
        ("evil-1.0.data/data/BIN/tool", "would go where launchers go"),  # Windows and macOS ignore case
        ("evil-1.0.data/data/lib64/{python}/site-packages/tool-1.0.dist-info/RECORD", "another distribution"),
        ("evil-1.0.data/purelib/tool-1.0.dist-info/RECORD", "another distribution's metadata"),
    ],
)
def test_a_wheel_cannot_write_shimgen_records_launchers_or_other_metadata(
    tmp_path: Path, venv: Path, member: str, why: str
) -> None:
    code, _, err = run("install", "--prefix", venv, tool_wheel(tmp_path / "1", "1.0"))
    assert code == 0, err
    member = member.format(python=site_of(venv).parent.name)  # lib64 -> lib: the venv's own link
    evil = build_wheel(tmp_path, "evil", "1.0", {"evil/__init__.py": b"", member: b"shimgen-link 1\n"})
    before = snapshot(venv)
    code, _, err = run("install", "--prefix", venv, evil)
    assert code == 1 and why in err, err
    assert snapshot(venv) == before


def test_an_upgrade_takes_over_the_scripts_pip_installed_for_the_same_distribution(
    tmp_path: Path, venv: Path
) -> None:
    """pip's bin/tool and bin/nat are the old version's own files (its RECORD lists them): the
    new launchers replace them. It used to stop at "a file shimgen did not make is in the way"."""
    native = {"tool-{v}.data/scripts/nat": b"#!python\nprint('nat')\n"}
    v1 = tool_wheel(tmp_path / "1", "1.0", {k.format(v="1.0"): d for k, d in native.items()})
    v2 = tool_wheel(tmp_path / "2", "2.0", {k.format(v="2.0"): d for k, d in native.items()})
    installed = pip(venv, "install", "--no-index", "--no-deps", v1)
    assert installed.returncode == 0, installed.stderr
    assert not (venv / "bin" / "tool").is_symlink()
    code, out, err = run("install", "--prefix", venv, v2)
    assert code == 0 and out.startswith("installed tool 2.0 (was 1.0)"), err
    for command in ("tool", "nat"):
        assert (venv / "bin" / command).is_symlink()
    result = subprocess.run([venv / "bin" / "tool"], capture_output=True, text=True, check=True)
    assert result.stdout == "tool 2.0\n"
    assert_record_is_true(site_of(venv) / "tool-2.0.dist-info")
    assert not (site_of(venv) / "tool-1.0.dist-info").exists()
    assert pip(venv, "uninstall", "-y", "tool").returncode == 0


def test_a_file_in_bin_that_no_earlier_install_owns_is_still_refused(tmp_path: Path, venv: Path) -> None:
    (venv / "bin" / "tool").write_text("#!/bin/sh\necho mine\n")
    before = snapshot(venv)
    code, _, err = run("install", "--prefix", venv, tool_wheel(tmp_path / "1", "1.0"))
    assert code == 1 and "a file shimgen did not make is in the way" in err
    assert snapshot(venv) == before


def test_nothing_is_deleted_or_written_through_a_link_that_leaves_the_environment(
    tmp_path: Path, venv: Path
) -> None:
    outside = tmp_path / "outside"
    (outside / "sub").mkdir(parents=True)
    (outside / "sub" / "secret.txt").write_text("precious")
    (site_of(venv) / "evil_data").symlink_to(outside)
    wheel = build_wheel(tmp_path, "evil", "1.0", {"evil_data/sub/new.txt": b"planted"})
    code, _, err = run("install", "--prefix", venv, wheel)
    assert code == 1 and "through a link that leaves the environment" in err
    assert sorted(p.name for p in outside.rglob("*")) == ["secret.txt", "sub"]
    # A RECORD (by another tool, or by hand) that lists a file behind that link.
    info = site_of(venv) / "evil-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n")
    (info / "RECORD").write_text("evil_data/sub/secret.txt,,\nevil-1.0.dist-info/METADATA,,\n")
    code, _, err = run("uninstall", "--prefix", venv, "evil")
    assert code == 1 and "RECORD names a file outside the environment" in err
    assert (outside / "sub" / "secret.txt").read_text() == "precious"


def test_a_refused_install_removes_only_the_folders_it_made(tmp_path: Path, venv: Path) -> None:
    """The cleanup once removed every empty folder up to the prefix: a fresh venv lost its empty
    site-packages, lib/pythonX.Y and lib (leaving lib64 dangling)."""
    evil = build_wheel(
        tmp_path, "evil", "1.0", {"evil/sub/__init__.py": b"", "evil-1.0.data/data/.shimgen/links/x": b""}
    )
    assert not any(site_of(venv).iterdir())
    before = snapshot(venv)
    code, _, err = run("install", "--prefix", venv, evil)
    assert code == 1 and "shimgen's own folder" in err
    assert snapshot(venv) == before


def test_a_prefix_that_is_no_python_environment_is_refused(tmp_path: Path) -> None:
    """Its commands used to fail with 127 afterwards: nothing was there to run their scripts."""
    prefix = tmp_path / "not an env"
    (prefix / "bin").mkdir(parents=True)
    code, _, err = run("install", "--prefix", prefix, tool_wheel(tmp_path / "1", "1.0"))
    assert code == 1 and "not a Python environment: bin/python is missing" in err, err
    assert list(prefix.iterdir()) == [prefix / "bin"]  # nothing written
