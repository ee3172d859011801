"""Wheel tags against the environment: what pip would refuse as "not a supported wheel", shimgen
refuses, and what pip would take, shimgen takes. The environments are described by their facts
(the Python's version, implementation and ABI flags; the platform, machine and C library), fed in
explicitly, or read from real venvs and real programs built for other machines; the cases are
those pip's, packaging's and uv's own tests use (manylinux glibc versions, musllinux, abi3, PyPy,
free-threaded, macOS versions)."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

import packaging
import pytest
from packaging import tags

from shimgen.elf import Libc, read_elf
from shimgen.errors import ShimgenError
from shimgen.pe import Arch
from shimgen.tags import (
    Interpreter,
    PlatformTags,
    check_wheel_fits,
    environment_machines,
    environment_python,
    linux_platform,
    linux_platform_of,
    mac_platform,
    supported_tags,
)
from tests.helpers.cli import run
from tests.helpers.programs import linux_program
from tests.helpers.wheels import build_wheel

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux platform tags")
PACKAGING = tuple(int(part) for part in packaging.__version__.split(".")[:2])


def fits(
    wheel: str, python: Interpreter | None, *, arch: Arch | None = None, platform: PlatformTags | None = None
) -> bool:
    """Whether shimgen takes a wheel named ``wheel`` (its tag part: ``cp311-cp311-win_amd64``)."""
    interpreter, abi, platforms = wheel.split("-")
    try:
        check_wheel_fits(
            f"x-1.0-{wheel}.whl",
            interpreter,
            abi,
            platforms,
            windows_arch=arch,
            version=python,
            machines=platform,
        )
    except ShimgenError as error:
        assert "is not a supported wheel on this platform" in error.message  # pip's reason
        return False
    return True


CP311 = Interpreter((3, 11))


@pytest.mark.parametrize(
    ("wheel", "arch", "python", "expected"),
    [
        ("py3-none-any", None, CP311, True),
        ("py2.py3-none-any", None, CP311, True),
        ("py311-none-any", None, CP311, True),
        ("py30-none-any", None, CP311, True),
        ("py312-none-any", None, CP311, False),
        ("py2-none-any", None, CP311, False),
        ("cp311-none-any", None, CP311, True),
        ("cp311-cp311-win_amd64", Arch.X64, CP311, True),
        ("cp311-none-win_amd64", Arch.X64, CP311, True),
        ("py3-none-win_amd64", Arch.X64, CP311, True),
        ("cp312-cp312-win_amd64", Arch.X64, CP311, False),
        ("cp310-cp310-win_amd64", Arch.X64, CP311, False),
        ("cp37-abi3-win_amd64", Arch.X64, CP311, True),  # the stable ABI: built for 3.7, loads in 3.11
        ("cp312-abi3-win_amd64", Arch.X64, CP311, False),
        ("cp311-cp311-win32", Arch.X64, CP311, False),
        ("cp311-cp311-win32", Arch.X86, CP311, True),  # a 32-bit Python on 64-bit Windows: an x86 layout
        ("cp311-cp311-win_arm64", Arch.ARM64, CP311, True),
        ("cp311-cp311-win_amd64", Arch.ARM64, CP311, False),
        ("cp311-cp311-win_amd64", Arch.X64, None, True),  # version unknown: the platform only
        ("cp311-cp311-win32", Arch.X64, None, False),
        ("pp310-pypy310_pp73-win_amd64", Arch.X64, Interpreter((3, 10)), False),
        ("py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64", Arch.X64, CP311, False),
        ("cp36-cp36m-win_amd64", Arch.X64, Interpreter((3, 6)), True),
        ("cp37-cp37-win_amd64", Arch.X64, Interpreter((3, 7)), False),  # before 3.8 the ABI is cp37m
    ],
)
def test_windows_environments(
    wheel: str, arch: Arch | None, python: Interpreter | None, expected: bool
) -> None:
    assert fits(wheel, python, arch=arch) is expected


def test_free_threaded_cpython() -> None:
    """cp313t loads only extensions built for it: not cp313's, and not the stable ABI (abi3)."""
    python = Interpreter((3, 13), "cp", "t")
    assert python.abis == ["cp313t"]
    assert fits("cp313-cp313t-win_amd64", python, arch=Arch.X64)
    assert fits("cp313-none-win_amd64", python, arch=Arch.X64)
    assert fits("py3-none-any", python, arch=Arch.X64)
    assert not fits("cp313-cp313-win_amd64", python, arch=Arch.X64)
    assert not fits("cp312-abi3-win_amd64", python, arch=Arch.X64)
    assert fits("cp313-cp313-win_amd64", Interpreter((3, 13)), arch=Arch.X64)
    assert not fits("cp313-cp313t-win_amd64", Interpreter((3, 13)), arch=Arch.X64)
    linux = linux_platform("x86_64", Libc("glibc", (2, 39)))
    assert fits("cp313-cp313t-manylinux_2_17_x86_64.manylinux2014_x86_64", python, platform=linux)
    # PEP 803's stable ABI for free-threaded builds (abi3t), judged by packaging 26.1 and later
    assert fits("cp315-abi3t-win_amd64", Interpreter((3, 15), "cp", "t"), arch=Arch.X64) is (
        PACKAGING >= (26, 1)
    )
    assert not fits("cp315-abi3t-win_amd64", Interpreter((3, 15)), arch=Arch.X64)


