"""Beside uv and pip, natively: a real POSIX venv, real Linux uv (PyPI's wheel) and real pip.

The same stories the Wine tests tell on Windows (tests/wine/test_coexist_wine.py): install with
uv or pip, ``shimgen sync``, upgrade while the tool runs (through ``shimgen run`` and bare),
uninstall, uv in the environment itself, an installer killed halfway. POSIX lets running files
be replaced, so what these show is the bookkeeping: RECORD's rule, sync's repairs, doctor clean,
the command running the installed version.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shimgen.doctor import PROBLEM, doctor
from shimgen.store import Store
from tests.helpers.cli import pip, run, shimgen_run
from tests.helpers.environments import site_of
from tests.helpers.wheels import assert_record_follows_rule, build_wheel

UV = Path(sys.executable).with_name("uv")

ENTRY_POINTS = "[console_scripts]\ntool = tool:main\n"


def tool_wheel(folder: Path, version: str, *, padding: int = 0) -> Path:
    """A wheel with a Python entry point (``tool``) and a native program (``tool-native``).

    ``tool wait FILE`` prints its version once FILE exists (so a test knows it ran before an
    upgrade and finished after it). ``padding`` adds that many library files (a slow install).
    """
    module = (
        "import os, sys, time\n"
        "def main():\n"
        "    if sys.argv[1:2] == ['wait']:\n"
        "        open(sys.argv[2] + '.started', 'w').close()\n"
        "        while not os.path.exists(sys.argv[2]):\n"
        "            time.sleep(0.02)\n"
        f"    print('tool {version}')\n"
    )
    files = {"tool/__init__.py": module.encode()}
    files[f"tool-{version}.data/scripts/tool-native"] = f"#!/bin/sh\necho native {version}\n".encode()
    for index in range(padding):
        files[f"tool/padding/file{index}.py"] = b"# padding\n" * 20
    folder.mkdir(parents=True, exist_ok=True)
    return build_wheel(folder, "tool", version, files, entry_points=ENTRY_POINTS)


def uv(venv: Path, *args: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Linux uv acting on ``venv``, offline, with a cache of the test's own."""
    command = [str(UV), *map(str, args)]
    if args[:1] == ("pip",):
        command += ["--python", str(venv / "bin" / "python"), "--offline", "--no-index", "--no-deps"]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "UV_CACHE_DIR": str(venv.parent / "uv-cache"), "UV_NO_CONFIG": "1"},
    )
    assert not check or result.returncode == 0, (command, result.stdout, result.stderr)
    return result


def output(program: Path, *args: str) -> str:
    return subprocess.run([program, *args], capture_output=True, text=True, timeout=60, check=True).stdout


def assert_clean(venv: Path, version: str | None) -> None:
    """doctor finds no problem; the commands run ``version`` (None: gone), as site-packages says."""
    assert [f for f in doctor(Store(venv)) if f.severity == PROBLEM] == []
    infos = sorted(site_of(venv).glob("tool-*.dist-info"))
    if version is None:
        assert infos == [] and not os.path.lexists(venv / "bin" / "tool")
        assert not os.path.lexists(venv / "bin" / "tool-native")
        return
    assert [i.name for i in infos] == [f"tool-{version}.dist-info"]
    assert assert_record_follows_rule(infos[0])[:2] == ["../../../bin/tool", "../../../bin/tool-native"]
    assert output(venv / "bin" / "tool") == f"tool {version}\n"
    assert output(venv / "bin" / "tool-native") == f"native {version}\n"
    assert (venv / "bin" / "tool").is_symlink() and (venv / "bin" / "tool-native").is_symlink()


