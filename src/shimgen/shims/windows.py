"""Windows shims: launchers in ``Scripts``, byte copies of a shipped stub.

A launcher reads its command's link record when it runs, so it only changes
when the stub must change (another subsystem or a new shimgen). A running
launcher can be renamed but never overwritten, deleted or replaced, so then it
is renamed into the trash first.

The launchers of one distribution and subsystem are hard links of one file. A
running image locks every name of its file against deletion, so while any
command of a distribution runs, an installer can delete none of its launchers:
uv, which deletes RECORD's rows in order and stops at the first error, then
fails before it has removed anything (see shimgen.record). Only within one
distribution: a running tool must not stop the uninstall of another. Where a
link cannot be made (a filesystem without hard links, NTFS's 1,023 names per
file), a copy is written instead.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Collection
from pathlib import Path

from shimgen import fsutil
from shimgen.errors import ShimgenError
from shimgen.launcher import FileKind, identify, launcher_bytes
from shimgen.linkrecord import LinkRecord
from shimgen.paths import is_environment_file
from shimgen.pe import Arch
from shimgen.shims.base import ShimState, Wanted, foreign_shim_error, removed_on_error


class WindowsShims:
    """Launchers in ``<prefix>/Scripts``, one stub per architecture and subsystem."""

    def __init__(self, prefix: Path, arch: Arch) -> None:
        self.prefix = prefix
        self.folder = prefix / "Scripts"
        self.arch = arch
        self._paths: dict[str, Path] = {}

    def path(self, command: str) -> Path:
        path = self._paths.get(command)
        if path is None:  # asked for several times per command in a batch; a Path is not free
            path = self._paths[command] = self.folder / f"{command}.exe"
        return path

    def launcher_bytes(self, gui: bool) -> bytes:
        """What every launcher of this environment and subsystem is: the shipped stub."""
        return launcher_bytes(self.arch, gui)

    def shim_bytes(self, gui: bool) -> bytes | None:
        """The bytes of a shim, for RECORD's hash: the stub (POSIX symlinks have none)."""
        return self.launcher_bytes(gui)

    def state(self, command: str, record: LinkRecord | None, gui: bool) -> ShimState:
        try:
            data = self.path(command).read_bytes()
        except FileNotFoundError:
            return ShimState.MISSING
        if data == self.launcher_bytes(gui):
            return ShimState.OK
        return ShimState.STALE if _is_shimgen_launcher(data) else ShimState.FOREIGN

    def prepare_all(
        self, wanted: Wanted, *, take_over: Collection[str] = (), sync: bool = True
    ) -> dict[str, Path]:
        """New launchers for one distribution's commands, as hard links of one file per subsystem.

        Returns the temporaries to commit (command -> path); a command whose
        launcher is right and already linked with its siblings gets none, so
        launchers that an older shimgen wrote as separate copies are relinked once.
        """
        prepared: dict[str, Path] = {}
        with removed_on_error(prepared):
            self._prepare_groups(wanted, prepared, take_over, sync)
        return prepared

    def _prepare_groups(
        self, wanted: Wanted, prepared: dict[str, Path], take_over: Collection[str], sync: bool
    ) -> None:
        for gui in (False, True):
            names = [name for name, (_, is_gui) in wanted.items() if is_gui is gui]
            states = {name: self.state(name, None, gui) for name in names}
            right = [name for name in names if states[name] is ShimState.OK]
            # The anchor: the right launcher with most names already, so an old environment relinks least.
            anchor = max(right, key=lambda name: _link_count(self.path(name)), default=None)
            source = None if anchor is None else self.path(anchor)
            linkable = True
            for name in names:
                right_bytes = states[name] is ShimState.OK
                if right_bytes and (not linkable or _same_file(self.path(name), source)):
                    continue
                if states[name] is ShimState.FOREIGN and name not in take_over:
                    raise foreign_shim_error(self.path(name))
                temporary = None
                if source is not None and linkable:
                    temporary = self._linked_temporary(name, source)
                    linkable = temporary is not None
                if temporary is None:
                    if right_bytes:
                        continue  # right, only not linked, and links cannot be made here
                    data = self.launcher_bytes(gui)
                    temporary = fsutil.write_temporary(
                        self.folder, self.path(name).name, data, executable=True, sync=sync
                    )
                    source = source or temporary  # the batch's next launchers link to this one
                prepared[name] = temporary

    def _linked_temporary(self, command: str, source: Path) -> Path | None:
        """A new name for ``source`` under a temporary name; None where no hard link can be made."""
        temporary = self.folder / f".{self.path(command).name}.{secrets.token_hex(4)}.tmp"
        try:
            os.link(source, temporary)
        except OSError:
            return None
        return temporary

    def commit(self, command: str, temporary: Path, trash: Path) -> None:
        """Put a prepared launcher in place; the caller fsyncs the folder.

        Renaming over the old name is atomic, and the old file's bytes are
        never touched. Windows refuses that while the old launcher is running;
        then the running one is renamed aside first (the only thing Windows
        allows on a running image) and the new one takes its place. A crash
        between those two renames leaves the command without a launcher for
        'shimgen doctor --fix' to restore.
        """
        path = self.path(command)
        if os.path.lexists(path):
            fsutil.swap_in(temporary, path, trash)
            return
        try:
            fsutil.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise

    def remove(self, command: str, trash: Path) -> bool:
        path = self.path(command)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return False
        if not _is_shimgen_launcher(data):
            return False
        fsutil.move_aside(path, trash)
        return True

    def present(self) -> dict[str, Path]:
        """Every shimgen launcher in the folder, by command name."""
        found = {}
        if self.folder.is_dir():
            for path in self.folder.iterdir():
                if (
                    path.suffix.lower() == ".exe"
                    and not is_environment_file(path.name)  # never the interpreter, whatever its bytes
                    and path.is_file()
                    and _is_shimgen_launcher(path.read_bytes())
                ):
                    found[path.name[:-4]] = path
        return found


def _link_count(path: Path) -> int:
    try:
        return os.stat(path).st_nlink
    except OSError:
        return 0


def _same_file(a: Path, b: Path | None) -> bool:
    try:
        return b is not None and os.path.samefile(a, b)
    except OSError:
        return False


def _is_shimgen_launcher(data: bytes) -> bool:
    try:
        return identify(data).kind is FileKind.SHIMGEN_LAUNCHER
    except ShimgenError:
        return False