def test_debug_cpython() -> None:
    python = Interpreter((3, 12), "cp", "d")
    assert python.abis == ["cp312d", "cp312"]
    assert fits("cp312-cp312d-win_amd64", python, arch=Arch.X64)
    assert fits("cp312-cp312-win_amd64", python, arch=Arch.X64)  # a debug build loads release extensions
    assert not fits("cp312-cp312d-win_amd64", Interpreter((3, 12)), arch=Arch.X64)


def test_pypy() -> None:
    python = Interpreter((3, 10), "pp")
    linux = linux_platform("x86_64", Libc("glibc", (2, 35)))
    assert fits("pp310-pypy310_pp73-manylinux_2_17_x86_64.manylinux2014_x86_64", python, platform=linux)
    assert fits("pp310-pypy310_pp73-win_amd64", python, arch=Arch.X64)
    assert fits("pp3-none-any", python, arch=Arch.X64)
    assert fits("py3-none-any", python, arch=Arch.X64)
    assert not fits("pp39-pypy39_pp73-win_amd64", python, arch=Arch.X64)
    assert not fits("cp310-cp310-win_amd64", python, arch=Arch.X64)
    assert not fits("cp37-abi3-win_amd64", python, arch=Arch.X64)  # PyPy has no stable ABI


GLIBC_2_17 = Libc("glibc", (2, 17))


