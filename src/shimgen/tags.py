"""Does a wheel fit the environment? pip's answer, computed by packaging for the environment's Python.

pip and uv refuse a wheel that "is not a supported wheel on this platform"; shimgen installs
the wheels it is given without a resolver, so it makes the same check, before anything is
written. The tags an environment supports are packaging's (``packaging.tags``: ``cpython_tags``
or ``generic_tags``, then ``compatible_tags``, and ``mac_platforms``), computed as pip computes
them for the Python running pip (``sys_tags``), but from the environment's own facts, so that a
Windows environment prepared from Linux is judged as Windows:

- its Python (:func:`environment_python`): the version in ``pyvenv.cfg``; PyPy or CPython by
  ``pyvenv.cfg``'s ``implementation`` (uv and virtualenv write it) or the interpreter's file
  names; CPython's ABI flags by the names venv and uv give a free-threaded or debug build's files
  (``python3.13t``, ``lib/python3.13t/``, ``python3.13t.exe``, ``python_d.exe``). PyPy's ABI tag
  is ``pypy<XY>_pp73``: every PyPy since 7.3.0 (2019) has that one, and no file of a venv says it.
- its platform: a Windows layout's is ``win_amd64``, ``win32`` or ``win_arm64`` by the layout's
  architecture (a 32-bit Python on 64-bit Windows is an x86 layout). A POSIX layout is on this
  machine (:func:`environment_machines`). On Linux its Python's ELF file says the machine and
  32/64 bits (a 32-bit Python on a 64-bit kernel takes ``i686`` or ``armv7l`` wheels, as pip run
  by it would), and which C library loads it, at which version (shimgen.elf): glibc gives the
  manylinux tags (PEP 600, with PEP 513/571/599's aliases), musl the musllinux ones (PEP 656).
  packaging makes those two lists only for the running interpreter's own C library, so they are
  listed here by its rules, for the given version; tests/test_tags.py holds the whole Linux list
  equal to ``packaging.tags.platform_tags()`` for this machine's Python. On macOS and other
  systems the platform is packaging's own answer for this machine.

Where a fact cannot be known, shimgen decides as pip would without it. No version in
``pyvenv.cfg``, or an implementation other than CPython and PyPy: only the platform is judged,
as before packaging (pip never meets such an environment; refusing every wheel would help
nobody). A C library whose version cannot be read (a loader this machine does not have, a
static Python): no manylinux or musllinux tag, only ``linux_<machine>``, which is what packaging
yields for a glibc it cannot read. A Python whose file cannot be read (no ``bin/python``):
this machine's running Python stands in. A distribution's ``_manylinux`` module, which may veto
manylinux for the Python that imports it, is not consulted: that would mean running the
environment's Python.

packaging is imported on first use, never at start-up: ``shimgen --version`` and a sync with
nothing to do do not pay for it.
"""

from __future__ import annotations

import re
import sys
import sysconfig
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from shimgen.elf import EM_386, EM_ARM, EM_X86_64, ElfProgram, Libc, libc_of, read_elf
from shimgen.errors import ShimgenError
from shimgen.pe import Arch

if TYPE_CHECKING:
    from packaging.tags import Tag

WINDOWS_PLATFORMS = {Arch.X64: "win_amd64", Arch.X86: "win32", Arch.ARM64: "win_arm64"}


@dataclass(frozen=True)
class Interpreter:
    """An environment's Python as wheels see it: what pip's list of supported tags is made from."""

    version: tuple[int, int]
    implementation: str = "cp"  # the interpreter tag's letters: "cp" CPython, "pp" PyPy
    abiflags: str = ""  # CPython's: "t" free-threaded, "d" debug

    @property
    def nodot(self) -> str:
        return f"{self.version[0]}{self.version[1]}"

    @property
    def abis(self) -> list[str]:
        """Its ABI tags, best first, as packaging derives them for a running Python."""
        if self.implementation != "cp":
            return [f"pypy{self.nodot}_pp73"] if self.implementation == "pp" else []
        threading = "t" if "t" in self.abiflags else ""
        debug = "d" if "d" in self.abiflags else ""
        pymalloc = "m" if self.version < (3, 8) else ""  # the default build before 3.8
        abis = [f"cp{self.nodot}{threading}{debug}{pymalloc}"]
        if debug and self.version >= (3, 8):
            abis.append(f"cp{self.nodot}{threading}")  # a debug build loads release extensions too
        return abis

    def __str__(self) -> str:
        name = {"cp": "CPython", "pp": "PyPy"}.get(self.implementation, self.implementation)
        kinds = [k for f, k in (("t", "free-threaded"), ("d", "debug")) if f in self.abiflags]
        return f"{name} {self.version[0]}.{self.version[1]}" + (f" ({', '.join(kinds)})" if kinds else "")


