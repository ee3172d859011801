"""The store under Wine, driven by the real Windows CPython running shimgen itself.

This is where the Windows semantics the product exists for are real: a running
image cannot be overwritten or deleted (error 5 or 32) but can be renamed, a
file open without FILE_SHARE_DELETE cannot be replaced, and os.replace is
MoveFileExW. Every shimgen step here runs shimgen's Windows code paths.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from shimgen import stub_bytes
from shimgen.entry import verify_entry
from tests.wine.helpers import WindowsShimgen, Wine, windows_path

pytestmark = pytest.mark.wine

# The bug shimgen exists to avoid, shown with the same Windows CPython: what pip does to a running .exe.
CONTROL = """
import ctypes, os, sys
kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
kernel32.CreateFileW.restype = ctypes.c_void_p
for path in sys.argv[1:]:
    handle = kernel32.CreateFileW(path, 0x40000000, 7, None, 3, 0, None)  # GENERIC_WRITE, share all
    print("overwrite", ctypes.get_last_error() if handle == ctypes.c_void_p(-1).value else "ok")
    try:
        os.remove(path)
        print("delete ok")
    except OSError as error:
        print("delete", error.winerror)
"""


class Versions:
    """probe.exe plus a version.txt beside it: two files per version, one store entry each."""

    def __init__(self, root: Path, probe_exe: Path) -> None:
        self.root = root
        self.probe = probe_exe

    def files(self, version: str) -> list[str]:
        folder = self.root / f"v{version}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "probe.exe").write_bytes(self.probe.read_bytes())
        (folder / "version.txt").write_text(f"v{version}\n")
        return [windows_path(folder / "probe.exe"), "--extra", windows_path(folder / "version.txt")]


@pytest.fixture
def prefix(tmp_path: Path) -> Path:
    path = tmp_path / "my env"
    path.mkdir()
    return path


@pytest.fixture
def versions(tmp_path: Path, probe_exe: Path) -> Versions:
    return Versions(tmp_path / "sources", probe_exe)


def link(shimgen: WindowsShimgen, prefix: Path, versions: Versions, version: str, *options: str):
    result = shimgen.cli(
        "link", "--prefix", windows_path(prefix), *options, "probe", version, *versions.files(version)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def entries(prefix: Path) -> list[str]:
    folder = prefix / ".shimgen" / "store" / "probe"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_switch_gc_and_remove_while_the_old_version_runs(
    wine: Wine, windows_shimgen: WindowsShimgen, prefix: Path, versions: Versions, tmp_path: Path, wait_until
) -> None:
    link(windows_shimgen, prefix, versions, "1.0", "--arch", "x64")
    launcher = prefix / "Scripts" / "probe.exe"
    (v1_entry,) = entries(prefix)
    v1_program = prefix / ".shimgen" / "store" / "probe" / v1_entry / "probe.exe"
    marker = tmp_path / "running"
    running = wine.start(launcher, "mark", windows_path(marker), "15000")
    try:
        assert wait_until(marker.exists), running.communicate(timeout=30)
        control = windows_shimgen.python_code(CONTROL, windows_path(v1_program), windows_path(launcher))
        lines = control.stdout.split("\n")
        # Overwriting a running image is a sharing violation (32); deleting it is access denied (5).
        assert lines[:4] == ["overwrite 32", "delete 5", "overwrite 32", "delete 5"], control

        result = link(windows_shimgen, prefix, versions, "2.0")
        assert "switched from 1.0" in result.stdout
        assert wine.run(launcher, "sibling", "version.txt").stdout == "v2.0\n"  # a new launch runs v2

        result = windows_shimgen.cli("gc", "--prefix", windows_path(prefix), "--keep", "0")
        assert result.returncode == 0, result.stderr
        assert f"in use, left for next time: .shimgen\\store\\probe\\{v1_entry}" in result.stdout
        assert v1_entry in entries(prefix)

        result = windows_shimgen.cli("remove", "--prefix", windows_path(prefix), "probe")
        assert result.returncode == 0 and result.stdout == "removed probe; commands: probe\n", result.stderr
        assert not launcher.exists()  # the running launcher was renamed into the trash
        assert running.poll() is None  # and the running tool never noticed
    finally:
        stdout, stderr = running.communicate(timeout=60)
    assert running.returncode == 0 and stdout == "v1.0\n", stderr  # it still read its own sibling at the end

    result = windows_shimgen.cli("gc", "--prefix", windows_path(prefix), "--keep", "0")
    assert result.returncode == 0, result.stderr
    assert entries(prefix) == [] and list((prefix / ".shimgen" / "trash").iterdir()) == []
    result = windows_shimgen.cli("doctor", "--prefix", windows_path(prefix))
    assert result.returncode == 0 and result.stdout == "0 problem(s), 0 remaining\n", result.stdout


def test_a_running_launcher_that_must_change_is_renamed_aside(
    wine: Wine, windows_shimgen: WindowsShimgen, prefix: Path, versions: Versions, tmp_path: Path, wait_until
) -> None:
    link(windows_shimgen, prefix, versions, "1.0", "--arch", "x64")
    launcher = prefix / "Scripts" / "probe.exe"
    marker = tmp_path / "running"
    running = wine.start(launcher, "mark", windows_path(marker), "8000")
    try:
        assert wait_until(marker.exists)
        link(windows_shimgen, prefix, versions, "2.0", "--gui", "probe")  # needs the GUI stub now
        assert launcher.read_bytes() == stub_bytes("x64", gui=True)
        (aside,) = (prefix / ".shimgen" / "trash").iterdir()
        assert aside.name.endswith("-probe.exe") and aside.read_bytes() == stub_bytes("x64")
    finally:
        stdout, _ = running.communicate(timeout=60)
    assert running.returncode == 0 and stdout == "v1.0\n"
    assert wine.run(launcher, "exit", "9").returncode == 9  # the new GUI launcher runs v2 and forwards codes
    result = windows_shimgen.cli("gc", "--prefix", windows_path(prefix))
    assert result.returncode == 0 and list((prefix / ".shimgen" / "trash").iterdir()) == []


SWITCHER = """
import os, sys
from pathlib import Path
from shimgen.entry import Command, EntryFile
from shimgen.store import Store
prefix, probe, ready, stop = sys.argv[1:5]
store = Store(prefix)
program = Path(probe).read_bytes()
switches = 0
while switches < 6 or not os.path.exists(stop):
    switches += 1
    version = EntryFile("version.txt", f"v{switches}\\n".encode())
    files = [EntryFile("probe.exe", program, executable=True), version]
    store.publish("probe", f"{switches}.0", files, [Command("probe", "probe.exe")], arch="x64")
    if switches == 1:
        open(ready, "w").close()
