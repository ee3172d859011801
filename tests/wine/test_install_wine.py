"""The seed scenario, end to end under Wine: the bug pip users hit, and shimgen install avoiding it.

Windows CPython runs shimgen itself. Two versions of a wheel carry a native
Windows tool (probe.exe, compiled in the test) with a data file beside it, and
a console_scripts entry point. A plain installer (distlib's Wheel.install, the
code pip's script handling comes from) fails to upgrade while the tool runs;
shimgen install succeeds, the running tool is unaffected, and gc leaves
nothing behind once it has exited.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.helpers.wheels import assert_record_is_true, build_wheel, record_hash
from tests.wine.helpers import WindowsShimgen, Wine, windows_path

pytestmark = pytest.mark.wine


def seed_wheel(folder: Path, version: str, probe_exe: Path) -> Path:
    files = {
        "tooly/__init__.py": f"def main():\n    print('tooly {version}')\n".encode(),
        f"tooly-{version}.data/scripts/tool.exe": probe_exe.read_bytes(),
        f"tooly-{version}.data/scripts/version.txt": f"v{version}\n".encode(),
    }
    folder.mkdir(parents=True, exist_ok=True)
    return build_wheel(
        folder,
        "tooly",
        version,
        files,
        entry_points="[console_scripts]\ntooly = tooly:main\n",
        platform="win_amd64",
    )


def windows_env(root: Path, windows_python: Path) -> Path:
    """An environment with its own Windows Python in Scripts\\ that sees Lib\\site-packages."""
    prefix = root / "seed env"
    shutil.copytree(windows_python, prefix / "Scripts")
    (prefix / "Scripts" / "python313._pth").write_text("python313.zip\n.\n..\\Lib\\site-packages\n")
    (prefix / "Lib" / "site-packages").mkdir(parents=True)
    return prefix


PLAIN_INSTALL = """
import platform
import sys


def no_wmi(*args, **kwargs):  # Wine 8's WMI crashes the process; platform falls back without it
    raise OSError("WMI is not usable under Wine 8")


platform._wmi_query = no_wmi
from distlib.scripts import ScriptMaker
from distlib.wheel import Wheel
prefix, wheel = sys.argv[1], sys.argv[2]
paths = {k: prefix + v for k, v in
         {"prefix": "", "purelib": "\\\\Lib\\\\site-packages", "platlib": "\\\\Lib\\\\site-packages",
          "scripts": "\\\\Scripts", "headers": "\\\\Include", "data": ""}.items()}
try:
    Wheel(wheel).install(paths, ScriptMaker(None, None))
    print("installed")
except OSError as error:
    print("failed", type(error).__name__, getattr(error, "winerror", None) or error.errno)