@dataclass(frozen=True)
class PlatformTags:
    """The platform tags an environment's Python loads, best first, and what to call that platform."""

    tags: tuple[str, ...]
    name: str


def supported_tags(python: Interpreter, platforms: Sequence[str]) -> list[Tag]:
    """Every tag ``python`` loads on ``platforms``, best first: what ``sys_tags`` is for a running one."""
    from packaging import tags

    if python.implementation == "cp":
        found = list(tags.cpython_tags(python.version, python.abis, platforms))
        interpreter: str | None = f"cp{python.nodot}"
    else:
        found = list(tags.generic_tags(f"{python.implementation}{python.nodot}", python.abis, platforms))
        interpreter = "pp3" if python.implementation == "pp" else None
    found.extend(tags.compatible_tags(python.version, interpreter, platforms))
    return found


def check_wheel_fits(
    wheel_name: str,
    python: str,
    abi: str,
    platform: str,
    *,
    windows_arch: Arch | None,
    version: Interpreter | None,
    machines: PlatformTags | None = None,
) -> None:
    """Raise ShimgenError, with pip's reason, unless one of the wheel's tags is the environment's.

    ``python``, ``abi`` and ``platform`` are the wheel's tag sets (``py2.py3``); ``windows_arch``
    is the Windows layout's architecture, or None for a POSIX layout; ``version`` the
    environment's Python (:func:`environment_python`), None if unknown, and then only the
    platform is judged; ``machines`` a POSIX environment's platform (:func:`environment_machines`),
    by default the running Python's.
    """
    from packaging.tags import parse_tag

    wheel_tags = parse_tag(f"{python}-{abi}-{platform}")
    if windows_arch is not None:
        target = PlatformTags((WINDOWS_PLATFORMS[windows_arch],), WINDOWS_PLATFORMS[windows_arch])
    else:
        target = machines or this_platform()
    if not any(tag.platform == "any" or tag.platform in target.tags for tag in wheel_tags):
        raise ShimgenError(
            f"{wheel_name} is not a supported wheel on this platform: it is built for {platform}; "
            f"this environment is {target.name}",
            hint="use a wheel built for this environment (pip download --only-binary=:all: "
            "--platform ... picks one)",
        )
    if version is None:
        return
    supported = supported_tags(version, target.tags)
    if wheel_tags.isdisjoint(supported):
        examples = " or ".join(_examples(version, supported))
        raise ShimgenError(
            f"{wheel_name} is not a supported wheel on this platform: it is built for Python {python} "
            f"({abi}); this environment runs {version}",
            hint=f"use a wheel built for {version}, such as one tagged {examples}",
        )


def _examples(python: Interpreter, supported: list[Tag]) -> list[str]:
    """A few tags a wheel for ``python`` may have: its best, a stable-ABI one, a pure-Python one."""
    stable = [str(tag) for tag in supported if tag.abi == "abi3"][:1]
    return [str(supported[0]), *stable, f"py{python.version[0]}-none-any"]


