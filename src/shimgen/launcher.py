"""Launcher bytes for any Windows target, and what an existing launcher will run.

In the standard layout (``<prefix>/Scripts/NAME.exe``) a launcher is a plain copy
of one of six stubs (x86, x64, arm64; console or GUI): it takes its command from
its own file name. Only other layouts get a ``.shimcfg`` section naming the
command and the prefix, added with pefile. Everything here is pure bytes-in,
bytes-out, so it works the same on Linux, macOS and Windows.
"""

from __future__ import annotations

import enum
import functools
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePath, PureWindowsPath

from shimgen import pe
from shimgen.errors import ShimgenError
from shimgen.fsutil import atomic_write
from shimgen.linkrecord import LauncherConfig, LinkRecord
from shimgen.paths import LINKS_DIR, check_command_name
from shimgen.pe import Arch

CONFIG_SECTION = ".shimcfg"
# Both record kinds' headers are in every stub's read-only data: a reliable
# fingerprint of shimgen launchers across stub versions.
_FINGERPRINT = (b"shimgen-link\0", b"shimgen-launcher\0")

# Exit codes of the launcher's own failures (launcher_stubs/launcher.c).
EXIT_CODES = {
    240: "launcher unusable (own path or config section)",
    241: "link record missing",
    242: "link record invalid",
    243: "target refused (outside the environment)",
    244: "target missing",
    245: "spawn failed",
}


def stub_name(arch: Arch, gui: bool) -> str:
    return f"launcher-{arch.value}-{'gui' if gui else 'console'}.exe"


def stub_bytes(arch: Arch | str, gui: bool = False) -> bytes:
    """The shipped stub for ``arch`` and subsystem, read once per process."""
    return _stub(Arch(arch), bool(gui))


@functools.cache
def _stub(arch: Arch, gui: bool) -> bytes:
    from importlib import resources  # a POSIX install never reads a stub

    return resources.files("shimgen").joinpath("stubs").joinpath(stub_name(arch, gui)).read_bytes()


def launcher_bytes(
    arch: Arch | str, gui: bool = False, *, command: str | None = None, prefix: str | None = None
) -> bytes:
    """The bytes of a launcher.

    With neither ``command`` nor ``prefix`` this is the stub itself: the
    launcher then runs the command named by its own file, in the environment
    whose ``Scripts`` folder holds it. Otherwise a config section is added.
    """
    if command is None and prefix is None:
        return stub_bytes(arch, gui)
    return _configured(Arch(arch), bool(gui), LauncherConfig(command=command, prefix=prefix))


@functools.lru_cache(maxsize=1024)
def _configured(arch: Arch, gui: bool, config: LauncherConfig) -> bytes:
    return pe.add_section(stub_bytes(arch, gui), CONFIG_SECTION, config.to_bytes())


def write_launcher(
    path: str | os.PathLike[str],
    arch: Arch | str,
    gui: bool = False,
    *,
    command: str | None = None,
    prefix: str | None = None,
) -> bytes:
    """Write a launcher to ``path`` crash-safely (temp file, fsync, rename); return its bytes.

    ``command`` defaults to the file name without ``.exe``; a config section is
    added only if the file name cannot say it or ``prefix`` is not the standard ``..``.
    """
    path = Path(path)
    implied = command_from_file_name(path.name)
    if command is not None:
        check_command_name(command)
    data = launcher_bytes(
        arch,
        gui,
        command=None if command in (None, implied) else command,
        prefix=None if prefix in (None, "..") else prefix,
    )
    atomic_write(path, data, executable=True)
    return data


def command_from_file_name(name: str) -> str:
    """What a launcher called ``name`` runs: the name without a trailing ``.exe`` (any case)."""
    return name[:-4] if name.lower().endswith(".exe") and len(name) > 4 else name


class FileKind(enum.Enum):
    SHIMGEN_LAUNCHER = "shimgen launcher"
    OTHER_PE = "other Windows executable"
    NOT_PE = "not a Windows executable"


@dataclass(frozen=True)
class LauncherInfo:
    """What an ``.exe`` is; for shimgen launchers, how it was made."""

    kind: FileKind
    arch: Arch | None = None
    machine: int | None = None
    gui: bool = False
    standard: bool = False  # byte-identical to a shipped stub: one hash, sign once
    config: LauncherConfig | None = None