"""


def test_seed_scenario_upgrade_and_uninstall_while_the_tool_runs(
    wine: Wine,
    windows_shimgen: WindowsShimgen,
    windows_python: Path,
    probe_exe: Path,
    tmp_path: Path,
    wait_until,
) -> None:
    v1, v2 = (seed_wheel(tmp_path / f"wheels-{v}", v, probe_exe) for v in ("1.0", "2.0"))

    # The bug: a plain installer cannot upgrade while the tool runs.
    plain = windows_env(tmp_path / "plain", windows_python)
    assert (
        windows_shimgen.python_code(PLAIN_INSTALL, windows_path(plain), windows_path(v1)).stdout
        == "installed\n"
    )
    marker = tmp_path / "plain-running"
    running = wine.start(plain / "Scripts" / "tool.exe", "mark", windows_path(marker), "20000")
    try:
        assert wait_until(marker.exists)
        result = windows_shimgen.python_code(PLAIN_INSTALL, windows_path(plain), windows_path(v2))
        assert result.stdout.startswith("failed PermissionError"), result.stdout + result.stderr
        assert result.stdout.split()[-1] in ("5", "13", "32"), result.stdout
    finally:
        running.kill()
        running.wait()

    # The fix: shimgen install, with the same wheels, while v1 runs.
    prefix = windows_env(tmp_path / "shimgen", windows_python)
    result = windows_shimgen.cli("install", "--prefix", windows_path(prefix), windows_path(v1))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "installed tooly 1.0; commands: tool, tooly\n"
    tool, tooly = prefix / "Scripts" / "tool.exe", prefix / "Scripts" / "tooly.exe"
    assert wine.run(tooly, extra_env={"PYTHONUTF8": "1"}).stdout == "tooly 1.0\n"
    marker = tmp_path / "v1-running"
    running_v1 = wine.start(tool, "mark", windows_path(marker), "20000")
    try:
        assert wait_until(marker.exists)
        result = windows_shimgen.cli("install", "--prefix", windows_path(prefix), windows_path(v2))
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.startswith("installed tooly 2.0 (was 1.0)")
        assert wine.run(tool, "sibling", "version.txt").stdout == "v2.0\n"
        assert wine.run(tooly).stdout == "tooly 2.0\n"
        assert running_v1.poll() is None

        marker2 = tmp_path / "v2-running"
        running_v2 = wine.start(tool, "mark", windows_path(marker2), "5000")
        try:
            assert wait_until(marker2.exists)
            result = windows_shimgen.cli("uninstall", "--prefix", windows_path(prefix), "tooly")
            assert result.returncode == 0 and result.stdout == "uninstalled tooly 2.0\n", result.stderr
            assert not tool.exists() and not tooly.exists()
        finally:
            out_v2, _ = running_v2.communicate(timeout=60)
        assert running_v2.returncode == 0 and out_v2 == "v2.0\n"
    finally:
        out_v1, _ = running_v1.communicate(timeout=60)
    assert running_v1.returncode == 0 and out_v1 == "v1.0\n"  # never noticed the upgrade

    result = windows_shimgen.cli("gc", "--prefix", windows_path(prefix), "--keep", "0")
    assert result.returncode == 0, result.stderr
    leftovers = [
        p for p in prefix.rglob("*") if "tooly" in p.name.lower() or p.name in ("tool.exe", "version.txt")
    ]
    assert leftovers == []
    assert (
        list((prefix / ".shimgen" / "store").iterdir()) == []
        and list((prefix / ".shimgen" / "trash").iterdir()) == []
    )
    result = windows_shimgen.cli("doctor", "--prefix", windows_path(prefix))
    assert result.returncode == 0 and result.stdout == "0 problem(s), 0 remaining\n", result.stdout


INSTALLER_INSTALL = """
import sys
from installer import install
from installer.destinations import SchemeDictionaryDestination
from installer.sources import WheelFile
prefix, wheel = sys.argv[1], sys.argv[2]
site = prefix + "\\\\Lib\\\\site-packages"
scheme = {"purelib": site, "platlib": site, "scripts": prefix + "\\\\Scripts",
          "headers": prefix + "\\\\Include", "data": prefix}
destination = SchemeDictionaryDestination(scheme, prefix + "\\\\Scripts\\\\python.exe", "win-amd64")
with WheelFile.open(wheel) as source:
    install(source, destination, {"INSTALLER": b"installer\\n"})
