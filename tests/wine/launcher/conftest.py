"""The launcher's Wine tests run once per architecture Wine can run: x64, and x86 under wine32.

arm64 stubs cannot run here; tests/test_launcher.py checks them (and all others) at the PE level.
Every test proves that a program ran by what it printed, never by an exit code alone: a 32-bit
program under a Wine without wine32 exits 0 and prints nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.wine.helpers import ROOT, Env, Wine, compile_program
from tests.wine.launcher.helpers import ARCHES, WINDOWS_LIBRARIES, Programs


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
