"""The store of one environment: its files, its lock, and the operations that change them.

Every operation is two phases. First one atomic change of intent: an entry is
renamed into place and the dist's state file is replaced (publish, rollback)
or deleted (remove). Then :meth:`Store.apply_state` makes the link records and
shims match the state (shimgen.store.switch). That second phase is idempotent,
so a crash at any point leaves every shim resolving to a complete entry (the
old one or the new one), and running the operation again, or ``shimgen doctor
--fix``, finishes it. Nothing here ever writes, truncates or deletes a file
that may be a running image: see docs/design.md, "The invariant".

Only this package knows the names and formats of the ``.shimgen`` tree; every
other module asks it (owned commands, states, entries, where things go).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from shimgen import fsutil
from shimgen.defaults import DEFAULT_KEEP, DEFAULT_LOCK_TIMEOUT, WINDOWS
from shimgen.entry import Command, EntryFile, Manifest, build_entry, check_contents
from shimgen.errors import ShimgenError
from shimgen.lock import FileLock
from shimgen.paths import (
    check_version,
    normalize_dist,
)
from shimgen.store.commands import check_commands_free
from shimgen.store.gc import GcReport, collect
from shimgen.store.layout import (
    Layout,
    check_windows_names,
    check_windows_programs,
)
from shimgen.store.reader import StoreReader
from shimgen.store.rollback import finish, rollback
from shimgen.store.state import DistState
from shimgen.store.switch import apply_state


@dataclass(frozen=True)
class PublishPlan:
    """A publish checked in full against the environment, before anything is written (:meth:`Store.plan`)."""

    dist: str
    version: str
    files: tuple[EntryFile, ...]
    commands: tuple[Command, ...]
    layout: Layout
    take_over: frozenset[str]


@dataclass
class PublishResult:
    dist: str
    version: str
    entry: Path
    previous: str | None
    created: bool
    manifest: Manifest


class Store(StoreReader):
    """The shimgen state of one environment prefix. Every method that writes takes the prefix lock."""

    def __init__(
        self,
        prefix: str | os.PathLike[str],
        *,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
        on_wait: Callable[[Path], None] | None = None,
    ) -> None:
        super().__init__(prefix)
        self.lock_timeout = lock_timeout
        self.on_wait = on_wait
        self._lock = FileLock(self.lock_path)

    def write_state(self, state: DistState) -> None:
        """Replace a dist's state file atomically. Hold the lock."""
        fsutil.atomic_write(self.state_path(state.dist), state.to_bytes())

    @contextlib.contextmanager
    def locked(self, *, create: bool = False) -> Iterator[None]:
        """Hold the prefix's writer lock; wait at most ``lock_timeout`` seconds for it.

        Only ``create`` (publishing) may make ``.shimgen/`` in a prefix that has none:
        every other operation on such a prefix is a mistake, reported without a trace.
        """
        if not self.root.is_dir():
            if not create:
                raise ShimgenError(
                    "not a shimgen environment (no .shimgen folder)",
                    path=self.prefix,
                    hint="check --prefix; 'shimgen link' sets an environment up",
                )
            fsutil.make_dirs(self.root)
        if not self._lock.acquire(timeout=min(0.2, self.lock_timeout)):
            if self.on_wait is not None and self.lock_timeout > 0.2:  # say so only if it will wait
                self.on_wait(self.lock_path)
            if not self._lock.acquire(timeout=max(0.0, self.lock_timeout - 0.2)):
                raise ShimgenError(
                    "another shimgen is changing this environment "
                    f"(waited {self.lock_timeout:g} s for its lock)",
                    path=self.lock_path,
                    hint="let it finish and retry, or wait longer with --lock-timeout",
                )
        try:
            yield
        finally:
            self._lock.release()

    # --- writing: publish is a plan, checked before anything is written, then build, then make current

    def plan(
        self,
        dist: str,
        version: str,
        files: Sequence[EntryFile],
        commands: Sequence[Command],
        *,
        kind: str | None = None,
        arch: str | None = None,
        take_over: Collection[str] = (),
    ) -> PublishPlan:
        """Every check :meth:`publish` makes on its input, without writing anything (not even the lock).

        Installers plan before they write library files, so bad input fails before
        the environment changes at all, and hand the plan to :meth:`build` later.
        """
        dist = normalize_dist(dist)
        check_version(version)
        if not self.prefix.is_dir():
            raise ShimgenError("environment prefix does not exist", path=self.prefix, hint="check --prefix")
        check_contents(files, commands)
        layout = self.planned_layout(kind, arch)
        if layout.kind == WINDOWS:
            check_windows_names(dist, version, files, commands)
            check_windows_programs(files, commands, layout)
        check_commands_free(self, dist, commands, layout, take_over)
        return PublishPlan(dist, version, tuple(files), tuple(commands), layout, frozenset(take_over))

    def publish(
        self,
        dist: str,
        version: str,
        files: Sequence[EntryFile],
        commands: Sequence[Command],
        *,
        kind: str | None = None,
        arch: str | None = None,
        take_over: Collection[str] = (),
        installed: bool | None = None,
    ) -> PublishResult:
        """Make ``files`` the current entry of ``dist`` and point ``commands`` at it.

        The previous entry stays (for rollback, and for anything still running
        it) until GC. Publishing content that is already current changes nothing.
        ``take_over`` names commands whose foreign files in Scripts (or bin) the
        new launchers replace (``adopt``); any other foreign file is refused.
        ``installed`` marks a distribution installed in site-packages (see
        :class:`DistState`); None keeps what the state says.
        """
        planned = self.plan(dist, version, files, commands, kind=kind, arch=arch, take_over=take_over)
        with self.locked(create=True):  # after the plan: bad input leaves no .shimgen/
            built = self.build(planned)
            self.make_current(built.dist, built.manifest, take_over=take_over, installed=installed)
            return built

    def build(self, plan: PublishPlan) -> PublishResult:
        """The new entry of a plan, complete and durable, and nothing switched yet.

        An installer builds the entry before its commit point and makes it current
        after (:meth:`make_current`); until then the entry is garbage for GC, and
        nothing any command runs has changed. The commands are checked again under
        the lock: another writer may have taken one since the plan was made.
        """
        with self.locked(create=True):
            if (
                self.planned_layout(plan.layout.kind, plan.layout.arch.value if plan.layout.arch else None)
                != plan.layout
            ):
                raise ShimgenError(
                    "another shimgen set this environment up differently meanwhile",
                    path=self.config_path,
                    hint="run the command again",
                )
            self.record_layout(plan.layout)
            check_commands_free(self, plan.dist, plan.commands, plan.layout, plan.take_over)
            manifest, created = build_entry(
                self.store_dir / plan.dist, plan.dist, plan.version, plan.files, plan.commands, self.trash_dir
            )
            state = self.read_state(plan.dist)
            entry = self.entry_dir(plan.dist, manifest.entry_name)
            return PublishResult(
                plan.dist, plan.version, entry, state.current if state else None, created, manifest
            )

    def make_current(
        self, dist: str, manifest: Manifest, *, take_over: Collection[str] = (), installed: bool | None = None
    ) -> None:
        """The second half of :meth:`publish`: a built entry becomes current, its commands switch.

        Idempotent: an installer interrupted here calls it again (see shimgen.install.journal).
        """
        with self.locked(create=True):
            state = self.read_state(dist)
            generations = (
                manifest.entry_name,
                *(g for g in (state.generations if state else ()) if g != manifest.entry_name),
            )
            if installed is None and state is not None:
                installed = state.installed
            new_state = DistState(dist, generations, installed=installed)
            if state != new_state:
                self.write_state(new_state)
            self.apply_state(dist, take_over, current=manifest)

    def apply_state(
        self, dist: str, take_over: Collection[str] = (), *, current: Manifest | None = None
    ) -> list[str]:
        """Make links and shims match ``dist``'s state; return the commands changed (shimgen.store.switch)."""
        return apply_state(self, dist, take_over, current=current)

    def gc(self, keep: int = DEFAULT_KEEP) -> GcReport:
        """Delete entries nothing needs (shimgen.store.gc); what is still running is left for next time."""
        with self.locked():
            return collect(self, keep)

    def record_layout(self, layout: Layout) -> None:
        """Fix this prefix's layout in ``.shimgen/config.json`` if it has none yet. Hold the lock."""
        if not self.initialized:
            fsutil.atomic_write(self.config_path, layout.to_bytes())
            self._layout = layout

    def rollback(self, dist: str, to: str | None = None) -> tuple[str, str]:
        """Make an earlier entry of ``dist`` current again; return (from, to) entry names (store.rollback)."""
        return rollback(self, dist, to)

    def finish(self, state: DistState) -> None:
        """Switch the links to a committed state, then clear its pending mark. Hold the lock."""
        finish(self, state)

    def remove(self, dist: str) -> list[str]:
        """Remove ``dist``'s commands (shims and link records); its entries become garbage for GC."""
        dist = normalize_dist(dist)
        with self.locked():
            layout_known = self.initialized
            owned = self.commands_of(dist)
            path = self.state_path(dist)
            if not path.exists() and not owned:
                raise ShimgenError(
                    f"{dist} is not installed in this environment",
                    path=self.prefix,
                    hint="see 'shimgen list'",
                )
            if path.exists():
                fsutil.remove_file(path)  # the commit point
            if layout_known:
                self.apply_state(dist)
            return owned
