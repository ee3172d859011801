"""Which kind of environment a prefix is (Windows launchers, or POSIX symlinks), and what a
Windows one can hold and run: set once, on first use, in ``.shimgen/config.json``."""

from __future__ import annotations

import json
import os
import sysconfig
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from shimgen import pe
from shimgen.defaults import POSIX, WINDOWS
from shimgen.entry import Command, EntryFile
from shimgen.errors import PathRefused, RecordError, ShimgenError
from shimgen.paths import check_command_name, check_relative_path
from shimgen.pe import Arch
from shimgen.shims import PosixShims, Shims, WindowsShims
from shimgen.store.state import check_format

FORMAT_VERSION = 1
# What each environment architecture can run (Windows on Arm emulates x86 and x64).
RUNS_ON = {Arch.X86: {Arch.X86}, Arch.X64: {Arch.X86, Arch.X64}, Arch.ARM64: {Arch.X86, Arch.X64, Arch.ARM64}}
_PE_HEADER_BYTES = 1 << 16


@dataclass(frozen=True)
class Layout:
    """How shims are made in this environment: Windows launchers for ``arch``, or POSIX symlinks."""

    kind: str
    arch: Arch | None = None

    def to_bytes(self) -> bytes:
        body = {"format": FORMAT_VERSION, "layout": self.kind, "arch": self.arch.value if self.arch else None}
        return (json.dumps(body, indent=1) + "\n").encode()

    @classmethod
    def from_bytes(cls, data: bytes, *, source: Path) -> Layout:
        try:
            body = json.loads(data)
            check_format(body, "shimgen config", source)
            kind = body["layout"]
            arch = Arch(body["arch"]) if kind == WINDOWS else None
            if kind not in (WINDOWS, POSIX):
                raise ValueError(f"layout {kind!r}")
        except (ValueError, KeyError, TypeError) as error:
            raise RecordError(f"invalid shimgen config ({error})", path=source) from None
        return cls(kind, arch)


def detect_layout(prefix: Path, kind: str | None = None, arch: str | None = None) -> Layout:
    """The layout a new shimgen environment gets: what was asked, else what the prefix and OS say."""
    if kind is None:
        if os.name == "nt" or arch is not None:
            kind = WINDOWS
        elif (prefix / "Scripts").is_dir() and not (prefix / "bin").is_dir():
            kind = WINDOWS  # a Windows environment prepared from another OS
        else:
            kind = POSIX
    if kind == POSIX:
        if arch is not None:
            raise ShimgenError(
                "--arch applies to Windows environments only", hint="drop --arch or pass --platform windows"
            )
        return Layout(POSIX)
    if kind != WINDOWS:
        raise ShimgenError(f"unknown platform {kind!r}", hint="use windows or posix")
    if arch is not None:
        return Layout(WINDOWS, Arch(arch))
    python = prefix / "Scripts" / "python.exe"
    if python.is_file():
        info = pe.read_pe_info(read_head(python))
        if info is not None and info.arch is not None:
            return Layout(WINDOWS, info.arch)
    if os.name == "nt":
        platform = sysconfig.get_platform()  # not platform.machine(): its WMI calls crash under Wine
        return Layout(WINDOWS, {"win32": Arch.X86, "win-arm64": Arch.ARM64}.get(platform, Arch.X64))
    raise ShimgenError(
        "cannot tell which Windows architecture this environment is for",
        path=prefix,
        hint="say which: --platform win_amd64, win32 or win_arm64 ('shimgen link': --arch x64, x86, arm64)",
    )


def read_head(path: Path) -> bytes:
    with open(path, "rb") as stream:
        return stream.read(_PE_HEADER_BYTES)


def make_shims(prefix: Path, layout: Layout) -> Shims:
    if layout.kind == WINDOWS:
        assert layout.arch is not None
        return WindowsShims(prefix, layout.arch)
    return PosixShims(prefix)


def check_windows_names(
    dist: str, version: str, files: Sequence[EntryFile], commands: Sequence[Command]
) -> None:
    """What a Windows environment cannot hold though POSIX can (device names, trailing dots, ``:``)."""
    try:
        check_relative_path(f"{dist}/{version}", windows=True)
        for file in files:
            check_relative_path(file.path, windows=True)
        for command in commands:
            check_command_name(command.name, windows=True)
    except PathRefused as error:
        raise PathRefused(
            f"{error.message} (a Windows environment cannot hold it)",
            hint="a POSIX environment can; for Windows, the distribution must use other names",
        ) from None


def check_windows_programs(files: Sequence[EntryFile], commands: Sequence[Command], layout: Layout) -> None:
    """Every native command of a Windows environment must be a PE file this environment can run."""
    assert layout.arch is not None
    by_path = {f.path.lower(): f for f in files}
    for command in commands:
        if command.interpreter is not None:
            continue
        file = by_path[command.file.lower()]
        where = file.source if isinstance(file.source, Path) else None
        try:
            head = (
                file.source[:_PE_HEADER_BYTES] if isinstance(file.source, bytes) else read_head(file.source)
            )
            info = pe.read_pe_info(head)
        except OSError as error:
            raise ShimgenError(f"cannot read {file.path} ({error.strerror})", path=where) from None
        except ShimgenError as error:
            raise ShimgenError(f"{file.path}: {error.message}", path=where) from None
        if info is None:
            raise ShimgenError(
                f"{file.path} is not a Windows program (no PE header)",
                path=where,
                hint="commands in a Windows environment must be .exe files built for Windows",
            )
        if info.arch not in RUNS_ON[layout.arch]:
            built_for = info.arch.value if info.arch else f"machine 0x{info.machine:04x}"
            raise ShimgenError(
                f"{file.path} is built for {built_for}, which an {layout.arch.value} environment cannot run",
                path=where,
                hint=f"use the {layout.arch.value} build of this program",
            )
