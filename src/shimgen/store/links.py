"""Link records: what a command runs now. Files a launcher reads on Windows; the symlinks on POSIX.

A Windows launcher is the same bytes for every command, so what it runs must
be written somewhere else: ``.shimgen/links/<command>``, replaced by a rename.
On POSIX the command's symlink into the store already is such a record, and
replaced the same way, so a second file per command would only cost time (a
thousand commands meant a thousand more files to create and flush). An
environment set up by an older shimgen has those files too; they are read by
nothing now, and ``gc`` deletes them.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Protocol

from shimgen import fsutil
from shimgen.errors import ShimgenError
from shimgen.linkrecord import LinkRecord
from shimgen.shims import Shims

Links = dict[str, "LinkRecord | ShimgenError"]


class LinkRecords(Protocol):
    """The link records of one environment."""

    @property
    def separate(self) -> bool:
        """Whether a record is a file of its own (Windows), to be written before its shim."""
        ...

    def path(self, command: str) -> Path:
        """Where the record of ``command`` is, for messages."""
        ...

    def read_all(self) -> Links:
        """Every record by command; an unreadable one as the error it raises."""
        ...

    def write(self, records: Mapping[str, LinkRecord]) -> None:
        """Replace these records, each atomically, made durable before any of them goes live."""
        ...

    def remove(self, command: str) -> None:
        """Delete the record of ``command`` (after its shim)."""
        ...

    def obsolete(self) -> list[Path]:
        """Record files nothing reads any more (an older shimgen's, in a POSIX layout)."""
        ...


class LinkFiles:
    """Windows: ``.shimgen/links/<command>``, one small text file per command."""

    separate = True

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, command: str) -> Path:
        return self.folder / command

    def read_all(self) -> Links:
        return _read_files(self.folder)

    def write(self, records: Mapping[str, LinkRecord]) -> None:
        if not records:
            return
        fsutil.make_dirs(self.folder)
        written: dict[str, Path] = {}
        with unlinked_on_error(written):
            for name, record in records.items():
                written[name] = fsutil.write_temporary(
                    self.folder, name, record.to_bytes(), sync=not fsutil.DEFER_FILE_SYNC
                )
        commit_batch(written, self._rename_in, self.folder)

    def _rename_in(self, command: str, temporary: Path) -> None:
        fsutil.replace(temporary, self.folder / command)

    def remove(self, command: str) -> None:
        fsutil.remove_file(self.folder / command)

    def obsolete(self) -> list[Path]:
        return []


class SymlinkRecords:
    """POSIX: the symlink ``bin/<command>`` into the store is the command's record."""

    separate = False

    def __init__(self, prefix: Path, shims: Shims, old_folder: Path) -> None:
        self.prefix = prefix
        self.shims = shims
        self.old_folder = old_folder

    def path(self, command: str) -> Path:
        return self.shims.path(command)

    def read_all(self) -> Links:
        found: Links = {}
        for name, path in sorted(self.shims.present().items()):  # only the symlinks into the store
            try:
                target = os.path.normpath(os.path.join(path.parent, os.readlink(path)))
                found[name] = LinkRecord(os.path.relpath(target, self.prefix).replace(os.sep, "/"))
            except ShimgenError as error:
                found[name] = error
            except OSError as error:  # replaced while being read
                found[name] = ShimgenError(f"cannot read the symlink ({error.strerror})", path=path)
        return found

    def write(self, records: Mapping[str, LinkRecord]) -> None:
        """Nothing to do: the shim step writes the symlinks, and with them the records."""

    def remove(self, command: str) -> None:
        """Nothing to do: removing the shim removed the record."""

    def obsolete(self) -> list[Path]:
        return _record_files(self.old_folder)


def commit_batch(temporaries: dict[str, Path], rename_in: Callable[[str, Path], None], folder: Path) -> None:
    """Flush written temporaries (if their writer deferred it), rename each into place, fsync the folder.

    On failure the temporaries not yet renamed are removed; those renamed
    stay, each complete, and the caller's re-run (or doctor) finishes.
    """
    pending = dict(temporaries)
    try:
        if fsutil.DEFER_FILE_SYNC:
            fsutil.sync_filesystem(folder)
        for name, temporary in temporaries.items():
            rename_in(name, temporary)
            del pending[name]
    finally:
        _unlink_all(pending.values())
    fsutil.fsync_directory(folder)


@contextlib.contextmanager
def unlinked_on_error(temporaries: dict[str, Path]) -> Iterator[None]:
    """Remove the temporaries written so far if writing the batch fails."""
    try:
        yield
    except BaseException:
        _unlink_all(temporaries.values())
        raise


def _read_files(folder: Path) -> Links:
    links: Links = {}
    for path in _record_files(folder):
        try:
            links[path.name] = LinkRecord.from_bytes(path.read_bytes(), source=path)
        except ShimgenError as error:
            links[path.name] = error
        except OSError as error:
            links[path.name] = ShimgenError(f"cannot read link record ({error.strerror})", path=path)
    return links


def _record_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return [p for p in sorted(folder.iterdir()) if not fsutil.is_temporary_name(p.name) and p.is_file()]


def _unlink_all(paths: Iterable[Path]) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            os.unlink(path)
