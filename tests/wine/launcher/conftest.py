"""The launcher's Wine tests run once per architecture Wine can run: x64, and x86 under wine32.

arm64 stubs cannot run here; tests/test_stubs.py checks them (and all others) at the PE level.
Every test proves that a program ran by what it printed, never by an exit code alone: a 32-bit
program under a Wine without wine32 exits 0 and prints nothing.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.wine.conftest import ROOT, Env, Wine, compile_program, windows_path

ARCHES = ("x64", "x86")
WINDOWS_LIBRARIES = ["kernel32", "shell32", "user32"]


@dataclass(frozen=True)
class Programs:
    """The test programs (tests/wine/programs/) of one architecture."""

    arch: str
    probe: Path  # probe.c: echo, exit, sleep, spawn... (console)
    console: Path  # console.c: console control events, driver and tool
    gui: Path  # gui.c: message boxes and consoles, a GUI program
    answers: Path  # windows_answers.c: launcher.c with Windows' answers where Wine's differ


@pytest.fixture(scope="session", params=ARCHES)
def arch(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def programs(arch: str, wine: Wine) -> Programs:
    made = Programs(
        arch=arch,
        probe=compile_program(
            "probe.c", "probe.exe", arch=arch, libraries=WINDOWS_LIBRARIES, entry="probe_main"
        ),
        console=compile_program(
            "console.c", "console.exe", arch=arch, libraries=WINDOWS_LIBRARIES, entry="console_main"
        ),
        gui=compile_program(
            "gui.c", "gui.exe", arch=arch, subsystem="windows", libraries=WINDOWS_LIBRARIES, entry="gui_main"
        ),
        answers=compile_program(
            "windows_answers.c",
            "launcher.exe",
            arch=arch,
            libraries=["kernel32"],
            entry="console_entry",
            includes=(ROOT / "launcher_stubs" / "launcher.c",),
        ),
    )
    alive = wine.run(made.probe, "echo", "alive")
    if not alive.stdout.endswith(" echo alive"):
        pytest.fail(
            f"{arch} Windows programs do not run under this Wine (for x86: is wine32 installed? ./dev"
            f" test installs it): exit {alive.returncode}, stdout {alive.stdout!r},"
            f" stderr {alive.stderr[-500:]!r}",
            pytrace=False,
        )
    return made


@pytest.fixture
def env(tmp_path: Path, arch: str) -> Env:
    """An environment whose launchers are of the architecture under test."""
    prefix = tmp_path / "my env"  # a space: the common case on Windows, not an edge case
    (prefix / "Scripts").mkdir(parents=True)
    return Env(prefix, arch)


@pytest.fixture
def unc_share(wine: Wine, tmp_path: Path) -> Iterator[str]:
    r"""tmp_path as the UNC share \\shimgen-tests\<name>: Wine maps dosdevices/unc/HOST/SHARE to a folder."""
    host = wine.prefix / "dosdevices" / "unc" / "shimgen-tests"
    host.mkdir(parents=True, exist_ok=True)
    share = host / tmp_path.name
    share.symlink_to(tmp_path, target_is_directory=True)
    try:
        yield rf"\\shimgen-tests\{tmp_path.name}"
    finally:
        share.unlink()


def run_exact(wine: Wine, runner: Path, tmp_path: Path, application: Path, command_line: str, **options):
    """Start ``application`` with exactly ``command_line`` (CreateProcessW in probe.exe ``runner``)."""
    command_file = tmp_path / "command-line.txt"
    command_file.write_text(command_line, encoding="utf-8")
    return wine.run(runner, "run", windows_path(application), windows_path(command_file), **options)


def one_line_error(result: subprocess.CompletedProcess[str], launcher: str, *needles: str) -> str:
    """Check that stderr is one line naming ``launcher`` and holding every needle; return it."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"shimgen launcher {launcher}: "), lines[0]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]
