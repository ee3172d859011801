"""Does a wheel fit the environment? Its file name's tags against the environment's Python and OS.

pip and uv refuse a wheel "not supported on this platform"; shimgen installs
wheels it is given without a resolver, so it makes the same check itself,
before anything is written: a Windows wheel has no place in a Linux venv, an
``win32`` extension cannot load in an x64 Python, and a ``cp312`` one cannot
load in 3.11. The rules are PEP 425's, for CPython (what a venv runs):

- platform: ``any``, or the environment's: ``win_amd64``/``win32``/``win_arm64``
  by the Windows layout's architecture; on Linux ``linux``/``manylinux``/
  ``musllinux`` for this machine; on macOS ``macosx``;
- Python: ``pyX`` or ``pyXY`` up to the environment's version, ``cpXY`` with
  the ``abi3`` ABI up to it, other ``cpXY`` exactly it. Where the environment's
  version is unknown (a Windows environment prepared from another OS without
  ``pyvenv.cfg``), only the platform is checked.
"""

from __future__ import annotations

import re
import sys
import sysconfig
from pathlib import Path

from shimgen.errors import ShimgenError
from shimgen.pe import Arch

WINDOWS_PLATFORMS = {Arch.X64: "win_amd64", Arch.X86: "win32", Arch.ARM64: "win_arm64"}
_VERSION_TAG = re.compile(r"^(?P<kind>py|cp)(?P<major>\d)(?P<minor>\d+)?$")


def environment_python(prefix: Path) -> tuple[int, int] | None:
    """The environment's Python version (major, minor), from its ``pyvenv.cfg``; None if unknown."""
    config = prefix / "pyvenv.cfg"
    try:
        text = config.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key.strip() in ("version_info", "version"):
            match = re.match(r"\s*(\d+)\.(\d+)", value)
            if match:
                return int(match[1]), int(match[2])
    return None


def check_wheel_fits(
    wheel_name: str,
    python: str,
    abi: str,
    platform: str,
    *,
    windows_arch: Arch | None,
    version: tuple[int, int] | None,
) -> None:
    """Raise ShimgenError if no tag combination of the wheel fits the environment.

    ``windows_arch`` is the Windows layout's architecture, or None for a POSIX
    layout (this machine's OS); ``version`` the environment's Python, if known.
    """
    platforms = platform.split(".")
    if not any(_platform_fits(tag, windows_arch) for tag in platforms):
        here = WINDOWS_PLATFORMS[windows_arch] if windows_arch else sysconfig.get_platform()
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


def _platform_fits(tag: str, windows_arch: Arch | None) -> bool:
    if tag == "any":
        return True
    if windows_arch is not None:
        return tag == WINDOWS_PLATFORMS[windows_arch]
    if tag.startswith("win"):
        return False
    if sys.platform.startswith("linux"):
        machine = sysconfig.get_platform().split("-", 1)[-1]  # linux-x86_64 -> x86_64
        return tag.startswith(("linux_", "manylinux", "musllinux")) and tag.endswith(f"_{machine}")
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
