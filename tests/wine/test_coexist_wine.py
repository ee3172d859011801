"""Beside uv and pip on Windows, for real: uv.exe and pip (PyPI's wheels) under Wine, a venv made by
``uv venv``, shimgen run by Windows CPython, and tools running while their distribution changes.

The tool: a native program (``tool-native.exe``, with ``version.txt`` beside it) and a Python entry
point (``tool``) whose module keeps a DLL of its package loaded while it runs. While either runs,
Windows (and Wine) refuse to delete or replace its launcher, and the running Python refuses the
deletion of the DLL; that is the "Access is denied (os error 5)" users meet.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from shimgen.launcher import FileKind, identify
from tests.helpers.wheels import assert_record_follows_rule, build_wheel
from tests.wine.helpers import (
    WindowsShimgen,
    Wine,
    compile_program,
    pip_download,
    uv_exe,
    windows_path,
    wine_command,
)

pytestmark = pytest.mark.wine

UV_VERSION = "0.13.9"
PIP = "pip==26.3"
ENTRY_POINTS = "[console_scripts]\ntool = tool:main\n"


def tool_module(version: str) -> bytes:
    return (
        "import ctypes, os, sys, time\n"
        "def main():\n"
        "    if sys.argv[1:2] == ['wait']:\n"
        "        ctypes.WinDLL(os.path.join(os.path.dirname(__file__), 'helper.dll'))  # kept loaded\n"
        "        open(sys.argv[2] + '.started', 'w').close()\n"
        "        while not os.path.exists(sys.argv[2]):\n"
        "            time.sleep(0.05)\n"
        f"    print('tool {version}')\n"
    ).encode()


@pytest.fixture(scope="module")
def waiter_exe() -> Path:
    return compile_program("waiter.c", "waiter.exe", libraries=["kernel32", "shell32"], entry="waiter_main")


@dataclass
class World:
    """One test's Windows venv, its wheels and the programs that act on it."""

    wine: Wine
    shimgen: WindowsShimgen
    prefix: Path
    root: Path
    prng_dll: Path
    waiter: Path

    @property
    def scripts(self) -> Path:
        return self.prefix / "Scripts"

    @property
    def env(self) -> dict[str, str]:
        """What uv.exe needs under Wine: the test ProcessPrng DLL, an own cache, no user config."""
        return {
            "WINEPATH": windows_path(self.prng_dll.parent),
            "UV_CACHE_DIR": windows_path(self.root / "uv-cache"),
            "UV_NO_CONFIG": "1",
            "UV_OFFLINE": "1",
            "UV_PYTHON_DOWNLOADS": "never",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        }

    def wheel(self, version: str, padding: int = 0) -> Path:
        files = {
            "tool/__init__.py": tool_module(version),
            "tool/helper.dll": self.prng_dll.read_bytes(),
            f"tool-{version}.data/scripts/tool-native.exe": self.waiter.read_bytes(),
            f"tool-{version}.data/scripts/version.txt": f"native {version}\n".encode(),
        }
        for index in range(padding):
            files[f"tool/padding/file{index}.py"] = b"# padding\n" * 20
        folder = self.root / f"wheels-{version}-{padding}"
        folder.mkdir(exist_ok=True)
        return build_wheel(folder, "tool", version, files, entry_points=ENTRY_POINTS)

    def uv_args(self, *args: str) -> list[str]:
        """``uv pip ARGS`` against this venv, offline, copying (Wine 8 cannot make uv's links)."""
        python = windows_path(self.scripts / "python.exe")
        return ["pip", *args, "--python", python, "--no-index", "--no-deps", "--link-mode", "copy"]

    def uv(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = self.wine.run(uv_exe(UV_VERSION), *args, cwd=self.root, timeout=180, extra_env=self.env)
        assert not check or result.returncode == 0, (args, result.stdout, result.stderr)
        return result

    def pip(self, *args: str) -> subprocess.CompletedProcess[str]:
        python = self.scripts / "python.exe"
        return self.wine.run(python, "-m", "pip", *args, cwd=self.root, timeout=300, extra_env=self.env)

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = self.shimgen.cli(*args, extra_env=self.env)
        assert not check or result.returncode == 0, (args, result.stdout, result.stderr)
        return result

    def run(self, *command: str) -> subprocess.CompletedProcess[str]:
        """``shimgen run --prefix VENV -- COMMAND``."""
        return self.cli("run", "--prefix", windows_path(self.prefix), "--", *command, check=False)

    def sync(self) -> subprocess.CompletedProcess[str]:
        return self.cli("sync", "--prefix", windows_path(self.prefix))

    def doctor_clean(self) -> None:
        result = self.cli("doctor", "--prefix", windows_path(self.prefix), check=False)
        assert result.returncode == 0, result.stdout

    def versions(self) -> dict[str, str]:
        """What each command runs now, started afresh (the native one told to finish at once)."""
        done = self.root / "done"
        done.touch()
        native = self.wine.run(self.scripts / "tool-native.exe", windows_path(done), timeout=60)
        python = self.wine.run(self.scripts / "tool.exe", timeout=60)
        assert native.returncode == 0 and python.returncode == 0, (native.stderr, python.stderr)
        return {"tool-native": native.stdout.strip(), "tool": python.stdout.strip()}

    def installed(self) -> list[str]:
        return sorted(p.name for p in (self.prefix / "Lib" / "site-packages").glob("tool-*.dist-info"))


class Running:
    """The commands started through their launchers (both, or the Python one), each waiting for its
    own go file."""

    def __init__(self, world: World, name: str, *, native: bool = True) -> None:
        self.world = world
        self.native_go = world.root / f"{name}-native"
        self.python_go = world.root / f"{name}-python"
        self.processes = {}
        if native:
            self.processes["native"] = world.wine.start(
                world.scripts / "tool-native.exe", windows_path(self.native_go)
            )
        self.processes["python"] = world.wine.start(
            world.scripts / "tool.exe", "wait", windows_path(self.python_go)
        )
        for go in (self.native_go, self.python_go) if native else (self.python_go,):
            started = go.with_name(go.name + ".started")
            assert wait_for(started.exists, 60), {k: p.poll() for k, p in self.processes.items()}

    def still_running(self) -> bool:
        return all(process.poll() is None for process in self.processes.values())

    def finish(self) -> tuple[str, ...]:
        """Let them end; what each printed (the version it started as)."""
        self.native_go.touch()
        self.python_go.touch()
        printed = []
        for process in self.processes.values():
            out, err = process.communicate(timeout=60)
            assert process.returncode == 0, err
            printed.append(out.strip())
        return tuple(printed)


def wait_for(predicate, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return bool(predicate())


@pytest.fixture
def world(
    wine: Wine,
    windows_shimgen: WindowsShimgen,
    uv_python: Path,
    prng_dll: Path,
    waiter_exe: Path,
    tmp_path: Path,
) -> Iterator[World]:
    """A venv made by ``uv venv``, tool 1.0 installed by uv, then ``shimgen sync``."""
    world = World(wine, windows_shimgen, tmp_path / "my venv", tmp_path, prng_dll, waiter_exe)
    world.uv("venv", "--python", windows_path(uv_python / "python.exe"), windows_path(world.prefix))
    world.uv(*world.uv_args("install", windows_path(world.wheel("1.0"))))
    assert identify((world.scripts / "tool.exe").read_bytes()).kind is FileKind.OTHER_PE  # uv's trampoline
    result = world.sync()
    assert "adopted tool 1.0:" in result.stdout, result.stdout
    assert world.versions() == {"tool-native": "native 1.0", "tool": "tool 1.0"}
    # One file with two names: whichever command runs, neither launcher can be deleted.
    assert os.path.samefile(world.scripts / "tool.exe", world.scripts / "tool-native.exe")
    yield world


def assert_upgraded(world: World, running: Running) -> None:
    assert running.still_running()  # the upgrade did not stop them
    assert running.finish() == ("native 1.0", "tool 1.0")  # each ends as the version it started as
    assert world.versions() == {"tool-native": "native 2.0", "tool": "tool 2.0"}
    assert world.installed() == ["tool-2.0.dist-info"]
    info = world.prefix / "Lib" / "site-packages" / "tool-2.0.dist-info"
    assert assert_record_follows_rule(info)[:2] == ["../../Scripts/tool-native.exe", "../../Scripts/tool.exe"]
    world.doctor_clean()
    assert "in sync: nothing to adopt or repair" in world.sync().stdout  # a second sync changes nothing
    world.cli("gc", "--prefix", windows_path(world.prefix), "--keep", "0")
    assert [p.name[:3] for p in (world.prefix / ".shimgen" / "store" / "tool").iterdir()] == ["2.0"]


def test_uv_upgrade_through_shimgen_run_while_both_tools_run(world: World) -> None:
    running = Running(world, "a")
    result = world.run(
        windows_path(uv_exe(UV_VERSION)), *world.uv_args("install", windows_path(world.wheel("2.0")))
    )
    assert result.returncode == 0, result.stderr
    # The two names of the running launcher file, and the DLL the running Python loaded.
    assert "shimgen: moved 3 running file(s) out of the installer's way" in result.stderr
    assert "shimgen: adopted tool 2.0:" in result.stderr
    assert_upgraded(world, running)


def test_pip_upgrade_through_shimgen_run_while_both_tools_run(world: World) -> None:
    pip_wheel = next(pip_download(PIP, "--only-binary", ":all:").glob("*.whl"))
    world.uv(*world.uv_args("install", windows_path(pip_wheel)))
    world.sync()
    running = Running(world, "b")
    python = windows_path(world.scripts / "python.exe")
    result = world.run(
        python, "-m", "pip", "install", "--no-index", "--no-deps", windows_path(world.wheel("2.0"))
    )
    assert result.returncode == 0, result.stderr
    assert_upgraded(world, running)


def test_uv_uninstall_through_shimgen_run_while_the_tool_runs(world: World) -> None:
    running = Running(world, "c")
    python = windows_path(world.scripts / "python.exe")
    result = world.run(windows_path(uv_exe(UV_VERSION)), "pip", "uninstall", "--python", python, "tool")
    assert result.returncode == 0, result.stderr
    assert "shimgen: removed tool (no longer installed): commands tool, tool-native" in result.stderr
    assert running.still_running() and running.finish() == ("native 1.0", "tool 1.0")
    assert world.installed() == [] and not list(world.scripts.glob("tool*.exe"))
    world.doctor_clean()
    world.cli("gc", "--prefix", windows_path(world.prefix), "--keep", "0")
    assert list((world.prefix / ".shimgen" / "store").iterdir()) == []


def test_bare_uv_upgrade_while_a_tool_runs_changes_nothing_then_works_after(world: World) -> None:
    """Without shimgen run: uv's uninstall meets the running launcher on RECORD's first row and stops
    before it has deleted anything, so every command still runs the old version. Only ``tool`` runs,
    and RECORD's first row is ``tool-native.exe``: another name of the same running file."""
    running = Running(world, "d", native=False)
    result = world.uv(*world.uv_args("install", windows_path(world.wheel("2.0"))), check=False)
    assert result.returncode != 0 and "tool-native.exe" in result.stderr, result.stderr
    assert "os error 5" in result.stderr
    assert world.installed() == ["tool-1.0.dist-info"]
    assert world.versions() == {"tool-native": "native 1.0", "tool": "tool 1.0"}
    assert "in sync: nothing to adopt or repair" in world.sync().stdout
    world.doctor_clean()
    assert running.finish() == ("tool 1.0",)
    world.uv(*world.uv_args("install", windows_path(world.wheel("2.0"))))  # nothing runs now: it works
    assert "adopted tool 2.0:" in world.sync().stdout
    assert world.versions() == {"tool-native": "native 2.0", "tool": "tool 2.0"}
    world.doctor_clean()


def test_bare_pip_upgrade_while_a_tool_runs_then_sync(world: World) -> None:
    """pip renames what it removes, which a running launcher and a loaded DLL allow: its upgrade
    succeeds, puts its own programs in Scripts (the commands run 2.0 at once), and sync adopts them.

    (On Windows, pip stashes single files in %TEMP%: on another drive than the venv that rename
    fails for a running file and pip rolls back. Wine maps every drive onto one Linux filesystem,
    so that failure cannot be shown here.)
    """
    pip_wheel = next(pip_download(PIP, "--only-binary", ":all:").glob("*.whl"))
    world.uv(*world.uv_args("install", windows_path(pip_wheel)))
    world.sync()
    running = Running(world, "e")
    result = world.pip("install", "--no-index", "--no-deps", windows_path(world.wheel("2.0")))
    assert result.returncode == 0, result.stderr
    assert world.versions() == {"tool-native": "native 2.0", "tool": "tool 2.0"}
    assert identify((world.scripts / "tool.exe").read_bytes()).kind is FileKind.OTHER_PE  # pip's launcher
    assert "adopted tool 2.0:" in world.sync().stdout
    assert identify((world.scripts / "tool.exe").read_bytes()).kind is FileKind.SHIMGEN_LAUNCHER
    world.doctor_clean()
    assert world.versions() == {"tool-native": "native 2.0", "tool": "tool 2.0"}
    assert running.still_running() and running.finish() == ("native 1.0", "tool 1.0")


def test_uv_in_the_venv_upgrades_the_venv_and_itself(world: World) -> None:
    """uv installed in the venv (adopted: Scripts\\uv.exe is a launcher) is found on PATH by shimgen
    run, which runs its target directly, so uv's own launcher is not running while uv works."""
    uv_wheel = next(
        pip_download(f"uv=={UV_VERSION}", "--only-binary", ":all:", "--platform", "win_amd64").glob("*.whl")
    )
    world.uv(*world.uv_args("install", windows_path(uv_wheel)))
    assert "adopted uv 0.13.9:" in world.sync().stdout
    assert identify((world.scripts / "uv.exe").read_bytes()).kind is FileKind.SHIMGEN_LAUNCHER
    on_path = {"WINEPATH": f"{windows_path(world.scripts)};{windows_path(world.prng_dll.parent)}"}
    running = Running(world, "f")
    command = ["run", "--prefix", windows_path(world.prefix), "--", "uv"]
    result = world.shimgen.cli(
        *command,
        *world.uv_args("install", windows_path(world.wheel("2.0"))),
        extra_env={**world.env, **on_path},
    )
    assert result.returncode == 0, result.stderr
    assert_upgraded(world, running)
    result = world.shimgen.cli(
        *command,
        *world.uv_args("install", "--reinstall", windows_path(uv_wheel)),
        extra_env={**world.env, **on_path},
    )
    assert result.returncode == 0, result.stderr
    assert identify((world.scripts / "uv.exe").read_bytes()).kind is FileKind.SHIMGEN_LAUNCHER
    version = world.wine.run(world.scripts / "uv.exe", "--version", extra_env=world.env)
    assert version.stdout.startswith(f"uv {UV_VERSION}"), version.stderr
    world.doctor_clean()


def test_uv_killed_halfway_then_sync(world: World) -> None:
    """uv.exe killed during an upgrade (nothing running): sync either leaves a consistent venv, or
    names the reinstall that makes it one."""
    wheel = world.wheel("2.0", padding=400)
    site = world.prefix / "Lib" / "site-packages"
    process = subprocess.Popen(
        wine_command(uv_exe(UV_VERSION), *world.uv_args("install", windows_path(wheel))),
        env={**world.wine.env, **world.env},
        cwd=world.root,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert wait_for(lambda: not (site / "tool-1.0.dist-info").exists() or process.poll() is not None, 120)
    process.send_signal(signal.SIGKILL)
    process.wait()
    subprocess.run(["pkill", "-KILL", "-f", "uv.exe"], check=False)
    result = world.cli("sync", "--prefix", windows_path(world.prefix), check=False)
    if result.returncode != 0:
        assert "uv pip install --reinstall tool" in result.stdout, result.stdout
        world.uv(*world.uv_args("install", "--reinstall", windows_path(wheel)))
        world.sync()
    if not world.installed():
        assert not list(world.scripts.glob("tool*.exe"))
        world.uv(*world.uv_args("install", windows_path(wheel)))
        world.sync()
    world.doctor_clean()
    version = world.installed()[0][len("tool-") : -len(".dist-info")]
    assert world.versions() == {"tool-native": f"native {version}", "tool": f"tool {version}"}


def test_shimgen_run_killed_while_its_installer_runs_then_sync_puts_back(world: World) -> None:
    """kill -9 of shimgen while the installer runs, with the running files moved aside: the next sync
    puts them back from the journal (RECORD still lists them, their places are empty)."""
    running = Running(world, "g")
    go = world.root / "installer-go"
    command = [
        "run",
        "--prefix",
        windows_path(world.prefix),
        "--",
        windows_path(world.waiter),
        windows_path(go),
    ]
    shimgen = world.shimgen.start_code("from shimgen.cli import main\nmain(prog_name='shimgen')\n", *command)
    try:
        assert wait_for(go.with_name(go.name + ".started").exists, 120), shimgen.poll()
        assert (world.prefix / ".shimgen" / "stash.json").is_file()
        assert not (world.scripts / "tool.exe").exists()  # moved aside while the installer runs
        shimgen.send_signal(signal.SIGKILL)
        shimgen.wait(timeout=60)
    finally:
        go.touch()  # the "installer" ends too
    result = world.sync()
    assert "put back (a killed 'shimgen run' had moved it aside)" in result.stdout, result.stdout
    assert not (world.prefix / ".shimgen" / "stash.json").exists()
    assert os.path.samefile(world.scripts / "tool.exe", world.scripts / "tool-native.exe")
    assert (world.prefix / "Lib" / "site-packages" / "tool" / "helper.dll").is_file()
    world.doctor_clean()
    assert world.versions() == {"tool-native": "native 1.0", "tool": "tool 1.0"}
    assert running.finish() == ("native 1.0", "tool 1.0")


def test_commands_are_found_as_windows_finds_them(world: World) -> None:
    """PATH in order, each PATHEXT; a name with its extension; never the current folder unless PATH
    names it; a folder with a space."""
    bin_dir = world.root / "tools dir"
    bin_dir.mkdir()
    (bin_dir / "fake.CMD").write_text("@echo off\n")
    (bin_dir / "fake.exe").write_bytes(world.waiter.read_bytes())
    (world.root / "planted.exe").write_bytes(world.waiter.read_bytes())
    code = (
        "import os, sys\n"
        "from shimgen.run import find_command\n"
        "env = {'PATH': sys.argv[1], 'PATHEXT': '.COM;.EXE;.BAT;.CMD'}\n"
        "os.chdir(sys.argv[2])\n"
        "for name in ('fake', 'fake.cmd', 'planted', 'nothing'):\n"
        "    found = find_command(name, env)\n"
        "    print(name, found.name if found else None)\n"
    )
    path = f"C:\\windows\\system32;{windows_path(bin_dir)}"
    result = world.shimgen.python_code(code, path, windows_path(world.root))
    assert result.stdout.splitlines() == [
        "fake fake.exe",
        "fake.cmd fake.cmd",  # as typed: Windows names ignore case
        "planted None",
        "nothing None",
    ], result.stderr


def test_the_readme_story_as_a_user_types_it(
    wine: Wine,
    windows_shimgen: WindowsShimgen,
    uv_python: Path,
    prng_dll: Path,
    waiter_exe: Path,
    tmp_path: Path,
) -> None:
    """README, "With uv and pip": in a project folder, no --prefix anywhere (the venv is the
    project's .venv, found from a folder below it), uv venv, uv pip install, shimgen sync, the
    tool running, shimgen run -- uv pip install -U, the new version, shimgen gc."""
    project = tmp_path / "my project"
    (project / "src").mkdir(parents=True)
    world = World(wine, windows_shimgen, project / ".venv", tmp_path, prng_dll, waiter_exe)
    uv = windows_path(uv_exe(UV_VERSION))
    env = {**world.env, "VIRTUAL_ENV": ""}
    shimgen = lambda *args: windows_shimgen.cli(*args, extra_env=env, cwd=project / "src")  # noqa: E731

    assert (
        wine.run(
            uv_exe(UV_VERSION),
            "venv",
            "--python",
            windows_path(uv_python / "python.exe"),
            cwd=project,
            extra_env=env,
        ).returncode
        == 0
    )
    assert (
        wine.run(
            uv_exe(UV_VERSION),
            "pip",
            "install",
            "--no-deps",
            "--link-mode",
            "copy",
            windows_path(world.wheel("1.0")),
            cwd=project,
            extra_env=env,
        ).returncode
        == 0
    )
    result = shimgen("sync")
    assert result.returncode == 0 and "adopted tool 1.0:" in result.stdout, result.stderr
    running = Running(world, "readme")
    result = shimgen(
        "run",
        "--",
        uv,
        "pip",
        "install",
        "-U",
        "--no-deps",
        "--link-mode",
        "copy",
        windows_path(world.wheel("2.0")),
    )
    assert result.returncode == 0, result.stderr
    assert world.versions() == {"tool-native": "native 2.0", "tool": "tool 2.0"}
    assert running.finish() == ("native 1.0", "tool 1.0")
    assert shimgen("gc").returncode == 0
    assert shimgen("doctor").returncode == 0