def environment_python(prefix: Path) -> Interpreter | None:
    """The environment's Python, from ``pyvenv.cfg`` and its file names; None if its version or
    implementation is unknown (see the module's docstring)."""
    config = pyvenv_config(prefix)
    version = _version_in(config)
    if version is None:
        return None
    names = _interpreter_names(prefix, config)
    implementation = config.get("implementation", "").lower()
    if implementation == "pypy" or any(_PYPY_NAME.match(name) for name in names):
        return Interpreter(version, "pp")
    if implementation not in ("", "cpython"):
        return None  # GraalPy and others: tags of their own
    flags = ""
    for name in names:
        match = _CPYTHON_NAME.match(name)
        if match:
            flags += "".join(flag for flag in match.groups() if flag and flag not in flags)
    return Interpreter(version, "cp", flags)


# How venv and uv name a CPython's files: python3.13t (free-threaded), python3.13d and
# python_d.exe (debug), python3.13t_d.exe, lib/python3.13t/ (a free-threaded site-packages);
# and PyPy's: pypy3, pypy3.10, pypy3.exe, lib/pypy3.10/.
_CPYTHON_NAME = re.compile(r"^python(?:\d+(?:\.\d+)?)?(t)?_?(d)?(?:\.exe)?$")
_PYPY_NAME = re.compile(r"^pypy(?:\d+(?:\.\d+)?)?w?(?:\.exe)?$")


def _interpreter_names(prefix: Path, config: dict[str, str]) -> list[str]:
    """Lower-case names of the environment's interpreter files, and of the Python that made it."""
    names = [
        re.split(r"[\\/]", config[key])[-1].lower()
        for key in ("executable", "base-executable")
        if key in config
    ]
    for folder in (prefix / "bin", prefix / "Scripts", prefix / "lib"):
        try:
            names.extend(p.name.lower() for p in folder.iterdir() if p.name.lower().startswith("py"))
        except OSError:
            continue
    return names


def pyvenv_config(prefix: Path) -> dict[str, str]:
    """``pyvenv.cfg``'s keys (lower case) and values; empty if there is none."""
    try:
        text = (prefix / "pyvenv.cfg").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    config = {}
    for line in text.splitlines():
        key, equals, value = line.partition("=")
        if equals:
            config[key.strip().lower()] = value.strip()
    return config


def pyvenv_version(prefix: Path) -> tuple[int, int] | None:
    """The (major, minor) version ``pyvenv.cfg`` gives for the environment's Python; None if none."""
    return _version_in(pyvenv_config(prefix))


def _version_in(config: dict[str, str]) -> tuple[int, int] | None:
    for key in ("version_info", "version"):
        match = re.match(r"(\d+)\.(\d+)", config.get(key, ""))
        if match:
            return int(match[1]), int(match[2])
    return None


def environment_machines(prefix: Path) -> PlatformTags:
    """The platform tags a POSIX environment's Python loads; it is on this machine.

    On Linux, from its ``bin/python``'s ELF file (the running Python's if that cannot be read);
    elsewhere packaging's answer for this machine.
    """
    if sys.platform.startswith("linux"):
        for program in (prefix / "bin" / "python", prefix / "bin" / "python3", Path(sys.executable)):
            found = read_elf(program)
            if found is not None:
                return linux_platform_of(found)
    return this_platform()


def this_platform() -> PlatformTags:
    """packaging's platform tags for the running Python."""
    from packaging import tags

    if sys.platform == "darwin":
        return mac_platform()
    return PlatformTags(tuple(tags.platform_tags()), sysconfig.get_platform())


def mac_platform(version: tuple[int, int] | None = None, arch: str | None = None) -> PlatformTags:
    """The platform tags of a Python for ``arch`` (``arm64``, ``x86_64``) on macOS ``version``;
    None for this Mac's version and the running Python's architecture, as packaging reads them."""
    import platform

    from packaging import tags

    release = f"{version[0]}.{version[1]}" if version else platform.mac_ver()[0]
    return PlatformTags(
        tuple(tags.mac_platforms(version, arch)), f"macOS {release} {arch or platform.machine()}"
    )


# ELF machine and bits of a Linux Python -> the machine its wheels' platform tags name. 32-bit ARM
# and 64-bit POWER depend on more than these two (see _linux_arch).
_ELF_MACHINES = {
    (EM_X86_64, 64): "x86_64",
    (EM_X86_64, 32): "i686",  # x32: packaging takes any 32-bit Python on x86_64 for i686
    (EM_386, 32): "i686",
    (183, 64): "aarch64",
    (22, 64): "s390x",
    (243, 64): "riscv64",
    (258, 64): "loongarch64",
}
_EM_PPC64 = 21