@pytest.mark.parametrize(
    ("wheel", "platform", "expected"),
    [
        (
            "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64",
            linux_platform("x86_64", GLIBC_2_17),
            True,
        ),
        ("cp311-cp311-manylinux2014_x86_64", linux_platform("x86_64", GLIBC_2_17), True),
        ("cp311-cp311-manylinux2010_x86_64", linux_platform("x86_64", GLIBC_2_17), True),
        ("cp311-cp311-manylinux1_x86_64", linux_platform("x86_64", GLIBC_2_17), True),
        ("cp311-cp311-manylinux_2_5_x86_64", linux_platform("x86_64", GLIBC_2_17), True),
        ("cp311-cp311-linux_x86_64", linux_platform("x86_64", GLIBC_2_17), True),
        ("cp311-cp311-manylinux_2_28_x86_64", linux_platform("x86_64", GLIBC_2_17), False),
        ("cp311-cp311-manylinux_2_28_x86_64", linux_platform("x86_64", Libc("glibc", (2, 28))), True),
        ("cp311-cp311-manylinux_2_34_x86_64", linux_platform("x86_64", Libc("glibc", (2, 28))), False),
        ("cp311-cp311-musllinux_1_1_x86_64", linux_platform("x86_64", GLIBC_2_17), False),
        ("cp311-cp311-manylinux2014_aarch64", linux_platform("x86_64", GLIBC_2_17), False),
        ("cp311-cp311-manylinux2014_aarch64", linux_platform("aarch64", GLIBC_2_17), True),
        ("cp311-cp311-manylinux2010_aarch64", linux_platform("aarch64", GLIBC_2_17), False),  # no such target
        ("cp311-cp311-manylinux2014_i686", linux_platform("i686", GLIBC_2_17), True),
        ("cp311-cp311-manylinux2014_x86_64", linux_platform("i686", GLIBC_2_17), False),
        ("cp311-cp311-manylinux2014_armv7l", linux_platform("armv8l", GLIBC_2_17), True),
        ("cp311-cp311-linux_armv8l", linux_platform("armv8l", GLIBC_2_17), True),
        ("cp311-cp311-manylinux2014_armv7l", linux_platform("armv7l", GLIBC_2_17, manylinux=False), False),
        ("cp311-cp311-linux_armv7l", linux_platform("armv7l", GLIBC_2_17, manylinux=False), True),
        ("cp311-cp311-manylinux2014_x86_64", linux_platform("x86_64", Libc("glibc", None)), False),
        ("cp311-cp311-linux_x86_64", linux_platform("x86_64", Libc("glibc", None)), True),
        ("cp311-cp311-musllinux_1_2_x86_64", linux_platform("x86_64", Libc("musl", (1, 2))), True),
        ("cp311-cp311-musllinux_1_1_x86_64", linux_platform("x86_64", Libc("musl", (1, 2))), True),
        ("cp311-cp311-musllinux_1_3_x86_64", linux_platform("x86_64", Libc("musl", (1, 2))), False),
        ("cp311-cp311-manylinux2014_x86_64", linux_platform("x86_64", Libc("musl", (1, 2))), False),
        ("cp311-cp311-musllinux_1_1_aarch64", linux_platform("aarch64", Libc("musl", (1, 1))), True),
        ("cp311-cp311-linux_x86_64", linux_platform("x86_64", None), True),  # a static Python
        ("cp311-cp311-manylinux2014_x86_64", linux_platform("x86_64", None), False),
        ("cp311-cp311-win_amd64", linux_platform("x86_64", GLIBC_2_17), False),
        ("py3-none-any", linux_platform("x86_64", None), True),
    ],
)
def test_linux_platforms(wheel: str, platform: PlatformTags, expected: bool) -> None:
    assert fits(wheel, CP311, platform=platform) is expected


@pytest.mark.parametrize(
    ("wheel", "version", "arch", "expected"),
    [
        ("cp311-cp311-macosx_11_0_arm64", (11, 0), "arm64", True),
        ("cp311-cp311-macosx_10_9_universal2", (11, 0), "arm64", True),
        ("cp311-cp311-macosx_10_9_x86_64", (11, 0), "arm64", False),
        ("cp311-cp311-macosx_12_0_arm64", (11, 0), "arm64", False),
        ("cp311-cp311-macosx_14_0_arm64", (14, 2), "arm64", True),
        ("cp311-cp311-macosx_10_9_x86_64", (14, 0), "x86_64", True),
        ("cp311-cp311-macosx_14_0_x86_64", (14, 0), "x86_64", True),
        ("cp311-cp311-macosx_15_0_x86_64", (14, 0), "x86_64", False),
        ("cp311-cp311-macosx_10_9_x86_64", (10, 15), "x86_64", True),
        ("cp311-cp311-macosx_10_9_intel", (10, 15), "x86_64", True),
        ("cp311-cp311-macosx_11_0_x86_64", (10, 15), "x86_64", False),
        ("cp311-cp311-manylinux2014_x86_64", (14, 0), "x86_64", False),
    ],
)
def test_macos_versions(wheel: str, version: tuple[int, int], arch: str, expected: bool) -> None:
    assert fits(wheel, CP311, platform=mac_platform(version, arch)) is expected


@linux_only
def test_this_pythons_facts_give_packagings_own_tags() -> None:
    """For the Python running the tests, what shimgen reads from its files gives what packaging
    computes from inside it: the same platform tags and the same supported tags."""
    program = read_elf(Path(sys.executable))
    assert program is not None
    platform = linux_platform_of(program)
    assert set(platform.tags) == set(tags.platform_tags())
    flags = "t" if sysconfig.get_config_var("Py_GIL_DISABLED") else ""
    flags += "d" if sysconfig.get_config_var("Py_DEBUG") else ""
    python = Interpreter(sys.version_info[:2], "cp" if sys.implementation.name == "cpython" else "pp", flags)
    assert set(supported_tags(python, platform.tags)) == set(tags.sys_tags())


