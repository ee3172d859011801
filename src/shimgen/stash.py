"""Running files moved out of an installer's way, and put back if the installer did not replace them.

On Windows a running program, or a DLL or extension module a running process
has loaded, can be renamed but not deleted or replaced. Before ``shimgen run``
starts an installer, such files of this environment (launchers, ``.pyd`` and
``.dll`` files that a RECORD lists) are renamed into ``.shimgen/trash/``: pip
and uv skip RECORD paths that do not exist, and write new files where they
were. Afterwards each file whose place is still empty, and that an installed
distribution's RECORD still lists, is renamed back (the installer failed or
left that distribution alone); the others stay in the trash for ``gc``.

A journal (``.shimgen/stash.json``) is written, and made durable, before the
first rename, and deleted after the last file is back: if shimgen is killed in
between, the next ``sync`` (or ``run``) puts things back from it. Like pip's
``StashedUninstallPathSet``, one object owns "moved aside, not final yet".
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from shimgen import fsutil
from shimgen.environment import all_installed, scheme_for
from shimgen.errors import ShimgenError
from shimgen.paths import STASH_NAME
from shimgen.store import Store


@dataclass(frozen=True)
class Moved:
    original: Path
    aside: Path


class Stash:
    """The files of one environment moved aside for an installer. Hold the store's lock throughout."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.journal = store.root / STASH_NAME

    def move_aside(self, paths: Iterable[Path]) -> list[Moved]:
        """Rename ``paths`` into the trash, journal first; return what was moved."""
        paths = sorted(set(paths))
        if not paths:
            return []
        trash = self.store.trash_dir
        planned = [Moved(path, fsutil.trash_name(path, trash)) for path in paths]
        self._write_journal([*self._read_journal(), *planned])
        moved = []
        for item in planned:
            fsutil.make_dirs(trash)
            try:
                fsutil.replace(item.original, item.aside)
            except ShimgenError:
                continue  # not moved: it stays where it is, and the installer meets it as before
            moved.append(item)
        return moved

    def put_back(self, wanted: Callable[[Path], bool]) -> list[Path]:
        """Rename back every journalled file whose place is empty and that ``wanted`` still wants.

        Then the journal goes. Safe to call again after a crash (what is back is skipped).
        """
        restored = []
        for item in self._read_journal():
            if not os.path.lexists(item.aside) or os.path.lexists(item.original):
                continue
            if wanted(item.original):
                fsutil.make_dirs(item.original.parent)
                fsutil.replace(item.aside, item.original)
                restored.append(item.original)
        if self.journal.exists():
            fsutil.remove_file(self.journal)
        return restored

    @property
    def pending(self) -> bool:
        return self.journal.exists()

    def _read_journal(self) -> list[Moved]:
        try:
            body = json.loads(self.journal.read_bytes())
            return [Moved(self._inside(o), self._inside(a)) for o, a in body["moved"]]
        except FileNotFoundError:
            return []
        except (ValueError, KeyError, TypeError) as error:
            raise ShimgenError(
                f"the journal of files moved aside is unreadable ({error})",
                path=self.journal,
                hint="the files it named are in .shimgen/trash; check them, then delete the journal",
            ) from None

    def _write_journal(self, moved: list[Moved]) -> None:
        prefix = self.store.prefix
        pairs = [[os.path.relpath(m.original, prefix), os.path.relpath(m.aside, prefix)] for m in moved]
        body = {"format": 1, "moved": [[a.replace(os.sep, "/"), b.replace(os.sep, "/")] for a, b in pairs]}
        fsutil.atomic_write(self.journal, (json.dumps(body, indent=1) + "\n").encode())

    def _inside(self, relative: str) -> Path:
        """A journal path, confined to the prefix: the journal is a file on disk, not to be trusted."""
        path = Path(os.path.normpath(self.store.prefix / relative))
        if not str(path).startswith(str(self.store.prefix) + os.sep) or self.store.root == path:
            raise ValueError(f"path outside the environment: {relative}")
        return path


def running_files(candidates: Iterable[Path]) -> list[Path]:
    """The ``candidates`` that are running images or loaded libraries now (Windows; none on POSIX)."""
    if os.name != "nt":
        return []
    found = []
    for path in candidates:
        with contextlib.suppress(OSError):
            if path.is_file() and fsutil.in_use(path):
                found.append(path)
    return found


def listed_by_records(store: Store) -> Callable[[Path], bool]:
    """Whether a moved file is still wanted where it was: an installed distribution's RECORD lists it."""
    if not store.initialized:
        return lambda path: False
    listed: set[Path] = set()
    for versions in all_installed(scheme_for(store.prefix, store.layout())).values():
        for installed in versions:
            with contextlib.suppress(ShimgenError):
                listed.update(installed.files)
    return listed.__contains__


def put_back_pending(store: Store) -> list[Path]:
    """After a ``shimgen run`` that was killed: put back what it moved aside. Hold the lock."""
    stash = Stash(store)
    return stash.put_back(listed_by_records(store)) if stash.pending else []
