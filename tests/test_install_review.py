"""Regressions from reviews of the installer: each test is a defect a reviewer reproduced.

Hostile or unusual wheels and environments must end in a clear error with the
environment unchanged, or in a correct install; never in a half-written one.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from shimgen.errors import ShimgenError
from shimgen.wheelfile import WheelFile
from tests.helpers.cli import pip, run
from tests.helpers.environments import site_of, snapshot
from tests.helpers.wheels import assert_record_is_true, build_wheel, record_hash

TOOL_POINTS = "[console_scripts]\ntool = tool:main\n"


def tool_wheel(folder: Path, version: str, files: dict[str, bytes] | None = None, **kwargs: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    body = {"tool/__init__.py": f"def main():\n    print('tool {version}')\n".encode(), **(files or {})}
    return build_wheel(folder, "tool", version, body, entry_points=TOOL_POINTS, **kwargs)  # type: ignore[arg-type]


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


def test_a_wheel_with_a_second_dist_info_is_refused(tmp_path: Path) -> None:
    evil = build_wheel(
        tmp_path, "evil", "1.0", {"evil/__init__.py": b"", "tool-2.0.dist-info/METADATA": b"Name: tool\n"}
    )
    with pytest.raises(ShimgenError, match=r"carries tool-2\.0\.dist-info/"):
        WheelFile(evil)


def test_a_record_size_that_is_not_a_number_is_a_clear_error(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path, "demo", "1.0", {"demo.py": b"x"})
    with zipfile.ZipFile(wheel) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    record = "demo-1.0.dist-info/RECORD"
    members[record] = members[record].replace(
        f"{record_hash(b'x')},1".encode(), f"{record_hash(b'x')},1x".encode()
    )
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    (tmp_path / "env").mkdir()
    code, _, err = run("install", "--prefix", tmp_path / "env", wheel)
    assert code == 1 and "the size is not a number" in err and "Traceback" not in err


def test_a_member_larger_than_record_says_is_refused_before_it_is_inflated(tmp_path: Path) -> None:
    """A zip bomb: 50 MiB of zeros compress to 50 KiB; RECORD promises 10 bytes."""
    wheel = build_wheel(tmp_path, "bomb", "1.0", {"bomb.py": b"0123456789"})
    with zipfile.ZipFile(wheel) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["bomb.py"] = bytes(50 << 20)
    with zipfile.ZipFile(wheel, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    del members
    tracemalloc.start()
    try:
        with WheelFile(wheel) as opened, pytest.raises(ShimgenError, match="wrong size for RECORD"):
            opened.verify()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 << 20, f"{peak} bytes allocated"


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
            # (as it would a plain pip install's); the link record stays, so doctor restores it.
            assert not os.path.lexists(prefix / "bin" / "tool")
            assert (prefix / ".shimgen" / "links" / "tool").is_file()
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


def test_a_prefix_that_looks_like_shell_code_is_only_a_name(tmp_path: Path) -> None:
    """The /bin/sh line of an entry-point script quotes the path: sh must expand nothing in it."""
    marker = tmp_path / "PWNED"
    prefix = tmp_path / f"my env $(touch {marker})"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", prefix], check=True)
    code, _, err = run("install", "--prefix", prefix, tool_wheel(tmp_path / "1", "1.0"))
    assert code == 0, err
    result = subprocess.run([prefix / "bin" / "tool"], capture_output=True, text=True)
    assert (result.returncode, result.stdout) == (0, "tool 1.0\n"), result.stderr
    assert not marker.exists()


def test_a_prefix_with_a_quote_runs_and_one_with_a_backslash_is_refused_early(tmp_path: Path) -> None:
    quoted = tmp_path / "Bob's env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", quoted], check=True)
    assert run("install", "--prefix", quoted, tool_wheel(tmp_path / "1", "1.0"))[0] == 0
    result = subprocess.run([quoted / "bin" / "tool"], capture_output=True, text=True)
    assert (result.returncode, result.stdout) == (0, "tool 1.0\n"), result.stderr

    backslash = tmp_path / "back\\slash env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", backslash], check=True)
    before = snapshot(backslash)
    code, _, err = run("install", "--prefix", backslash, tool_wheel(tmp_path / "1", "1.0"))
    assert code == 1 and "cannot name safely" in err
    assert snapshot(backslash) == before
    # A wheel without commands needs no entry-point script, so no such line: it installs.
    code, _, err = run(
        "install", "--prefix", backslash, build_wheel(tmp_path, "six", "1.16.0", {"six.py": b""})
    )
    assert code == 0, err


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
    from shimgen.store import Store

    program = b"\x7fELF" + os.urandom(1 << 20)
    wheel = tool_wheel(tmp_path / "w", "1.0", {"tool-1.0.data/scripts/big": program})
    counted: list[int] = []
    install_wheel(Store(venv), wheel, progress=counted.append)
    with WheelFile(wheel) as opened:
        assert sum(counted) == progress_total(opened) > 2 * len(program)


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


def test_a_record_row_without_a_hash_is_refused(tmp_path: Path) -> None:
    """Only RECORD itself (and signatures) may go unhashed; otherwise any bytes would pass."""
    wheel = build_wheel(tmp_path, "demo", "1.0", {"demo.py": b"x"})
    with zipfile.ZipFile(wheel) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    record = "demo-1.0.dist-info/RECORD"
    members[record] = members[record].replace(f"demo.py,{record_hash(b'x')},1".encode(), b"demo.py,,")
    members["demo.py"] = b"anything at all"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(ShimgenError, match=r"RECORD gives no hash or size for 'demo\.py'"):
        WheelFile(wheel)


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


def test_a_command_named_like_the_interpreter_is_refused_as_such(tmp_path: Path, venv: Path) -> None:
    """Its hint used to tell the user to remove the file in the way: the environment's own Python."""
    wheel = build_wheel(tmp_path, "evil", "1.0", {"evil.py": b"def main(): pass\n"},
                        entry_points="[console_scripts]\npython = evil:main\n")  # fmt: skip
    code, _, err = run("install", "--prefix", venv, wheel)
    assert code == 1 and "command 'python' would replace python, the environment's own interpreter" in err, (
        err
    )
    assert "no distribution may provide this command" in err
    assert not list(site_of(venv).glob("evil*")) and (venv / "bin" / "python").exists()