class Running:
    """``bin/tool wait FILE`` started now; ``finish()`` lets it print its version and returns it."""

    def __init__(self, venv: Path) -> None:
        self.marker = venv.parent / f"go-{time.monotonic_ns()}"
        self.process = subprocess.Popen(
            [venv / "bin" / "tool", "wait", str(self.marker)], stdout=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 30
        while not self.marker.with_name(self.marker.name + ".started").exists():
            assert time.monotonic() < deadline and self.process.poll() is None
            time.sleep(0.02)

    def finish(self) -> str:
        self.marker.touch()
        out, _ = self.process.communicate(timeout=30)
        assert self.process.returncode == 0
        return out


@pytest.fixture
def synced(tmp_path: Path, venv: Path) -> Path:
    """tool 1.0 installed by uv, then adopted by ``shimgen sync``."""
    uv(venv, "pip", "install", tool_wheel(tmp_path / "w1", "1.0"))
    assert not (venv / "bin" / "tool").is_symlink()  # uv's own script
    code, out, err = run("sync", "--prefix", venv)
    assert code == 0 and "adopted tool 1.0:" in out, (out, err)
    assert_clean(venv, "1.0")
    return venv


def test_upgrade_through_shimgen_run_with_uv_while_the_tool_runs(tmp_path: Path, synced: Path) -> None:
    running = Running(synced)
    result = shimgen_run(synced, UV, "pip", "install", *uv_args(synced), tool_wheel(tmp_path / "w2", "2.0"))
    assert result.returncode == 0, result.stderr
    assert "shimgen: adopted tool 2.0:" in result.stderr
    assert running.finish() == "tool 1.0\n"  # the running one finished as the version it started as
    assert_clean(synced, "2.0")
    code, out, _ = run("sync", "--prefix", synced)
    assert (code, out) == (0, "in sync: nothing to adopt or repair\n")  # a second sync changes nothing


def uv_args(venv: Path) -> list[str]:
    return ["--python", str(venv / "bin" / "python"), "--offline", "--no-index", "--no-deps"]


def test_upgrade_through_shimgen_run_with_pip(tmp_path: Path, synced: Path) -> None:
    running = Running(synced)
    pip_command = [
        sys.executable,
        "-m",
        "pip",
        "--python",
        synced / "bin" / "python",
        "--disable-pip-version-check",
    ]
    result = shimgen_run(synced, *pip_command, "install", "--no-deps", tool_wheel(tmp_path / "w2", "2.0"))
    assert result.returncode == 0, result.stderr
    assert running.finish() == "tool 1.0\n"
    assert_clean(synced, "2.0")


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_bare_upgrade_then_sync(tmp_path: Path, synced: Path, installer: str) -> None:
    """No wrapper: the installer meets shimgen's RECORD alone; sync takes over afterwards."""
    running = Running(synced)
    v2 = tool_wheel(tmp_path / "w2", "2.0")
    if installer == "uv":
        uv(synced, "pip", "install", v2)
    else:
        result = pip(synced, "install", "--no-deps", v2)
        assert result.returncode == 0, result.stderr
    assert running.finish() == "tool 1.0\n"
    # Before sync, the commands already run the new version (the installer's own scripts).
    assert output(synced / "bin" / "tool") == "tool 2.0\n"
    code, out, err = run("sync", "--prefix", synced)
    assert code == 0 and "adopted tool 2.0:" in out, (out, err)
    assert_clean(synced, "2.0")


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_uninstall_removes_the_commands_and_sync_collects_the_store(synced: Path, installer: str) -> None:
    if installer == "uv":
        result = shimgen_run(synced, UV, "pip", "uninstall", "--python", synced / "bin" / "python", "tool")
    else:
        result = pip(synced, "uninstall", "-y", "tool")
    assert result.returncode == 0, result.stderr
    # The installer deleted the commands (RECORD lists their symlinks, which are their link records);
    # sync drops what the store kept.
    if installer == "pip":  # bare: sync by hand
        code, out, _ = run("sync", "--prefix", synced, "--keep", "0")
        assert code == 0 and "removed tool (no longer installed)\n" in out
    else:
        assert "shimgen: removed tool (no longer installed)\n" in result.stderr
    assert_clean(synced, None)
    assert not (synced / ".shimgen" / "links").exists()
    assert not (synced / ".shimgen" / "dists" / "tool.json").exists()


def test_uv_in_the_environment_upgrades_its_own_environment(tmp_path: Path, synced: Path) -> None:
    """uv installed in the venv, adopted (bin/uv becomes a shim), then run through shimgen run."""
    uv_wheel = next(Path(p) for p in _uv_wheels(tmp_path))
    uv(synced, "pip", "install", uv_wheel)
    code, out, err = run("sync", "--prefix", synced)
    assert code == 0 and "adopted uv 0.13.9:" in out, (out, err)
    own_uv = synced / "bin" / "uv"
    assert own_uv.is_symlink() and output(own_uv, "--version").startswith("uv 0.13.9")
    path = f"{synced / 'bin'}{os.pathsep}{os.environ['PATH']}"
    v2 = tool_wheel(tmp_path / "w2", "2.0")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "shimgen",
            "run",
            "--prefix",
            synced,
            "--",
            "uv",
            "pip",
            "install",
            *uv_args(synced),
            v2,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PATH": path, "UV_CACHE_DIR": str(tmp_path / "uv-cache"), "UV_NO_CONFIG": "1"},
    )
    assert result.returncode == 0, result.stderr
    assert_clean(synced, "2.0")
    # uv reinstalls itself through its own shim.
    result = shimgen_run(synced, own_uv, "pip", "install", "--reinstall", *uv_args(synced), uv_wheel)
    assert result.returncode == 0, result.stderr
    assert own_uv.is_symlink() and output(own_uv, "--version").startswith("uv 0.13.9")
    assert [f for f in doctor(Store(synced)) if f.severity == PROBLEM] == []