def linux_platform_of(program: ElfProgram) -> PlatformTags:
    """The platform tags of a Linux Python, from its ELF file: its machine, bits and C library.

    manylinux wheels are for the hard-float ABI on 32-bit ARM and for i386 code on i686, as in
    packaging (``_have_compatible_abi``), which reads the same flags of the running Python.
    """
    arch = _linux_arch(program)
    if arch in ("armv8l", "armv7l"):
        manylinux = program.arm_hard_float
    else:
        manylinux = program.machine == EM_386 if arch == "i686" else True
    return linux_platform(arch, libc_of(program), manylinux=manylinux)


def _linux_arch(program: ElfProgram) -> str:
    """The machine a Linux Python's platform tags name: what ``sysconfig.get_platform()`` says in
    it, after packaging's turn for a 32-bit Python on a 64-bit kernel."""
    kernel = sysconfig.get_platform().split("-", 1)[-1].replace("-", "_").replace(".", "_")
    if program.machine == EM_ARM and program.bits == 32:
        # packaging: a 32-bit Python on an aarch64 kernel is armv8l (and takes armv7l wheels).
        return (
            "armv8l" if kernel in ("aarch64", "armv8l") else kernel if kernel.startswith("arm") else "armv7l"
        )
    if program.machine == _EM_PPC64 and program.bits == 64:
        return "ppc64le" if program.little_endian else "ppc64"
    return _ELF_MACHINES.get((program.machine, program.bits), kernel)


# Machines with manylinux wheels (packaging's _ALLOWED_ARCHS, with i686 and armv7l).
_MANYLINUX_ARCHS = {
    "x86_64",
    "i686",
    "aarch64",
    "armv7l",
    "ppc64",
    "ppc64le",
    "s390x",
    "loongarch64",
    "riscv64",
}
_LEGACY_MANYLINUX = {(2, 17): "manylinux2014", (2, 12): "manylinux2010", (2, 5): "manylinux1"}


def linux_platform(arch: str, libc: Libc | None, *, manylinux: bool = True) -> PlatformTags:
    """The platform tags of a Linux Python for ``arch`` loaded by ``libc``, best first.

    ``arch`` is the machine its tags name (``x86_64``, ``i686``, ``armv8l``...); ``libc`` None for
    a static Python; ``manylinux`` False when its ABI is not one manylinux wheels are built for.
    """
    archs = ["armv8l", "armv7l"] if arch == "armv8l" else [arch]
    tags = [f"linux_{a}" for a in archs]
    if libc is not None and libc.version is not None:
        if libc.name == "glibc" and manylinux and _MANYLINUX_ARCHS & set(archs):
            tags.extend(_manylinux_tags(archs, libc.version))
        elif libc.name == "musl":
            major, newest = libc.version
            tags.extend(f"musllinux_{major}_{minor}_{a}" for a in archs for minor in range(newest, -1, -1))
    return PlatformTags(tuple(tags), f"Linux {arch} ({libc or 'static, no C library to load'})")


def _manylinux_tags(archs: list[str], glibc: tuple[int, int]) -> Iterator[str]:
    """PEP 600's tags for a glibc, newest first, down to the oldest manylinux (2.5 on x86, else 2.17)."""
    oldest = (2, 5) if {"x86_64", "i686"} & set(archs) else (2, 17)
    # packaging's guess for a glibc 3: every 2.x, up to 2.50, is older
    versions = [(glibc[0], m) for m in range(glibc[1], -1, -1)]
    versions += [(major, m) for major in range(glibc[0] - 1, 1, -1) for m in range(50, -1, -1)]
    for arch in archs:
        for version in versions:
            if version < oldest:
                break
            yield f"manylinux_{version[0]}_{version[1]}_{arch}"
            if version in _LEGACY_MANYLINUX:
                yield f"{_LEGACY_MANYLINUX[version]}_{arch}"