print("installed")
"""


def test_adopt_an_environment_installed_by_installer_while_its_tool_runs(
    wine: Wine,
    windows_shimgen: WindowsShimgen,
    windows_python: Path,
    probe_exe: Path,
    tmp_path: Path,
    wait_until,
) -> None:
    v1, v2 = (seed_wheel(tmp_path / f"wheels-{v}", v, probe_exe) for v in ("1.0", "2.0"))
    prefix = windows_env(tmp_path / "installer", windows_python)
    result = windows_shimgen.python_code(INSTALLER_INSTALL, windows_path(prefix), windows_path(v1))
    assert result.stdout == "installed\n", result.stderr
    tool, tooly = prefix / "Scripts" / "tool.exe", prefix / "Scripts" / "tooly.exe"
    assert tool.read_bytes() == probe_exe.read_bytes()  # the real program, as pip would leave it
    assert wine.run(tooly).stdout == "tooly 1.0\n"  # installer's own (distlib-style) launcher

    # Adopting works while the pip-installed program runs (it is renamed aside, never overwritten).
    marker = tmp_path / "original-running"
    original = wine.start(tool, "mark", windows_path(marker), "3000")
    try:
        assert wait_until(marker.exists)
        result = windows_shimgen.cli("adopt", "--prefix", windows_path(prefix))
        assert result.returncode == 0, result.stdout + result.stderr
        assert "adopted tooly 1.0:" in result.stdout and "tool.exe: native program" in result.stdout
        assert "tooly.exe: distlib launcher running tooly:main" in result.stdout
        assert "python.exe" not in result.stdout.split("with Z:")[0]  # the environment's own: not listed
        assert "left alone (owned by no distribution): python.exe" not in result.stdout
    finally:
        out, _ = original.communicate(timeout=60)
    assert original.returncode == 0 and out == "v1.0\n"
    assert wine.run(tool, "sibling", "version.txt").stdout == "v1.0\n"  # now through a launcher
    assert wine.run(tooly).stdout == "tooly 1.0\n"
    assert "nothing to adopt" in windows_shimgen.cli("adopt", "--prefix", windows_path(prefix)).stdout

    # The next upgrade is the one pip could not do: v1 runs (through its launcher) while v2 installs.
    marker = tmp_path / "v1-running"
    running = wine.start(tool, "mark", windows_path(marker), "20000")
    try:
        assert wait_until(marker.exists)
        result = windows_shimgen.cli("install", "--prefix", windows_path(prefix), windows_path(v2))
        assert result.returncode == 0, result.stdout + result.stderr
        assert wine.run(tool, "sibling", "version.txt").stdout == "v2.0\n"
        assert wine.run(tooly).stdout == "tooly 2.0\n"
    finally:
        out, _ = running.communicate(timeout=60)
    assert running.returncode == 0 and out == "v1.0\n"
    result = windows_shimgen.cli("uninstall", "--prefix", windows_path(prefix), "tooly")
    assert result.returncode == 0, result.stderr
    result = windows_shimgen.cli("gc", "--prefix", windows_path(prefix), "--keep", "0")
    assert result.returncode == 0, result.stderr
    assert [
        p for p in prefix.rglob("*") if "tooly" in p.name.lower() or p.name in ("tool.exe", "version.txt")
    ] == []
    assert windows_shimgen.cli("doctor", "--prefix", windows_path(prefix)).returncode == 0


def test_adopt_a_real_pypi_wheel_ruff_installed_by_installer_while_ruff_runs(
    wine: Wine,
    windows_shimgen: WindowsShimgen,
    windows_python: Path,
    ruff_wheel: Path,
    prng_dll: Path,
    tmp_path: Path,
) -> None:
    """ruff's real win_amd64 wheel: installed by pypa/installer, adopted while ruff runs, then removed."""
    prefix = windows_env(tmp_path / "ruff", windows_python)
    result = windows_shimgen.python_code(INSTALLER_INSTALL, windows_path(prefix), windows_path(ruff_wheel))
    assert result.stdout == "installed\n", result.stderr
    ruff = prefix / "Scripts" / "ruff.exe"
    real_ruff = ruff.read_bytes()
    prng = {"WINEPATH": windows_path(prng_dll.parent)}  # test-only: Wine 8 lacks ProcessPrng

    def start_ruff() -> subprocess.Popen[str]:
        """ruff checking a file it reads from stdin: it runs until stdin closes."""
        check = ("check", "--no-cache", "--stdin-filename", "x.py", "-")
        running = wine.start(ruff, *check, extra_env=prng, stdin=subprocess.PIPE)
        time.sleep(2)
        assert running.poll() is None, running.communicate()
        return running

    def finish(running: subprocess.Popen[str]) -> None:
        out, err = running.communicate("import os\n", timeout=120)
        assert running.returncode == 1 and "F401" in out, out + err  # the ruff that started, still right

    running = start_ruff()
    try:
        result = windows_shimgen.cli("adopt", "--prefix", windows_path(prefix))
        assert result.returncode == 0, result.stdout + result.stderr
        assert "adopted ruff 0.17.6:" in result.stdout and "ruff.exe: native program" in result.stdout
    finally:
        finish(running)
    launcher = ruff.read_bytes()
    assert len(launcher) < 16384 and launcher != real_ruff
    (entry,) = (prefix / ".shimgen" / "store" / "ruff").iterdir()
    assert (entry / "ruff.exe").read_bytes() == real_ruff
    result = wine.run(ruff, "--version", extra_env=prng)
    assert (result.returncode, result.stdout) == (0, "ruff 0.17.6\n"), result.stderr
    rows = assert_record_is_true(next((prefix / "Lib" / "site-packages").glob("ruff-*.dist-info")))
    assert rows["../../Scripts/ruff.exe"][1] == record_hash(launcher)
    assert "nothing to adopt" in windows_shimgen.cli("adopt", "--prefix", windows_path(prefix)).stdout
    assert windows_shimgen.cli("doctor", "--prefix", windows_path(prefix)).returncode == 0

    running = start_ruff()  # now through shimgen's launcher
    try:
        result = windows_shimgen.cli("uninstall", "--prefix", windows_path(prefix), "ruff")
        assert result.returncode == 0, result.stdout + result.stderr
        assert not ruff.exists()
    finally:
        finish(running)
    result = windows_shimgen.cli("gc", "--prefix", windows_path(prefix), "--keep", "0")
    assert result.returncode == 0, result.stderr
    assert [p for p in prefix.rglob("*") if "ruff" in p.name.lower()] == []
    assert windows_shimgen.cli("doctor", "--prefix", windows_path(prefix)).returncode == 0


