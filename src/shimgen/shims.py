"""What sits in ``Scripts`` (Windows) or ``bin`` (POSIX) for each command, and how it changes.

On Windows a shim is a launcher: a byte copy of a shipped stub that reads the
command's link record when it runs. It only changes when the stub must change
(another subsystem or a new shimgen); a running launcher can be renamed but
never overwritten, deleted or replaced, so then it is renamed into the trash
first. On POSIX a shim is a relative symlink into the current store
entry, swapped atomically by renaming a new symlink over it; a running
program keeps its open inode, so nothing is ever in the way.

Either way a shim shimgen did not make (a real program pip put there, say) is
*foreign*: shimgen never overwrites it.

On Windows the launchers of one distribution and subsystem are hard links of one
file. A running image locks every name of its file against deletion, so while
any command of a distribution runs, an installer can delete none of its
launchers: uv, which deletes RECORD's rows in order and stops at the first
error, then fails before it has removed anything (see shimgen.record). Only
within one distribution: a running tool must not stop the uninstall of another.
Where a link cannot be made (a filesystem without hard links, NTFS's 1,023 names
per file), a copy is written instead.
"""

from __future__ import annotations

import contextlib
import enum
import os
import secrets
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Union

from shimgen import fsutil
from shimgen.errors import ShimgenError
from shimgen.launcher import FileKind, identify, launcher_bytes
from shimgen.linkrecord import LinkRecord
from shimgen.paths import STORE_DIR, check_relative_path, is_environment_file
from shimgen.pe import Arch

Wanted = dict[str, tuple[LinkRecord, bool]]  # command -> (its link record, GUI)


class ShimState(enum.Enum):
    OK = "ok"
    MISSING = "missing"
    STALE = "stale"  # made by shimgen, but not what this command needs now
    FOREIGN = "foreign"  # not made by shimgen: never touched


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

    def prepare(
        self, command: str, record: LinkRecord, gui: bool, *, take_over: bool = False, sync: bool = True
    ) -> Path | None:
        """The new launcher for ``command``, written under a temporary name; None if the shim is right.

        The folder must exist (the caller makes it once per batch).

        A foreign file in the way is an error, unless ``take_over`` (adopt):
        then it is replaced like a stale launcher, renamed aside if running.
        ``sync=False`` leaves the flush to the caller (see fsutil.DEFER_FILE_SYNC).
        """
        state = self.state(command, record, gui)
        if state is ShimState.OK:
            return None
        if state is ShimState.FOREIGN and not take_over:
            raise foreign_shim_error(self.path(command))
        data = self.launcher_bytes(gui)
        return fsutil.write_temporary(self.folder, self.path(command).name, data, executable=True, sync=sync)

    def prepare_all(
        self, wanted: Wanted, *, take_over: Collection[str] = (), sync: bool = True
    ) -> dict[str, Path]:
        """New launchers for one distribution's commands, as hard links of one file per subsystem.

        Returns the temporaries to commit (command -> path); a command whose
        launcher is right and already linked with its siblings gets none, so
        launchers that an older shimgen wrote as separate copies are relinked once.
        """
        prepared: dict[str, Path] = {}
        with _removed_on_error(prepared):
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

    def write(
        self, command: str, record: LinkRecord, gui: bool, trash: Path, *, take_over: bool = False
    ) -> bool:
        """Make the shim right now; True if anything changed."""
        fsutil.make_dirs(self.folder)
        temporary = self.prepare(command, record, gui, take_over=take_over)
        if temporary is None:
            return False
        self.commit(command, temporary, trash)
        fsutil.fsync_directory(self.folder)
        return True

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


