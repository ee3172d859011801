"""A sandbox environment per layout, for the native store tests (the ``sandbox`` fixture makes one).

The Windows layout is exercised here too, the way cross-installation uses it
(launchers written as files, programs checked as PE files); running it for
real is the job of tests/wine/.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from shimgen import resolve_launcher, stub_bytes
from shimgen.store import PublishResult, Store, native_entry

VERSION_MARK = b"\nshimgen-test-version="


@dataclass
class Sandbox:
    """An environment prefix, in the Windows or the POSIX layout, plus a folder of programs to publish."""

    root: Path
    layout: str

    @property
    def prefix(self) -> Path:
        return self.root / "my env"

    @property
    def windows(self) -> bool:
        return self.layout == "windows"

    def store(self, **options: object) -> Store:
        return Store(self.prefix, **options)  # type: ignore[arg-type]

    def program(self, name: str, version: str, *, arch: str = "x64", gui: bool = False) -> Path:
        """A program that says which version it is: a real PE file (Windows) or a shell script."""
        folder = self.root / "sources" / version
        folder.mkdir(parents=True, exist_ok=True)
        if self.windows:
            path = folder / f"{name}.exe"
            path.write_bytes(stub_bytes(arch, gui) + VERSION_MARK + version.encode())
        else:
            path = folder / name
            path.write_text(f"#!/bin/sh\necho {name} {version}\n")
            path.chmod(0o755)
        return path

    def publish(
        self, dist: str, version: str, *names: str, gui: Sequence[str] = (), extras: Sequence[Path] = ()
    ) -> PublishResult:
        store = self.store()
        programs = [self.program(name, version) for name in names or (dist,)]
        files, commands = native_entry(
            programs, gui, extras, layout=store.planned_layout(self.layout, self.arch)
        )
        return store.publish(dist, version, files, commands, kind=self.layout, arch=self.arch)

    @property
    def arch(self) -> str | None:
        return "x64" if self.windows else None

    def shim(self, command: str) -> Path:
        return (
            self.prefix
            / ("Scripts" if self.windows else "bin")
            / (f"{command}.exe" if self.windows else command)
        )

    def link_path(self, command: str) -> Path:
        """Where the command's link record is: a file (Windows), or the symlink itself (POSIX)."""
        return self.prefix / ".shimgen" / "links" / command if self.windows else self.shim(command)

    def point(self, command: str, program: str) -> None:
        """Make the command's link record name ``program`` (prefix-relative), as a crash could leave it."""
        if self.windows:
            self.link_path(command).write_text(f"shimgen-link 1\ntarget={program}\n")
        else:
            os.unlink(self.shim(command))
            os.symlink(f"../{program}", self.shim(command))

    def resolved(self, command: str) -> Path | None:
        """The program file the command's shim runs now, or None if it would fail."""
        shim = self.shim(command)
        if not os.path.lexists(shim):
            return None
        if self.windows:
            resolution = resolve_launcher(shim)
            return resolution.target if resolution.ok else None
        target = Path(os.path.realpath(shim))
        return target if target.is_file() else None

    def runs(self, command: str) -> str | None:
        """The version the command runs now (read from the program it resolves to)."""
        program = self.resolved(command)
        if program is None:
            return None
        data = program.read_bytes()
        if self.windows:
            return data.rpartition(VERSION_MARK)[2].decode()
        return data.decode().split()[-1]

    def snapshot(self) -> dict[str, object]:
        """Every path under the prefix with its bytes (or symlink target): to show nothing changed."""
        tree: dict[str, object] = {}
        if self.prefix.exists():
            for path in sorted(self.prefix.rglob("*")):
                key = path.relative_to(self.prefix).as_posix()
                if path.is_symlink():
                    tree[key] = ("symlink", os.readlink(path))
                elif path.is_file():
                    tree[key] = path.read_bytes()
                else:
                    tree[key] = "dir"
        return tree
