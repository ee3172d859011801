"""The Wine tests' fixtures: a Wine session, test programs, Windows CPython running shimgen, ruff and
uv (made by the harness, tests/wine/helpers.py), and a Windows-layout environment."""

from __future__ import annotations

import os
import shutil
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.wine.helpers import (
    CACHE,
    RUFF,
    Env,
    WindowsShimgen,
    Wine,
    compile_program,
    ensure_windows_python,
    make_windows_shimgen,
    make_wine,
    pip_download,
)
from tests.wine.xvfb import virtual_display


@pytest.fixture(scope="session")
def wine() -> Iterator[Wine]:
    if shutil.which("wine") is None:
        pytest.fail("wine is not installed: run ./dev test, which installs Debian's wine", pytrace=False)
    with virtual_display() as display:
        wine = make_wine(display=display)
        yield wine
        wine.stop()


@pytest.fixture(scope="session")
def probe_exe() -> Path:
    return compile_program(
        "probe.c", "probe.exe", libraries=["kernel32", "shell32", "user32"], entry="probe_main"
    )


@pytest.fixture(scope="session")
def prng_dll() -> Path:
    return compile_program(
        "prng.c", "bcryptprimitives.dll", shared=True, libraries=["kernel32", "advapi32"], entry="prng_entry"
    )


@pytest.fixture(scope="session")
def windows_python() -> Path:
    return ensure_windows_python()


@pytest.fixture(scope="session")
def windows_shimgen(wine: Wine, windows_python: Path) -> WindowsShimgen:
    return make_windows_shimgen(wine, windows_python)


@pytest.fixture(scope="session")
def ruff_wheel() -> Path:
    """ruff's win_amd64 wheel from PyPI: a real wheel carrying a Rust-built Windows tool."""
    return next(pip_download(RUFF, "--only-binary", ":all:", "--platform", "win_amd64").glob("*.whl"))


@pytest.fixture(scope="session")
def ruff_exe(ruff_wheel: Path) -> Path:
    """ruff.exe out of ruff's wheel."""
    folder = CACHE / RUFF.replace("==", "-")
    if not (folder / "ruff.exe").exists():
        with zipfile.ZipFile(ruff_wheel) as archive:
            member = next(n for n in archive.namelist() if n.endswith("/scripts/ruff.exe"))
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "ruff.exe.tmp").write_bytes(archive.read(member))
            os.replace(folder / "ruff.exe.tmp", folder / "ruff.exe")
    return folder / "ruff.exe"


@pytest.fixture(scope="session")
def uv_python(windows_python: Path) -> Path:
    """The embeddable CPython without _wmi.pyd.

    uv's interpreter query calls ``platform``, which in 3.13 asks WMI through _wmi.pyd, which calls
    propsys.dll's VariantToString: unimplemented in Wine 8, so Wine aborts and starts its debugger
    (uv hangs). Without _wmi, ``platform`` falls back to sys.getwindowsversion().
    """
    home = CACHE / (windows_python.name + "-no-wmi")
    if not (home / "python.exe").exists():
        scratch = home.with_name(home.name + ".partial")
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.copytree(windows_python, scratch, ignore=shutil.ignore_patterns("_wmi.pyd"))
        os.replace(scratch, home)
    return home


@pytest.fixture
def env(tmp_path: Path) -> Env:
    prefix = tmp_path / "my env"  # a space: the common case on Windows, not an edge case
    (prefix / "Scripts").mkdir(parents=True)
    return Env(prefix)


@pytest.fixture
def wait_until() -> Iterator[object]:
    def wait(predicate, timeout: float = 30.0, interval: float = 0.1) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(interval)
        return bool(predicate())

    yield wait