class PosixShims:
    """Relative symlinks in ``<prefix>/bin`` pointing into the current store entry."""

    def __init__(self, prefix: Path) -> None:
        self.prefix = prefix
        self.folder = prefix / "bin"
        self._paths: dict[str, Path] = {}

    def path(self, command: str) -> Path:
        path = self._paths.get(command)
        if path is None:
            path = self._paths[command] = self.folder / command
        return path

    def shim_bytes(self, gui: bool) -> bytes | None:
        """A symlink has no bytes of its own: RECORD lists it without a hash, as pip does."""
        return None

    def prepare_all(
        self, wanted: Wanted, *, take_over: Collection[str] = (), sync: bool = True
    ) -> dict[str, Path]:
        """New symlinks for the commands whose shims are not right (name -> temporary)."""
        prepared: dict[str, Path] = {}
        with _removed_on_error(prepared):
            for name, (record, gui) in wanted.items():
                temporary = self.prepare(name, record, gui, take_over=name in take_over, sync=sync)
                if temporary is not None:
                    prepared[name] = temporary
        return prepared

    def expected_target(self, record: LinkRecord) -> str:
        """The symlink's text: the record's path (checked, prefix-relative) seen from ``bin``."""
        return os.path.join(
            os.pardir, *check_relative_path(record.script or record.target, windows=False).split("/")
        )

    def state(self, command: str, record: LinkRecord | None, gui: bool) -> ShimState:
        path = self.path(command)
        if not os.path.lexists(path):
            return ShimState.MISSING
        if not path.is_symlink() or not self._points_into_store(path):
            return ShimState.FOREIGN
        if record is not None and os.readlink(path) == self.expected_target(record):
            return ShimState.OK
        return ShimState.STALE

    def prepare(
        self, command: str, record: LinkRecord, gui: bool, *, take_over: bool = False, sync: bool = True
    ) -> Path | None:
        """A new symlink for ``command`` under a temporary name; None if the shim is right.

        The folder must exist (the caller makes it once per batch).

        A symlink has no data to flush: renaming it in and fsyncing the folder
        is enough, so ``sync`` changes nothing here.
        """
        state = self.state(command, record, gui)
        if state is ShimState.OK:
            return None
        if state is ShimState.FOREIGN and not take_over:
            raise foreign_shim_error(self.path(command))
        temporary = self.folder / f".{command}.{secrets.token_hex(4)}.tmp"
        os.symlink(self.expected_target(record), temporary)
        return temporary

    def commit(self, command: str, temporary: Path, trash: Path) -> None:
        """Rename a prepared symlink over the command's name (atomic); the caller fsyncs the folder."""
        try:
            fsutil.replace(temporary, self.path(command))
        except BaseException:
            if os.path.lexists(temporary):
                os.unlink(temporary)
            raise

    def write(
        self, command: str, record: LinkRecord, gui: bool, trash: Path, *, take_over: bool = False
    ) -> bool:
        """Make the shim right now; True if anything changed."""
        fsutil.make_dirs(self.folder)
        temporary = self.prepare(command, record, gui, take_over=take_over)
        if temporary is None:
            return False
        self.commit(command, temporary, trash)
        fsutil.fsync_directory(self.folder)
        return True

    def remove(self, command: str, trash: Path) -> bool:
        path = self.path(command)
        if not path.is_symlink() or not self._points_into_store(path):
            return False
        os.unlink(path)  # a running program keeps its inode
        fsutil.fsync_directory(self.folder)
        return True

    def present(self) -> dict[str, Path]:
        found = {}
        if self.folder.is_dir():
            for path in self.folder.iterdir():
                if path.is_symlink() and not is_environment_file(path.name) and self._points_into_store(path):
                    found[path.name] = path
        return found

    def _points_into_store(self, link: Path) -> bool:
        target = os.path.normpath(os.path.join(self.folder, os.readlink(link)))
        store = os.path.join(self.prefix, *STORE_DIR)
        return target.startswith(store + os.sep)


Shims = Union[WindowsShims, PosixShims]


@contextlib.contextmanager
def _removed_on_error(temporaries: dict[str, Path]) -> Iterator[None]:
    """A batch that fails while being prepared leaves none of its temporaries behind."""
    try:
        yield
    except BaseException:
        for temporary in temporaries.values():
            with contextlib.suppress(OSError):
                os.unlink(temporary)
        raise


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


def foreign_shim_error(path: Path) -> ShimgenError:
    return ShimgenError(
        "a file shimgen did not make is in the way of a command's shim",
        path=path,
        hint="another installer put it there; remove that package's copy first "
        "(or let 'shimgen adopt' take it over), then retry",
    )
