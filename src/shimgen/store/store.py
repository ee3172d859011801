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
import dataclasses
import os
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import filelock

from shimgen import fsutil
from shimgen.defaults import DEFAULT_KEEP, DEFAULT_LOCK_TIMEOUT, WINDOWS
from shimgen.entry import Command, EntryFile, Manifest, build_entry, check_contents, verify_entry
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
    check_command_name,
    check_version,
    is_environment_file,
    normalize_dist,
)
from shimgen.pe import Arch
from shimgen.shims import Shims, ShimState, foreign_shim_error
from shimgen.store.gc import GcReport, collect
from shimgen.store.layout import (
    Layout,
    check_windows_names,
    check_windows_programs,
    detect_layout,
    make_shims,
)
from shimgen.store.state import ROLLBACK, DistState
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


class Store:
    """The shimgen state of one environment prefix. Every method that writes takes the prefix lock."""

    def __init__(
        self,
        prefix: str | os.PathLike[str],
        *,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
        on_wait: Callable[[Path], None] | None = None,
    ) -> None:
        self.prefix = Path(os.path.abspath(prefix))
        self.root = self.prefix / SHIMGEN_DIR
        self.store_dir = self.prefix.joinpath(*STORE_DIR)
        self.dists_dir = self.root / DISTS_DIR
        self.links_dir = self.prefix.joinpath(*LINKS_DIR)
        self.trash_dir = self.root / TRASH_DIR
        self.installs_dir = self.root / INSTALLS_DIR  # install journals (shimgen.install.journal)
        self.config_path = self.root / CONFIG_NAME
        self.lock_path = self.root / LOCK_NAME
        self.lock_timeout = lock_timeout
        self.on_wait = on_wait
        self._lock = filelock.FileLock(str(self.lock_path))
        self._layout: Layout | None = None
        self._shims: dict[Layout, Shims] = {}

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

    def write_state(self, state: DistState) -> None:
        """Replace a dist's state file atomically. Hold the lock."""
        fsutil.atomic_write(self.state_path(state.dist), state.to_bytes())

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

    def read_links(self) -> dict[str, LinkRecord | ShimgenError]:
        """Every link record by command; unreadable ones as the error they raise."""
        links: dict[str, LinkRecord | ShimgenError] = {}
        if self.links_dir.is_dir():
            for path in sorted(self.links_dir.iterdir()):
                if fsutil.is_temporary_name(path.name) or not path.is_file():
                    continue
                try:
                    links[path.name] = LinkRecord.from_bytes(path.read_bytes(), source=path)
                except ShimgenError as error:
                    links[path.name] = error
                except OSError as error:
                    links[path.name] = ShimgenError(f"cannot read link record ({error.strerror})", path=path)
        return links

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
        try:
            self._lock.acquire(timeout=min(0.2, self.lock_timeout))
        except filelock.Timeout:
            if self.on_wait is not None and self.lock_timeout > 0.2:  # say so only if it will wait
                self.on_wait(self.lock_path)
            try:
                self._lock.acquire(timeout=max(0.0, self.lock_timeout - 0.2))
            except filelock.Timeout:
                raise ShimgenError(
                    "another shimgen is changing this environment "
                    f"(waited {self.lock_timeout:g} s for its lock)",
                    path=self.lock_path,
                    hint="let it finish and retry, or wait longer with --lock-timeout",
                ) from None
        try:
            yield
        finally:
            self._lock.release()

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
        self._check_commands_free(dist, commands, layout, take_over)
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
            self._check_commands_free(plan.dist, plan.commands, plan.layout, plan.take_over)
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
        """Make an earlier entry of ``dist`` current again; return (from, to) entry names.

        ``to`` is a kept version or entry name; by default the previous one, and
        then current and previous swap places, so a second rollback undoes the
        first. A rollback interrupted after its commit point is finished, not
        repeated; with ``to``, running it again is always safe (idempotent).
        """
        dist = normalize_dist(dist)
        with self.locked():
            state = self._require_state(dist)
            if to is not None and to in (state.current, _version_of(state.current)):
                if state.pending:
                    self.finish(state)
                return state.current, state.current
            if state.pending == ROLLBACK and to is None:
                self.finish(state)
                return state.generations[1], state.current
            if len(state.generations) < 2:
                raise ShimgenError(
                    f"{dist} has no previous version to roll back to (only {state.current} is kept)",
                    path=self.state_path(dist),
                    hint="GC keeps one previous version by default (gc --keep N)",
                )
            target = state.generations[1] if to is None else self._kept_entry(state, to)
            # Refuse an incomplete entry. Sizes, not hashes: hashing a 30 MB tool would make every
            # rollback slow; doctor checks the hashes. And refuse, as publish does, commands that
            # another dist or a foreign file has taken since that version was current.
            self._check_commands_free(dist, self.manifest(dist, target).commands, self.layout())
            rest = tuple(g for g in state.generations if g != target)
            swapped = dataclasses.replace(state, generations=(target, *rest), pending=ROLLBACK)
            self.write_state(swapped)  # the commit point
            self.finish(swapped)
            return state.current, target

    def _kept_entry(self, state: DistState, wanted: str) -> str:
        for entry in state.generations[1:]:
            if wanted in (entry, _version_of(entry)):
                return entry
        kept = ", ".join(_version_of(g) for g in state.generations[1:])
        raise ShimgenError(
            f"{state.dist} has no kept version {wanted!r} (kept: {kept})",
            path=self.state_path(state.dist),
            hint="'shimgen list' shows the kept versions",
        )

    def finish(self, state: DistState) -> None:
        """Switch the links to a committed state, then clear its pending mark. Hold the lock."""
        self.apply_state(state.dist)
        self.write_state(dataclasses.replace(state, pending=None))

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

    def command_key(self, command: str) -> str:
        """Command names compare case-insensitively where the filesystem does (Windows)."""
        return self.command_keys()(command)

    def command_keys(self, layout: Layout | None = None) -> Callable[[str], str]:
        """:meth:`command_key` decided once, for loops over a thousand commands.

        ``layout`` is the one about to be used, for a prefix not set up yet.
        """
        if layout is None and self.initialized:
            layout = self.layout()
        windows = layout.kind == WINDOWS if layout is not None else os.name == "nt"
        return str.lower if windows else str

    def _require_state(self, dist: str) -> DistState:
        state = self.read_state(dist)
        if state is None:
            raise ShimgenError(
                f"{dist} is not installed in this environment", path=self.prefix, hint="see 'shimgen list'"
            )
        return state

    def _check_commands_free(
        self, dist: str, commands: Sequence[Command], layout: Layout, take_over: Collection[str] = ()
    ) -> None:
        """Refuse, before writing anything, a command owned by another dist or blocked by a foreign file."""
        links = self.read_links()
        key = self.command_keys(layout)
        by_key = {key(name): record for name, record in links.items()}
        shims = self.shims_for(layout)
        for command in commands:
            check_command_name(command.name, windows=layout.kind == WINDOWS)
            if is_environment_file(shims.path(command.name).name):
                raise ShimgenError(
                    f"command {command.name!r} would replace {shims.path(command.name).name}, "
                    "the environment's own interpreter or activation script",
                    path=shims.path(command.name),
                    hint="no distribution may provide this command in an environment; nothing was changed",
                )
            record = by_key.get(key(command.name))
            owner = self.owner(record) if isinstance(record, LinkRecord) else None
            if isinstance(record, LinkRecord) and owner is None:
                raise ShimgenError(
                    f"command {command.name!r} has a link record that points outside shimgen's store",
                    path=self.links_dir / command.name,
                    hint="it was written by hand or by another tool; remove it and its launcher first",
                )
            if owner and owner[0] != dist:
                other = self.read_state(owner[0])
                if other is not None and other.current == owner[1]:
                    raise ShimgenError(
                        f"command {command.name!r} belongs to {owner[0]}",
                        path=self.links_dir / command.name,
                        hint=f"uninstall it first (shimgen uninstall {owner[0]}), "
                        f"or drop only its commands (shimgen remove {owner[0]})",
                    )
            if (
                shims.state(command.name, None, command.gui) is ShimState.FOREIGN
                and command.name not in take_over
            ):
                raise foreign_shim_error(shims.path(command.name))


def _version_of(entry_name: str) -> str:
    return entry_name.rsplit("-", 1)[0]