def batch_wheel(folder: Path, version: str) -> Path:
    """A wheel whose only script is a batch file: no program, so it goes into Scripts as pip puts it.
    Run with a marker path, it says its version, then waits in the environment's Python."""
    batch = (
        "@echo off\r\n"
        f"echo tool {version}\r\n"
        'if not "%~1"=="" "%~dp0python.exe" -c '
        '"import sys, time; open(sys.argv[1], \'w\'); time.sleep(20)" "%~1"\r\n'
    )
    folder.mkdir(parents=True, exist_ok=True)
    files = {"tooly/__init__.py": b"", f"tooly-{version}.data/scripts/tool.bat": batch.encode()}
    return build_wheel(folder, "tooly", version, files, platform="win_amd64")


def test_a_batch_script_goes_into_scripts_and_is_upgraded_while_it_runs(
    wine: Wine, windows_shimgen: WindowsShimgen, windows_python: Path, tmp_path: Path, wait_until
) -> None:
    """cmd reads a running batch file and does not lock it (only programs and DLLs are mapped), so
    shimgen writes it in place, journaled like a library file, even while it runs."""
    prefix = windows_env(tmp_path, windows_python)
    v1, v2 = (batch_wheel(tmp_path / f"wheels-{v}", v) for v in ("1.0", "2.0"))
    result = windows_shimgen.cli("install", "--prefix", windows_path(prefix), windows_path(v1))
    assert result.returncode == 0 and result.stdout == "installed tooly 1.0\n", result.stdout + result.stderr
    batch = prefix / "Scripts" / "tool.bat"
    said = wine.run("cmd", "/c", windows_path(batch))
    assert said.stdout.strip() == "tool 1.0", said.stdout + said.stderr

    marker = tmp_path / "batch-running"
    running = wine.start("cmd", "/c", windows_path(batch), windows_path(marker))
    try:
        assert wait_until(marker.exists)
        result = windows_shimgen.cli("install", "--prefix", windows_path(prefix), windows_path(v2))
        assert result.returncode == 0, result.stdout + result.stderr
        assert running.poll() is None  # the upgrade happened while the batch file ran
    finally:
        running.kill()
    assert wine.run("cmd", "/c", windows_path(batch)).stdout.strip() == "tool 2.0"
    assert_record_is_true(prefix / "Lib" / "site-packages" / "tooly-2.0.dist-info")
    result = windows_shimgen.cli("uninstall", "--prefix", windows_path(prefix), "tooly")
    assert result.returncode == 0 and not batch.exists(), result.stdout + result.stderr
