"""The store's read-only views: where its files are, and what they say. Reads take no lock.

:class:`shimgen.store.Store` adds the lock and every change; code that only
looks (doctor, sync's judgement, ``list``) needs nothing more than this.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from shimgen import fsutil
from shimgen.defaults import WINDOWS
from shimgen.entry import Manifest, verify_entry
from shimgen.errors import RecordError, ShimgenError
from shimgen.linkrecord import LinkRecord
from shimgen.paths import (
    CONFIG_NAME,
    DISTS_DIR,
    INSTALLS_DIR,
    LINKS_DIR,
    LOCK_NAME,
    SHIMGEN_DIR,
    STORE_DIR,
    TRASH_DIR,
)
from shimgen.pe import Arch
from shimgen.shims import Shims
from shimgen.store.commands import command_keys
from shimgen.store.layout import Layout, detect_layout, make_shims
from shimgen.store.links import LinkFiles, LinkRecords, SymlinkRecords
from shimgen.store.state import DistState


class StoreReader:
    """The files of one environment's store, read without the lock."""

    def __init__(self, prefix: str | os.PathLike[str]) -> None:
        self.prefix = Path(os.path.abspath(prefix))
        self.root = self.prefix / SHIMGEN_DIR
        self.store_dir = self.prefix.joinpath(*STORE_DIR)
        self.dists_dir = self.root / DISTS_DIR
        self.links_dir = self.prefix.joinpath(*LINKS_DIR)
        self.trash_dir = self.root / TRASH_DIR
        self.installs_dir = self.root / INSTALLS_DIR  # install journals (shimgen.install.journal)
        self.config_path = self.root / CONFIG_NAME
        self.lock_path = self.root / LOCK_NAME
        self._layout: Layout | None = None
        self._shims: dict[Layout, Shims] = {}
        self._links: dict[Layout, LinkRecords] = {}

    @property
    def initialized(self) -> bool:
        return self.config_path.is_file()

    def layout(self) -> Layout:
        if self._layout is None:
            try:
                data = self.config_path.read_bytes()
            except FileNotFoundError:
                raise ShimgenError(
                    "not a shimgen environment (no .shimgen/config.json)",
                    path=self.prefix,
                    hint="check --prefix; 'shimgen link' or 'shimgen install' sets an environment up",
                ) from None
            self._layout = Layout.from_bytes(data, source=self.config_path)
        return self._layout

    def forget_layout(self) -> None:
        """Read config.json again next time (doctor has just rewritten it)."""
        self._layout = None
        self._shims.clear()
        self._links.clear()

    def shims(self) -> Shims:
        return self.shims_for(self.layout())

    def shims_for(self, layout: Layout) -> Shims:
        """The shims of ``layout`` in this prefix; one object per layout, so its path cache lasts."""
        if layout not in self._shims:
            self._shims[layout] = make_shims(self.prefix, layout)
        return self._shims[layout]

    def state_path(self, dist: str) -> Path:
        return self.dists_dir / f"{dist}.json"

    def read_state(self, dist: str) -> DistState | None:
        path = self.state_path(dist)
        try:
            state = DistState.from_bytes(path.read_bytes(), source=path)
        except FileNotFoundError:
            return None
        if state.dist != dist:
            raise RecordError(
                f"dist state names {state.dist!r}, not {dist!r}", path=path, hint="run 'shimgen doctor --fix'"
            )
        return state

    def require_state(self, dist: str) -> DistState:
        state = self.read_state(dist)
        if state is None:
            raise ShimgenError(
                f"{dist} is not installed in this environment", path=self.prefix, hint="see 'shimgen list'"
            )
        return state

    def dist_names(self) -> list[str]:
        if not self.dists_dir.is_dir():
            return []
        return sorted(
            p.name[: -len(".json")]
            for p in self.dists_dir.iterdir()
            if p.name.endswith(".json") and not fsutil.is_temporary_name(p.name)
        )

    def dists(self) -> list[DistState]:
        states = [self.read_state(name) for name in self.dist_names()]
        return [s for s in states if s is not None]

    def entry_dir(self, dist: str, entry_name: str) -> Path:
        return self.store_dir / dist / entry_name

    def manifest(self, dist: str, entry_name: str, *, deep: bool = False) -> Manifest:
        """The manifest of a complete entry; ShimgenError naming the problem otherwise."""
        directory = self.entry_dir(dist, entry_name)
        manifest, problems = verify_entry(directory, deep=deep)
        if manifest is None or problems:
            raise ShimgenError(
                f"store entry {dist}/{entry_name} is damaged: {'; '.join(problems)}",
                path=directory,
                hint=f"publish {dist} again, or run 'shimgen doctor'",
            )
        return manifest

    def links(self) -> LinkRecords:
        """The link records: files in a Windows layout (or a prefix not set up yet), the shims on POSIX."""
        if not self.initialized:
            return LinkFiles(self.links_dir)
        layout = self.layout()
        if layout not in self._links:
            self._links[layout] = (
                LinkFiles(self.links_dir)
                if layout.kind == WINDOWS
                else SymlinkRecords(self.prefix, self.shims_for(layout), self.links_dir)
            )
        return self._links[layout]

    def read_links(self) -> dict[str, LinkRecord | ShimgenError]:
        """Every link record by command; unreadable ones as the error they raise."""
        return self.links().read_all()

    def is_real_folder(self, path: Path) -> bool:
        """A folder that is really inside the prefix: not a symlink or junction leading elsewhere.

        GC deletes what it finds in the store and the trash, so it must never
        follow a link out of the environment.
        """
        if not path.is_dir() or path.is_symlink() or getattr(path, "is_junction", lambda: False)():
            return False
        return os.path.realpath(path).startswith(os.path.realpath(self.prefix) + os.sep)

    def commands_of(self, dist: str) -> list[str]:
        """The commands whose link records run from ``dist``'s store entries (with or without a state)."""
        return [
            name
            for name, record in self.read_links().items()
            if isinstance(record, LinkRecord)
            and (owner := self.owner(record)) is not None
            and owner[0] == dist
        ]

    @staticmethod
    def owner(record: LinkRecord) -> tuple[str, str] | None:
        """The (dist, entry) a link record runs from, if it points into the store."""
        program = (record.script or record.target).split("/")
        if len(program) > 4 and tuple(program[:2]) == STORE_DIR:
            return program[2], program[3]
        return None

    def command_key(self, command: str) -> str:
        """Command names compare case-insensitively where the filesystem does (Windows)."""
        return self.command_keys()(command)

    def command_keys(self, layout: Layout | None = None) -> Callable[[str], str]:
        """How command names compare here (store.commands), decided once for a loop over many."""
        return command_keys(self, layout)

    def planned_layout(self, kind: str | None = None, arch: str | None = None) -> Layout:
        """The layout this prefix has, or would get on first use; refuse a conflicting request.

        Reads only, so every check can run before anything is written.
        """
        if not self.initialized:
            return detect_layout(self.prefix, kind, arch)
        layout = self.layout()
        if (kind is not None and kind != layout.kind) or (arch is not None and Arch(arch) != layout.arch):
            raise ShimgenError(
                f"this environment is already set up as {layout.kind}"
                + (f" ({layout.arch.value})" if layout.arch else ""),
                path=self.config_path,
                hint="drop --platform/--arch, or use another prefix",
            )
        return layout