print("switches", switches)
"""


def test_launches_never_fail_while_another_process_switches_versions(
    wine: Wine, windows_shimgen: WindowsShimgen, prefix: Path, probe_exe: Path, tmp_path: Path, wait_until
) -> None:
    ready, stop = tmp_path / "ready", tmp_path / "stop"
    switcher = windows_shimgen.start_code(
        SWITCHER, windows_path(prefix), windows_path(probe_exe), windows_path(ready), windows_path(stop)
    )
    try:
        assert wait_until(ready.exists, timeout=60), switcher.communicate(timeout=30)
        launches = 200
        loop = wine.run(
            probe_exe, "loop", str(launches), windows_path(prefix / "Scripts" / "probe.exe"), "version.txt"
        )
    finally:
        stop.touch()
        out, err = switcher.communicate(timeout=300)
    assert switcher.returncode == 0, err
    switches = int(out.split()[-1])
    *children, summary = loop.stdout.split("\n")
    fields = dict(item.split("=") for item in summary.split())
    assert (fields["launches"], fields["failures"]) == (str(launches), "0"), (
        loop.stdout[-500:] + loop.stderr[-2000:]
    )
    # Starts that Wine itself failed (about 1 in 3,000, with or without shimgen) were retried once;
    # a real shimgen failure (241-244, a missing sibling) is never retried, and a half-written
    # program would fail its retry too. Far more than Wine's own rate would still be a failure.
    retried = int(fields["retried"])
    assert retried <= launches // 50, loop.stdout[-500:]
    assert len(children) == launches  # one line per launch: a failed start printed nothing
    assert all(c.startswith("v") and c[1:].isdigit() for c in children)
    seen = {int(c[1:]) for c in children}
    assert len(seen) > 2, f"the launches saw only {seen}: the switches did not overlap them"
    # Every entry the switcher published is complete: nothing half-written was ever linked.
    store = prefix / ".shimgen" / "store" / "probe"
    assert all(verify_entry(entry, deep=True)[1] == [] for entry in store.iterdir())
    print(
        f"{launches} launches ({retried} Wine start failures retried), {switches} switches, {len(seen)} seen"
    )
    result = windows_shimgen.cli("doctor", "--prefix", windows_path(prefix))
    assert result.returncode == 0, result.stdout


def test_a_link_record_held_open_is_retried_then_reported(
    wine: Wine, windows_shimgen: WindowsShimgen, prefix: Path, versions: Versions, probe_exe: Path
) -> None:
    link(windows_shimgen, prefix, versions, "1.0", "--arch", "x64")
    record = prefix / ".shimgen" / "links" / "probe"
    launcher = prefix / "Scripts" / "probe.exe"
    # Held briefly (a virus scanner): the switch waits it out.
    holder = wine.start(probe_exe, "hold", windows_path(record), "1200")
    assert holder.stdout is not None and holder.stdout.read(4) == "held"
    started = time.monotonic()
    link(windows_shimgen, prefix, versions, "2.0")
    holder.wait(timeout=30)
    assert wine.run(launcher, "sibling", "version.txt").stdout == "v2.0\n"
    # Held for good: a clear error after the retries, and the old link record still works.
    holder = wine.start(probe_exe, "hold", windows_path(record), "60000")
    try:
        assert holder.stdout is not None and holder.stdout.read(4) == "held"
        started = time.monotonic()
        result = windows_shimgen.cli(
            "link", "--prefix", windows_path(prefix), "probe", "3.0", *versions.files("3.0")
        )
        elapsed = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 1, result.stdout + result.stderr
    assert "cannot rename" in result.stderr and "may hold it open" in result.stderr, result.stderr
    assert windows_path(record) in result.stderr and elapsed > 2.5
    assert wine.run(launcher, "sibling", "version.txt").stdout == "v2.0\n"
    assert not [p for p in record.parent.iterdir() if p.name.endswith(".tmp")]
    # Retrying finishes the switch.
    link(windows_shimgen, prefix, versions, "3.0")
    assert wine.run(launcher, "sibling", "version.txt").stdout == "v3.0\n"


HOLD_LOCK = """
import sys, time
from shimgen.store import Store
with Store(sys.argv[1]).locked():
    print("locked", flush=True)
    time.sleep(60)