def test_a_prefix_that_is_no_python_environment_is_refused(tmp_path: Path) -> None:
    """Its commands used to fail with 127 afterwards: nothing was there to run their scripts."""
    prefix = tmp_path / "not an env"
    (prefix / "bin").mkdir(parents=True)
    code, _, err = run("install", "--prefix", prefix, tool_wheel(tmp_path / "1", "1.0"))
    assert code == 1 and "not a Python environment: bin/python is missing" in err, err
    assert list(prefix.iterdir()) == [prefix / "bin"]  # nothing written


def test_names_only_windows_refuses_are_refused_only_for_windows(tmp_path: Path, venv: Path) -> None:
    """pip installs a distribution named 'con' with a command 'tool.' into a POSIX venv; they were
    refused there as Windows device names. For a Windows layout the refusal says why."""
    entry_points = "[console_scripts]\ntool. = con:main\n"
    wheel = build_wheel(tmp_path, "con", "1.0", {"con/__init__.py": b"def main(): print('con')\n"},
                        entry_points=entry_points)  # fmt: skip
    code, out, err = run("install", "--prefix", venv, wheel)
    assert code == 0 and "commands: tool." in out, err
    assert subprocess.run([venv / "bin" / "tool."], capture_output=True, text=True).stdout == "con\n"
    windows = tmp_path / "win env"
    windows.mkdir()
    code, _, err = run("install", "--prefix", windows, "--platform", "win_amd64", wheel)
    assert code == 1 and "a Windows environment cannot hold it" in err, err
    assert "'con' is a Windows device name" in err or "'tool.' ends in a dot" in err
    code, _, err = run("generate", "con", "--arch", "x64", "--out", tmp_path / "x.exe")
    assert code == 1 and "Windows device name" in err