def _venv(tmp_path: Path, python: Path, config: str) -> Path:
    """A POSIX environment whose bin/python is ``python``."""
    prefix = tmp_path / "env"
    (prefix / "bin").mkdir(parents=True)
    (prefix / "bin" / "python").symlink_to(python)
    (prefix / "pyvenv.cfg").write_text(config)
    return prefix


@linux_only
def test_a_real_venv_is_judged_by_its_own_python(venv: Path) -> None:
    python, platform = environment_python(venv), environment_machines(venv)
    assert python == Interpreter(sys.version_info[:2])
    assert set(platform.tags) == set(tags.platform_tags())
    machine = sysconfig.get_platform().split("-", 1)[1]
    other = "aarch64" if machine != "aarch64" else "x86_64"
    nodot = python.nodot
    assert fits(
        f"cp{nodot}-cp{nodot}-manylinux_2_17_{machine}.manylinux2014_{machine}", python, platform=platform
    )
    assert fits(f"cp{nodot}-cp{nodot}-linux_{machine}", python, platform=platform)
    assert not fits(f"cp{nodot}-cp{nodot}-manylinux_2_17_{other}", python, platform=platform)


@linux_only
@pytest.mark.zig
def test_a_32_bit_python_on_a_64_bit_kernel_takes_32_bit_wheels(tmp_path: Path) -> None:
    """An i386 Python on x86_64 takes i686 wheels, whatever the kernel says (as pip run by it)."""
    if sysconfig.get_platform() != "linux-x86_64":
        pytest.skip("an x86_64 kernel")
    prefix = _venv(tmp_path, linux_program(tmp_path, "x86-linux-gnu"), "version = 3.11.4\n")
    platform = environment_machines(prefix)
    assert platform.tags[0] == "linux_i686"
    assert not fits("cp311-cp311-manylinux2014_x86_64", CP311, platform=platform)
    assert fits("cp311-cp311-linux_i686", CP311, platform=platform)
    # manylinux as far as its glibc goes: the i386 loader's, if this machine has one (wine32 brings it)
    i386_glibc = Path("/lib/ld-linux.so.2").exists()
    assert fits("cp311-cp311-manylinux2014_i686", CP311, platform=platform) is i386_glibc


@linux_only
@pytest.mark.zig
def test_a_32_bit_arm_python(tmp_path: Path) -> None:
    """A 32-bit ARM Python is armv7l (armv8l on an aarch64 kernel, taking armv7l wheels too), and
    only a hard-float one takes manylinux wheels (shimgen.elf tells the two apart)."""
    if not sysconfig.get_platform().startswith("linux-x86"):
        pytest.skip("an x86 kernel: a 32-bit ARM Python is armv7l there")
    hard = read_elf(linux_program(tmp_path, "arm-linux-gnueabihf"))
    assert hard is not None and hard.arm_hard_float
    platform = linux_platform_of(hard)
    # this machine has no ARM loader, so no glibc version: linux_armv7l only, as packaging would do
    assert platform.tags == ("linux_armv7l",) and "glibc, version unknown" in platform.name
    assert fits("cp311-cp311-linux_armv7l", CP311, platform=platform)
    assert not fits("cp311-cp311-manylinux2014_armv7l", CP311, platform=platform)
    assert not fits("cp311-cp311-linux_aarch64", CP311, platform=platform)


@linux_only
@pytest.mark.zig
def test_a_musl_python_takes_no_manylinux_wheel(tmp_path: Path) -> None:
    prefix = _venv(tmp_path, linux_program(tmp_path, "x86_64-linux-musl"), "version = 3.12.0\n")
    platform = environment_machines(prefix)
    assert "musl" in platform.name
    python = Interpreter((3, 12))
    assert not fits("cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64", python, platform=platform)
    assert fits("cp312-cp312-linux_x86_64", python, platform=platform)
    loader = Path("/lib/ld-musl-x86_64.so.1")
    assert fits("cp312-cp312-musllinux_1_1_x86_64", python, platform=platform) is loader.exists()