"""


def test_a_second_writer_fails_clearly_while_the_first_holds_the_lock(
    windows_shimgen: WindowsShimgen, prefix: Path, versions: Versions, wine: Wine
) -> None:
    link(windows_shimgen, prefix, versions, "1.0", "--arch", "x64")
    holder = windows_shimgen.start_code(HOLD_LOCK, windows_path(prefix))
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        result = windows_shimgen.cli(
            "link",
            "--prefix",
            windows_path(prefix),
            "--lock-timeout",
            "1",
            "probe",
            "2.0",
            *versions.files("2.0"),
        )
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 1 and "another shimgen is changing this environment" in result.stderr
    assert wine.run(prefix / "Scripts" / "probe.exe", "sibling", "version.txt").stdout == "v1.0\n"
    assert len(entries(prefix)) == 1
    # The holder was killed, not let go: Windows dropped its lock with the process, so none is stale.
    again = windows_shimgen.cli(
        "link",
        "--prefix",
        windows_path(prefix),
        "--lock-timeout",
        "0",
        "probe",
        "2.0",
        *versions.files("2.0"),
    )
    assert again.returncode == 0, again.stderr
    assert wine.run(prefix / "Scripts" / "probe.exe", "sibling", "version.txt").stdout == "v2.0\n"


def test_bad_input_changes_nothing_and_doctor_repairs_what_the_launcher_reports(
    wine: Wine, windows_shimgen: WindowsShimgen, prefix: Path, versions: Versions, tmp_path: Path
) -> None:
    link(windows_shimgen, prefix, versions, "1.0", "--arch", "x64")
    before = sorted(p.relative_to(prefix).as_posix() for p in prefix.rglob("*"))
    text = tmp_path / "tool.exe"
    text.write_text("not a program")
    for args, message in (
        (("../evil", "2.0", *versions.files("2.0")), "invalid distribution name '../evil'"),
        (("probe", "2.0/..", *versions.files("2.0")), "invalid version '2.0/..'"),
        (("probe", "2.0", windows_path(text)), "tool.exe is not a Windows program"),
    ):
        result = windows_shimgen.cli("link", "--prefix", windows_path(prefix), *args)
        assert result.returncode == 1 and message in result.stderr, result.stderr
    assert sorted(p.relative_to(prefix).as_posix() for p in prefix.rglob("*")) == before
    # A truncated link record: the launcher says what is wrong and what repairs it; doctor does.
    record = prefix / ".shimgen" / "links" / "probe"
    record.write_bytes(record.read_bytes()[:20])
    launched = wine.run(prefix / "Scripts" / "probe.exe", "sibling", "version.txt")
    assert launched.returncode == 242 and "shimgen doctor --fix" in launched.stderr
    result = windows_shimgen.cli("doctor", "--prefix", windows_path(prefix))
    assert result.returncode == 3 and "link record of probe (probe) is invalid" in result.stdout
    result = windows_shimgen.cli("doctor", "--fix", "--prefix", windows_path(prefix))
    assert result.returncode == 0, result.stdout
    assert wine.run(prefix / "Scripts" / "probe.exe", "sibling", "version.txt").stdout == "v1.0\n"
