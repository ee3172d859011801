"""Wheel tags against the environment: what pip would refuse as "not a supported wheel", shimgen refuses."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from shimgen.errors import ShimgenError
from shimgen.pe import Arch
from shimgen.tags import check_wheel_fits, environment_machines, environment_python
from tests.helpers.cli import run
from tests.helpers.wheels import build_wheel

MACHINE = sysconfig.get_platform().split("-", 1)[-1]


@pytest.mark.parametrize(
    ("tags", "arch", "version", "fits"),
    [
        ("py3-none-any", None, (3, 11), True),
        ("py2.py3-none-any", None, (3, 11), True),
        ("py311-none-any", None, (3, 11), True),
        ("py312-none-any", None, (3, 11), False),
        ("py2-none-any", None, (3, 11), False),
        ("cp311-cp311-win_amd64", Arch.X64, (3, 11), True),
        ("cp312-cp312-win_amd64", Arch.X64, (3, 11), False),
        ("cp37-abi3-win_amd64", Arch.X64, (3, 11), True),
        ("cp312-abi3-win_amd64", Arch.X64, (3, 11), False),
        ("cp311-cp311-win32", Arch.X64, (3, 11), False),
        ("cp311-cp311-win_arm64", Arch.ARM64, (3, 11), True),
        ("cp311-cp311-win_amd64", Arch.ARM64, (3, 11), False),
        ("cp311-cp311-win_amd64", Arch.X64, None, True),  # version unknown: platform only
        ("pp310-pypy310_pp73-win_amd64", Arch.X64, (3, 10), False),
        ("py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64", Arch.X64, (3, 11), False),
        ("py3-none-win_amd64", None, (3, 11), False),
    ],
)
def test_tags(tags: str, arch: Arch | None, version: tuple[int, int] | None, fits: bool) -> None:
    python, abi, platform = tags.split("-")
    if fits:
        check_wheel_fits("x.whl", python, abi, platform, windows_arch=arch, version=version)
    else:
        with pytest.raises(ShimgenError):
            check_wheel_fits("x.whl", python, abi, platform, windows_arch=arch, version=version)


@pytest.mark.skipif(not sysconfig.get_platform().startswith("linux"), reason="Linux platform tags")
def test_linux_platform_tags_for_the_environments_machine(tmp_path: Path) -> None:
    venv = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    machines = environment_machines(venv)  # from the ELF header of its bin/python
    assert machines is not None and MACHINE in machines
    for platform in (
        f"manylinux_2_17_{MACHINE}.manylinux2014_{MACHINE}",
        f"linux_{MACHINE}",
        f"musllinux_1_1_{MACHINE}",
    ):
        check_wheel_fits(
            "x.whl", "cp311", "cp311", platform, windows_arch=None, version=(3, 11), machines=machines
        )
    other = "aarch64" if MACHINE != "aarch64" else "x86_64"
    with pytest.raises(ShimgenError, match=f"built for manylinux_2_17_{other}"):
        check_wheel_fits(
            "x.whl",
            "py3",
            "none",
            f"manylinux_2_17_{other}",
            windows_arch=None,
            version=None,
            machines=machines,
        )
    # A 32-bit Python on a 64-bit kernel takes 32-bit wheels, whatever the kernel says.
    check_wheel_fits("x.whl", "py3", "none", "manylinux2014_i686", windows_arch=None, version=None,
                     machines=("i686", "i386"))  # fmt: skip


@pytest.mark.parametrize(
    ("files", "config"),
    [
        (["bin/pypy3"], "home = /opt/pypy/bin\nversion = 3.10.14\n"),
        (["lib/python3.13t/"], "home = /usr/bin\nversion = 3.13.1\n"),
        (["Scripts/python3.13t.exe"], "home = C:\\Python313\nversion = 3.13.1\n"),
    ],
)
def test_python_tags_are_not_judged_for_pypy_or_free_threaded(
    tmp_path: Path, files: list[str], config: str
) -> None:
    for name in files:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith("/"):
            path.mkdir()
        else:
            path.write_bytes(b"")
    (tmp_path / "pyvenv.cfg").write_text(config)
    assert environment_python(tmp_path) is None


def test_environment_python_reads_pyvenv_cfg(tmp_path: Path) -> None:
    assert environment_python(tmp_path) is None
    (tmp_path / "pyvenv.cfg").write_text("home = /usr/bin\nversion_info = 3.12.1.final.0\n")
    assert environment_python(tmp_path) == (3, 12)


def test_install_refuses_a_wheel_for_another_platform_or_python(tmp_path: Path) -> None:
    posix = tmp_path / "posix"
    (posix / "bin").mkdir(parents=True)
    (posix / "pyvenv.cfg").write_text("version = 3.11.4\n")
    windows_wheel = build_wheel(tmp_path, "tool", "1.0", {"tool.py": b""}, platform="win_amd64")
    code, _, err = run("install", "--prefix", posix, windows_wheel)
    assert code == 1 and "tool-1.0-py3-none-win_amd64.whl is built for win_amd64" in err
    assert not (posix / ".shimgen").exists()

    windows = tmp_path / "windows"
    (windows / "Scripts").mkdir(parents=True)
    (windows / "pyvenv.cfg").write_text("version = 3.11.4\n")
    code, _, err = run("install", "--prefix", windows, "--platform", "win32", windows_wheel)
    assert code == 1 and "this environment is win32" in err
    code, _, err = run("install", "--prefix", windows, "--platform", "win_amd64", windows_wheel)
    assert code == 0, err

    newer = tmp_path / "newer"
    newer.mkdir()
    wheel = build_wheel(newer, "other", "1.0", {"other.py": b""})
    named = wheel.with_name("other-1.0-cp312-cp312-win_amd64.whl")
    wheel.rename(named)
    code, _, err = run("install", "--prefix", windows, named)
    assert code == 1 and "built for Python cp312 (cp312); this environment runs CPython 3.11" in err