@pytest.mark.parametrize(
    ("files", "config", "expected"),
    [
        ([], "home = /usr/bin\nversion_info = 3.12.1.final.0\n", Interpreter((3, 12))),
        ([], "home = /usr/bin\n", None),
        (["bin/pypy3"], "home = /opt/pypy/bin\nversion = 3.10.14\n", Interpreter((3, 10), "pp")),
        (
            [],
            "home = /opt/pypy/bin\nimplementation = PyPy\nversion_info = 3.10.14\n",
            Interpreter((3, 10), "pp"),
        ),
        ([], "implementation = GraalVM\nversion_info = 3.11.7\n", None),
        ([], "implementation = CPython\nversion_info = 3.11.7\n", Interpreter((3, 11))),
        (["lib/python3.13t/"], "home = /usr/bin\nversion = 3.13.1\n", Interpreter((3, 13), "cp", "t")),
        (
            [],
            "home = /usr/bin\nversion = 3.13.1\nexecutable = /usr/bin/python3.13t\n",
            Interpreter((3, 13), "cp", "t"),
        ),
        (
            ["Scripts/python3.13t.exe", "Scripts/python.exe"],
            "home = C:\\Python313\nversion = 3.13.1\n",
            Interpreter((3, 13), "cp", "t"),
        ),
        (
            ["Scripts/python_d.exe"],
            "home = C:\\Python312\nversion = 3.12.1\n",
            Interpreter((3, 12), "cp", "d"),
        ),
        (["bin/python3.12", "lib/python3.12/"], "version = 3.12.1\n", Interpreter((3, 12))),
        (["bin/pypy-helper", "bin/python3.12"], "version = 3.12.1\n", Interpreter((3, 12))),  # a command
    ],
)
def test_environment_python_from_pyvenv_cfg_and_file_names(
    tmp_path: Path, files: list[str], config: str, expected: Interpreter | None
) -> None:
    for name in files:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith("/"):
            path.mkdir()
        else:
            path.write_bytes(b"")
    (tmp_path / "pyvenv.cfg").write_text(config)
    assert environment_python(tmp_path) == expected


@linux_only
def test_a_real_free_threaded_layout_is_read_as_free_threaded(tmp_path: Path) -> None:
    """venv names a free-threaded Python's site-packages lib/python3.13t (read, not run)."""
    prefix = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(prefix)], check=True)
    nodot = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert environment_python(prefix) == Interpreter(sys.version_info[:2])
    (prefix / "lib" / f"python{nodot}").rename(prefix / "lib" / f"python{nodot}t")
    assert environment_python(prefix) == Interpreter(sys.version_info[:2], "cp", "t")


def test_install_refuses_a_wheel_for_another_platform_or_python(tmp_path: Path) -> None:
    posix = tmp_path / "posix"
    (posix / "bin").mkdir(parents=True)
    (posix / "pyvenv.cfg").write_text("version = 3.11.4\n")
    windows_wheel = build_wheel(tmp_path, "tool", "1.0", {"tool.py": b""}, platform="win_amd64")
    code, _, err = run("install", "--prefix", posix, windows_wheel)
    assert code == 1
    assert (
        "tool-1.0-py3-none-win_amd64.whl is not a supported wheel on this platform: it is built for win_amd64"
        in err
    )
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
    assert "such as one tagged cp311-cp311-win_amd64" in err

    threaded = tmp_path / "threaded"
    (threaded / "Scripts").mkdir(parents=True)
    (threaded / "Scripts" / "python3.13t.exe").write_bytes(b"MZ stand-in")
    (threaded / "pyvenv.cfg").write_text("version = 3.13.1\n")
    regular = newer / "other-1.0-cp313-cp313-win_amd64.whl"
    named.rename(regular)
    code, _, err = run("install", "--prefix", threaded, "--platform", "win_amd64", regular)
    assert code == 1 and "this environment runs CPython 3.13 (free-threaded)" in err
