"""POSIX shims: relative symlinks in ``bin`` pointing into the current store entry.

A symlink is swapped atomically by renaming a new one over it, and a running
program keeps its open inode, so nothing is ever in the way.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Collection
from pathlib import Path

from shimgen import fsutil
from shimgen.linkrecord import LinkRecord
from shimgen.paths import STORE_DIR, check_relative_path, is_environment_file
from shimgen.shims.base import ShimState, Wanted, foreign_shim_error, removed_on_error


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
        with removed_on_error(prepared):
            for name, (record, gui) in wanted.items():
                temporary = self._prepare(name, record, gui, take_over=name in take_over, sync=sync)
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

    def _prepare(
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