def identify(data: bytes) -> LauncherInfo:
    """Classify executable bytes: shimgen launcher, other PE, or not a PE at all."""
    shipped = _shipped_stubs().get(bytes(data))
    if shipped is not None:
        return shipped
    return _identify_parsed(data)


@functools.cache
def _shipped_stubs() -> dict[bytes, LauncherInfo]:
    """What each shipped stub is, known from how it was built, not parsed.

    Nearly every launcher is a byte copy of one of them, so telling a
    thousand launchers apart costs a dictionary lookup each, not a thousand
    PE parses (which were most of an install's time in a Windows layout). Not
    parsing the six stubs either saves every Windows-layout command about 10 ms;
    tests/test_launcher.py holds these facts equal to what parsing says.
    """
    machines = {arch: machine for machine, arch in pe.MACHINE_ARCH.items()}
    return {
        stub_bytes(arch, gui): LauncherInfo(
            FileKind.SHIMGEN_LAUNCHER, arch, machines[arch], gui, standard=True
        )
        for arch in Arch
        for gui in (False, True)
    }


def _identify_parsed(data: bytes) -> LauncherInfo:
    info = pe.read_pe_info(data)
    if info is None:
        return LauncherInfo(FileKind.NOT_PE)
    if not all(marker in data for marker in _FINGERPRINT):
        return LauncherInfo(FileKind.OTHER_PE, info.arch, info.machine, info.gui)
    config = None
    if CONFIG_SECTION in info.sections:
        raw = pe.read_section(data, CONFIG_SECTION)
        config = LauncherConfig.from_bytes(raw or b"", source=f"{CONFIG_SECTION} section")
    standard = info.arch is not None and data == stub_bytes(info.arch, info.gui)
    return LauncherInfo(FileKind.SHIMGEN_LAUNCHER, info.arch, info.machine, info.gui, standard, config)


@dataclass
class Resolution:
    """What a launcher at a given path will run, following the same steps as the launcher."""

    launcher: Path
    info: LauncherInfo
    command: str
    prefix: PurePath  # a PureWindowsPath when a Windows prefix is read on another OS
    link_record: PurePath
    record: LinkRecord | None = None
    target: Path | None = None
    script: Path | None = None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def resolve_launcher(path: str | os.PathLike[str]) -> Resolution:
    """Decode the launcher at ``path``: its command, prefix, link record and target.

    Problems (missing record, missing target, refused path) are collected, not
    raised, so ``shimgen inspect`` can show everything it found. Raises
    ShimgenError only if ``path`` is not a shimgen launcher at all.
    """
    path = Path(path).absolute()
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ShimgenError(f"cannot read launcher ({error.strerror})", path=path) from None
    info = identify(data)
    if info.kind is not FileKind.SHIMGEN_LAUNCHER:
        raise ShimgenError(f"not a shimgen launcher ({info.kind.value})", path=path)
    config = info.config or LauncherConfig()
    command = config.command or command_from_file_name(path.name)
    prefix_text = config.prefix or ".."
    windows_prefix = PureWindowsPath(prefix_text)
    if os.name != "nt" and (windows_prefix.drive or prefix_text.startswith("\\")):
        resolution = Resolution(
            path, info, command, windows_prefix, windows_prefix.joinpath(*LINKS_DIR, command)
        )
        resolution.notes.append(
            "the prefix is a Windows path: its link record can be checked on Windows only"
        )
        return resolution
    prefix = Path(os.path.normpath(path.parent / prefix_text.replace("\\", os.sep)))
    link_record = prefix.joinpath(*LINKS_DIR, command)
    resolution = Resolution(path, info, command, prefix, link_record)
    try:
        record = LinkRecord.from_bytes(link_record.read_bytes(), source=link_record)
    except FileNotFoundError:
        resolution.problems.append(f"link record missing: {link_record}")
        return resolution
    except (OSError, ShimgenError) as error:
        resolution.problems.append(str(error).replace("\n", " "))
        return resolution
    resolution.record = record
    resolution.target, resolution.script = record.paths(prefix)
    for kind, file in (("target", resolution.target), ("script", resolution.script)):
        if file is not None and not file.is_file():
            resolution.problems.append(f"{kind} missing: {file}")
    return resolution