def _uv_wheels(tmp_path: Path) -> list[Path]:
    """PyPI's uv wheel for this machine, from pip's cache (the one the test venv installed)."""
    folder = tmp_path / "uv-wheel"
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", folder, "uv==0.13.9"],
        check=True,
        timeout=300,
    )
    return sorted(folder.glob("uv-*.whl"))


def test_an_installer_killed_halfway_then_sync(tmp_path: Path, synced: Path) -> None:
    """uv killed by SIGKILL at several points of an upgrade. After each, sync either leaves a
    consistent environment (doctor clean, the commands run the version site-packages holds), or
    names what it could not bring back and the reinstall that does; following that hint does."""
    wheels = [tool_wheel(tmp_path / f"w{v}", v, padding=1500) for v in ("2.0", "3.0")]
    site = site_of(synced)
    halfway = 0
    for attempt, delay in enumerate((0.0, 0.001, 0.003, 0.006, 0.01, 0.02, 0.05)):
        wheel = wheels[attempt % 2]
        before = sorted(p.name for p in site.glob("tool-*.dist-info"))
        process = subprocess.Popen(
            [UV, "pip", "install", *uv_args(synced), wheel],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "UV_CACHE_DIR": str(tmp_path / "uv-cache"), "UV_NO_CONFIG": "1"},
        )
        deadline = time.monotonic() + 60
        while sorted(p.name for p in site.glob("tool-*.dist-info")) == before and process.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.0005)  # until the upgrade has changed site-packages
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        finished = process.wait() == 0
        code, out, err = run("sync", "--prefix", synced)
        if code != 0:  # what it cannot bring back, it says, with what does: done as a user would
            halfway += 1
            assert "PROBLEM: tool: " in out, (out, err)
            follow_hint(synced, out, wheel)
            code, out, err = run("sync", "--prefix", synced)
            assert code == 0, (out, err)
        elif not finished:
            halfway += bool(list(site.glob("tool-*.data")))  # killed before it cleaned up
        versions = [p.name[len("tool-") : -len(".dist-info")] for p in site.glob("tool-*.dist-info")]
        if not versions:  # killed between the old one's removal and the new one's metadata
            halfway += 1
            assert_clean(synced, None)
            uv(synced, "pip", "install", wheel)
            assert run("sync", "--prefix", synced)[0] == 0
            versions = [wheel.name.split("-")[1]]
        assert_clean(synced, versions[0])
    assert halfway, "no attempt landed in the middle of an install: the test showed nothing"


def follow_hint(venv: Path, out: str, wheel: Path) -> None:
    """Do what sync's hint says: reinstall with uv, or first delete a dist-info no installer can read."""
    if "no installer can uninstall it: delete the folder " in out:
        folder = out.split("delete the folder ", 1)[1].split(", then install", 1)[0]
        assert Path(folder).parent == site_of(venv), out
        shutil.rmtree(folder)
        uv(venv, "pip", "install", wheel)
    else:
        assert "uv pip install --reinstall tool" in out, out
        uv(venv, "pip", "install", "--reinstall", wheel)
