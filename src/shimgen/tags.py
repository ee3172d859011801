"""Does a wheel fit the environment? Its file name's tags against the environment's Python and OS.

pip and uv refuse a wheel "not supported on this platform"; shimgen installs
wheels it is given without a resolver, so it makes the same check itself,
before anything is written: a Windows wheel has no place in a Linux venv, an
``win32`` extension cannot load in an x64 Python, and a ``cp312`` one cannot
load in 3.11. The rules are PEP 425's, for CPython (what a venv runs):

- platform: ``any``, or the environment's: ``win_amd64``/``win32``/``win_arm64``
  by the Windows layout's architecture; on Linux ``linux``/``manylinux``/
  ``musllinux`` for the machine the environment's Python is built for (read
  from its ELF header: a 32-bit Python on a 64-bit kernel takes ``i686`` or
  ``armv7l`` wheels); on macOS ``macosx``;
- Python: ``pyX`` or ``pyXY`` up to the environment's version, ``cpXY`` with
  the ``abi3`` ABI up to it, other ``cpXY`` exactly it.

What cannot be told is not refused: where the environment's version is
unknown (a Windows environment prepared from another OS without
``pyvenv.cfg``), or its Python is not a regular CPython (PyPy, a free-threaded
build), the Python tags are not checked; where its interpreter's machine is
unknown, any Linux machine is taken.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from shimgen.errors import ShimgenError
from shimgen.pe import Arch

WINDOWS_PLATFORMS = {Arch.X64: "win_amd64", Arch.X86: "win32", Arch.ARM64: "win_arm64"}
_VERSION_TAG = re.compile(r"^(?P<kind>py|cp)(?P<major>\d)(?P<minor>\d+)?$")


def pyvenv_version(prefix: Path) -> tuple[int, int] | None:
    """The (major, minor) version ``pyvenv.cfg`` gives for the environment's Python; None if none."""
    try:
        text = (prefix / "pyvenv.cfg").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key.strip() in ("version_info", "version"):
            match = re.match(r"\s*(\d+)\.(\d+)", value)
            if match:
                return int(match[1]), int(match[2])
    return None


def environment_python(prefix: Path) -> tuple[int, int] | None:
    """The environment's CPython version (major, minor), from ``pyvenv.cfg``; None if unknown.

    None too for PyPy and free-threaded CPython, whose wheels have tags of their own
    (``pp310``, ``cp313t``) that this module does not judge.
    """
    version = pyvenv_version(prefix)
    if version is None or _other_python_build(prefix):
        return None
    return version


def _other_python_build(prefix: Path) -> bool:
    """A PyPy or free-threaded environment, by its file names (``pypy3``, ``python3.13t``)."""
    try:
        if "pypy" in (prefix / "pyvenv.cfg").read_text(encoding="utf-8", errors="replace").lower():
            return True
    except OSError:
        pass
    for folder in (prefix / "bin", prefix / "Scripts", prefix / "lib"):
        try:
            names = [p.name.lower() for p in folder.iterdir()]
        except OSError:
            continue
        if any(n.startswith("pypy") or re.match(r"^python3\.\d+t(\.exe)?$", n) for n in names):
            return True
    return False


# ELF e_machine (and class) of a Linux Python -> the machine names of its wheels' platform tags.
_ELF_MACHINES = {
    (62, 2): ("x86_64",),
    (3, 1): ("i686", "i386"),
    (62, 1): ("i686", "i386"),  # x32 userland reports itself like i686 for wheels
    (183, 2): ("aarch64",),
    (40, 1): ("armv7l", "armv6l"),
    (21, 2): ("ppc64le", "ppc64"),
    (22, 2): ("s390x",),
    (243, 2): ("riscv64",),
    (258, 2): ("loongarch64",),
}


def environment_machines(prefix: Path) -> tuple[str, ...] | None:
    """The Linux machine names the environment's Python can load wheels for; None if unknown."""
    try:
        with open(prefix / "bin" / "python", "rb") as stream:
            header = stream.read(20)
    except OSError:
        return None
    if len(header) < 20 or header[:4] != b"\x7fELF":
        return None
    machine = int.from_bytes(header[18:20], "little" if header[5] == 1 else "big")
    return _ELF_MACHINES.get((machine, header[4]))


def check_wheel_fits(
    wheel_name: str,
    python: str,
    abi: str,
    platform: str,
    *,
    windows_arch: Arch | None,
    version: tuple[int, int] | None,
    machines: tuple[str, ...] | None = None,
) -> None:
    """Raise ShimgenError if no tag combination of the wheel fits the environment.

    ``windows_arch`` is the Windows layout's architecture, or None for a POSIX
    layout (this machine's OS); ``version`` the environment's CPython, if known;
    ``machines`` the Linux machine names its Python takes, if known.
    """
    platforms = platform.split(".")
    if not any(_platform_fits(tag, windows_arch, machines) for tag in platforms):
        if windows_arch is not None:
            here = WINDOWS_PLATFORMS[windows_arch]
        else:
            here = f"{sys.platform}" + (f" ({', '.join(machines)})" if machines else "")
        raise ShimgenError(
            f"{wheel_name} is built for {platform}; this environment is {here}",
            hint="use a wheel built for this environment (pip download --only-binary=:all: "
            "--platform ... picks one)",
        )
    if version is None:
        return
    if not any(_python_fits(tag, abis, version) for tag in python.split(".") for abis in [abi.split(".")]):
        raise ShimgenError(
            f"{wheel_name} is built for Python {python} ({abi}); this environment runs CPython "
            f"{version[0]}.{version[1]}",
            hint=f"use a wheel built for CPython {version[0]}.{version[1]}",
        )


def _platform_fits(tag: str, windows_arch: Arch | None, machines: tuple[str, ...] | None) -> bool:
    if tag == "any":
        return True
    if windows_arch is not None:
        return tag == WINDOWS_PLATFORMS[windows_arch]
    if tag.startswith("win"):
        return False
    if sys.platform.startswith("linux"):
        if not tag.startswith(("linux_", "manylinux", "musllinux")):
            return False
        return machines is None or any(tag.endswith(f"_{machine}") for machine in machines)
    if sys.platform == "darwin":
        return tag.startswith("macosx_")
    return not tag.startswith(("linux_", "manylinux", "musllinux", "macosx_"))


def _python_fits(tag: str, abis: list[str], version: tuple[int, int]) -> bool:
    match = _VERSION_TAG.match(tag)
    if match is None:
        return False  # another implementation (pp, ip, ...): not CPython's
    major = int(match["major"])
    minor = int(match["minor"]) if match["minor"] is not None else None
    if major != version[0]:
        return False
    if match["kind"] == "py":
        return minor is None or minor <= version[1]
    if minor is None:
        return False
    if "abi3" in abis and minor <= version[1]:
        return True  # the stable ABI: built for X.Y, loads in X.Y and later
    return minor == version[1] and any(a in ("none", f"cp{major}{minor}", f"cp{major}{minor}m") for a in abis)
