"""The versioned store: publish, switch, roll back, remove and collect garbage, crash-safely.

Layout inside an environment prefix::

    .shimgen/config.json              layout (windows or posix) and, for Windows, the architecture
    .shimgen/store/<dist>/<entry>/    immutable entries (see shimgen.entry)
    .shimgen/dists/<dist>.json        the dist's generations: current entry first, then kept ones
    .shimgen/links/<command>          link records, read by the launchers
    .shimgen/trash/                   what was renamed aside because it may be running
    .shimgen/lock                     one writer at a time; launchers never take it

Every operation is two phases. First one atomic change of intent: an entry
is renamed into place and the dist's state file is replaced (publish,
rollback) or deleted (remove). Then :meth:`Store.apply_state` makes the link
records and shims match the state, one atomic rename per file. That second
phase is idempotent, so a crash at any point leaves every shim resolving to a
complete entry (the old one or the new one), and running the operation again,
or ``shimgen doctor --fix``, finishes it. Nothing here ever writes, truncates
or deletes a file that may be a running image: see DESIGN.md, "Invariant".
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import sysconfig
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import filelock

from shimgen import fsutil, pe
from shimgen.defaults import DEFAULT_KEEP as DEFAULT_KEEP
from shimgen.defaults import DEFAULT_LOCK_TIMEOUT as DEFAULT_LOCK_TIMEOUT
from shimgen.defaults import POSIX as POSIX
from shimgen.defaults import WINDOWS as WINDOWS
from shimgen.entry import (
    Command,
    EntryFile,
    Manifest,
    build_entry,
    check_contents,
    entry_relative_path,
    verify_entry,
)
from shimgen.errors import PathRefused, RecordError, ShimgenError
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
    check_relative_path,
    check_version,
    is_environment_file,
    normalize_dist,
)
from shimgen.pe import Arch
from shimgen.shims import PosixShims, Shims, ShimState, WindowsShims, foreign_shim_error

FORMAT_VERSION = 1
ROLLBACK = "rollback"
# What each environment architecture can run (Windows on Arm emulates x86 and x64).
RUNS_ON = {Arch.X86: {Arch.X86}, Arch.X64: {Arch.X86, Arch.X64}, Arch.ARM64: {Arch.X86, Arch.X64, Arch.ARM64}}
_PE_HEADER_BYTES = 1 << 16
# An entry folder's name: a version token, "-", 16 hex digits of the digest. Nothing else is
# ever joined to the store path, so a state file cannot steer shimgen outside it.
ENTRY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+!_-]*-[0-9a-f]{16}$")


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
            _check_format(body, "shimgen config", source)
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
        info = pe.read_pe_info(_head(python))
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


def _head(path: Path) -> bytes:
    with open(path, "rb") as stream:
        return stream.read(_PE_HEADER_BYTES)


@dataclass(frozen=True)
class DistState:
    """A distribution's generations: the current entry first, then the ones kept for rollback.

    ``pending`` names an operation whose state is committed but whose links may
    not all be switched yet. Only rollback needs it: it is the one operation
    that is not idempotent (a second rollback undoes the first), so re-running
    an interrupted rollback must finish it rather than start another.

    ``installed`` is true for a distribution installed in site-packages (by
    ``install`` or ``adopt``): when pip or uv uninstall it, ``sync`` drops its
    commands. False for programs published with ``link``; None where an older
    shimgen wrote the file (``sync`` decides by what site-packages holds).
    """

    dist: str
    generations: tuple[str, ...]
    pending: str | None = None
    installed: bool | None = None

    @property
    def current(self) -> str:
        return self.generations[0]

    def to_bytes(self) -> bytes:
        body = {
            "format": FORMAT_VERSION,
            "dist": self.dist,
            "generations": list(self.generations),
            "pending": self.pending,
        }
        if self.installed is not None:
            body["installed"] = self.installed
        return (json.dumps(body, indent=1) + "\n").encode()

    @classmethod
    def from_bytes(cls, data: bytes, *, source: Path) -> DistState:
        try:
            body = json.loads(data)
            _check_format(body, "dist state", source)
            generations = body["generations"]
            if not isinstance(generations, list) or not generations:
                raise ValueError("generations is not a non-empty list")
            for name in generations:
                if not isinstance(name, str) or not ENTRY_NAME.match(name):
                    raise ValueError(f"bad entry name {name!r}")
            pending = body.get("pending")
            if pending not in (None, ROLLBACK):
                raise ValueError(f"unknown pending operation {pending!r}")
            installed = body.get("installed")
            if installed not in (None, True, False):
                raise ValueError(f"installed is {installed!r}, not true or false")
            return cls(normalize_dist(body["dist"]), tuple(generations), pending, installed)
        except NewerFormat:
            raise
        except (ValueError, KeyError, TypeError, AttributeError, ShimgenError) as error:
            message = error.message if isinstance(error, ShimgenError) else str(error)
            raise RecordError(
                f"invalid dist state ({message})", path=source, hint="run 'shimgen doctor --fix'"
            ) from None


class NewerFormat(RecordError):
    """A file written by a newer shimgen: never rewritten, never "repaired" by this one."""


def _check_format(body: object, what: str, source: Path) -> None:
    if not isinstance(body, dict):
        raise ValueError(f"{what} is not a JSON object")
    version = body.get("format")
    if isinstance(version, int) and version > FORMAT_VERSION:
        raise NewerFormat(
            f"{what} has format {version}; this shimgen reads {FORMAT_VERSION}",
            path=source,
            hint="it was written by a newer shimgen: upgrade shimgen",
        )
    if version != FORMAT_VERSION:
        raise ValueError(f"format {version!r}")


@dataclass
class PublishResult:
    dist: str
    version: str
    entry: Path
    previous: str | None
    created: bool
    manifest: Manifest


@dataclass
class GcReport:
    removed: list[Path] = field(default_factory=list)
    in_use: list[Path] = field(default_factory=list)  # left for the next run
    trimmed: dict[str, list[str]] = field(default_factory=dict)


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
        self.installs_dir = self.root / INSTALLS_DIR  # install journals (shimgen.install_journal)
        self.config_path = self.root / CONFIG_NAME
        self.lock_path = self.root / LOCK_NAME
        self.lock_timeout = lock_timeout
        self.on_wait = on_wait
        self._lock = filelock.FileLock(str(self.lock_path))
        self._layout: Layout | None = None
        self._shims: dict[Layout, Shims] = {}

    # --- reading ---------------------------------------------------------------------------

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
            self._shims[layout] = shims_for(self.prefix, layout)
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

    # --- locking ---------------------------------------------------------------------------

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

    # --- writing ---------------------------------------------------------------------------

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

    def publish(
        self,
        dist: str,
        version: str,
        files: Sequence[EntryFile],
        commands: Sequence[Command],
        *,
        platform: str | None = None,
        arch: str | None = None,
        take_over: Collection[str] = (),
        checked: Layout | None = None,
        installed: bool | None = None,
    ) -> PublishResult:
        """Make ``files`` the current entry of ``dist`` and point ``commands`` at it.

        The previous entry stays (for rollback, and for anything still running
        it) until GC. Publishing content that is already current changes nothing.
        ``take_over`` names commands whose foreign files in Scripts (or bin) the
        new launchers replace (``adopt``); any other foreign file is refused.
        ``checked`` is what :meth:`check_publish` returned for these same arguments,
        when the caller ran it first (an installer, before its library files):
        the input is then not validated twice; the commands are still checked
        again under the lock, as another writer may have taken one since.
        ``installed`` marks a distribution installed in site-packages (see
        :class:`DistState`); None keeps what the state says.
        """
        layout = checked or self.check_publish(  # before the lock: bad input leaves no .shimgen/
            dist, version, files, commands, platform=platform, arch=arch, take_over=take_over
        )
        dist = normalize_dist(dist)
        with self.locked(create=True):
            built = self.build(
                dist,
                version,
                files,
                commands,
                platform=platform,
                arch=arch,
                take_over=take_over,
                checked=layout,
            )
            self.make_current(built.dist, built.manifest, take_over=take_over, installed=installed)
            return built

    def build(
        self,
        dist: str,
        version: str,
        files: Sequence[EntryFile],
        commands: Sequence[Command],
        *,
        platform: str | None = None,
        arch: str | None = None,
        take_over: Collection[str] = (),
        checked: Layout | None = None,
    ) -> PublishResult:
        """The first half of :meth:`publish`: the new entry, complete and durable, and nothing switched.

        An installer builds the entry before its commit point and makes it current
        after (:meth:`make_current`); until then the entry is garbage for GC, and
        nothing any command runs has changed.
        """
        layout = checked or self.check_publish(
            dist, version, files, commands, platform=platform, arch=arch, take_over=take_over
        )
        dist = normalize_dist(dist)
        with self.locked(create=True):
            if checked is not None and self.planned_layout(platform, arch) != checked:
                raise ShimgenError(
                    "another shimgen set this environment up differently meanwhile",
                    path=self.config_path,
                    hint="run the command again",
                )
            self.record_layout(layout)
            self._check_commands_free(dist, commands, layout, take_over)  # again: another writer may have won
            manifest, created = build_entry(
                self.store_dir / dist, dist, version, files, commands, self.trash_dir
            )
            state = self.read_state(dist)
            entry = self.entry_dir(dist, manifest.entry_name)
            return PublishResult(dist, version, entry, state.current if state else None, created, manifest)

    def make_current(
        self, dist: str, manifest: Manifest, *, take_over: Collection[str] = (), installed: bool | None = None
    ) -> None:
        """The second half of :meth:`publish`: a built entry becomes current, its commands switch.

        Idempotent: an installer interrupted here calls it again (see shimgen.install_journal).
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

    def record_layout(self, layout: Layout) -> None:
        """Fix this prefix's layout in ``.shimgen/config.json`` if it has none yet. Hold the lock."""
        if not self.initialized:
            fsutil.atomic_write(self.config_path, layout.to_bytes())
            self._layout = layout

    def check_publish(
        self,
        dist: str,
        version: str,
        files: Sequence[EntryFile],
        commands: Sequence[Command],
        *,
        platform: str | None = None,
        arch: str | None = None,
        take_over: Collection[str] = (),
    ) -> Layout:
        """Every check :meth:`publish` makes on its input, without writing anything (not even the lock).

        Installers call it before they write library files, so bad input fails
        before the environment changes at all.
        """
        dist = normalize_dist(dist)
        check_version(version)
        if not self.prefix.is_dir():
            raise ShimgenError("environment prefix does not exist", path=self.prefix, hint="check --prefix")
        check_contents(files, commands)
        layout = self.planned_layout(platform, arch)
        if layout.kind == WINDOWS:
            _check_windows_names(dist, version, files, commands)
            _check_windows_programs(files, commands, layout)
        self._check_commands_free(dist, commands, layout, take_over)
        return layout

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

    def apply_state(
        self, dist: str, take_over: Collection[str] = (), *, current: Manifest | None = None
    ) -> list[str]:
        """Make links and shims match ``dist``'s state; return the commands changed. Hold the lock.

        Order matters for readers: a new or switched command gets its link record
        before its shim; a dropped command loses its shim before its link record.
        So every shim that exists resolves, at every step.
        """
        state = self.read_state(dist)
        desired: dict[str, Command] = {}
        entry_path = ""
        if state is not None:
            if current is None or current.entry_name != state.current:
                current = self.manifest(dist, state.current)  # publish passes the one it just checked
            manifest = current
            entry_path = entry_relative_path(dist, state.current)
            desired = {c.name: c for c in manifest.commands}
        shims = self.shims()
        changed: list[str] = []
        links = self.read_links()
        defer = fsutil.DEFER_FILE_SYNC
        # What a crashed earlier run of this same step left of these commands goes first.
        fsutil.remove_temporaries_of(self.links_dir, set(desired))
        fsutil.remove_temporaries_of(shims.folder, {shims.path(name).name for name in desired})
        # All link records first, then all shims. Each batch is written under temporary names,
        # flushed once (fsutil.DEFER_FILE_SYNC) or per file, then renamed in, and its folder is
        # fsynced once: the order holds across a power cut too, and a thousand commands do not
        # cost thousands of fsyncs.
        records = {name: command.link_record(entry_path) for name, command in desired.items()}
        stale = {name: record for name, record in records.items() if links.get(name) != record}
        if stale:
            fsutil.make_dirs(self.links_dir)
            written: dict[str, Path] = {}
            with _unlinked_on_error(written):
                for name, record in stale.items():
                    data = record.to_bytes()
                    written[name] = fsutil.write_temporary(self.links_dir, name, data, sync=not defer)
            self._commit_batch(
                written,
                lambda name, temporary: fsutil.replace(temporary, self.links_dir / name),
                self.links_dir,
            )
            changed.extend(stale)
        prepared: dict[str, Path] = {}
        if desired:
            fsutil.make_dirs(shims.folder)
            wanted = {name: (records[name], command.gui) for name, command in desired.items()}
            prepared = shims.prepare_all(wanted, take_over=take_over, sync=not defer)
        if prepared:
            self._commit_batch(
                prepared, lambda name, temporary: shims.commit(name, temporary, self.trash_dir), shims.folder
            )
            changed.extend(name for name in prepared if name not in changed)
        kept_links = [self.links_dir / name for name in desired]
        for name, existing in links.items():
            if not isinstance(existing, LinkRecord) or name in desired:
                continue
            if (self.owner(existing) or ("",))[0] != dist:
                continue
            if any(_same_file(self.links_dir / name, kept) for kept in kept_links):
                continue  # a command renamed only in case, on a case-insensitive filesystem: one file
            shims.remove(name, self.trash_dir)
            fsutil.remove_file(self.links_dir / name)
            changed.append(name)
        return changed

    @staticmethod
    def _commit_batch(
        temporaries: dict[str, Path], rename_in: Callable[[str, Path], None], folder: Path
    ) -> None:
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

    def gc(self, keep: int = DEFAULT_KEEP) -> GcReport:
        """Delete entries nothing needs: not current, not among the ``keep`` previous, not linked.

        Entries still running are left for the next run, never an error. The
        trash is emptied as far as possible, and crash leftovers are removed.
        """
        if keep < 0:
            raise ShimgenError(f"--keep must be 0 or more, not {keep}")
        report = GcReport()
        with self.locked():
            states: dict[str, DistState | None] = {}
            for name in self.dist_names():
                try:
                    states[name] = self.read_state(name)
                except ShimgenError:
                    states[name] = None  # unreadable: keep all its entries until doctor fixes it
            for name, state in states.items():
                if state is not None and len(state.generations) > 1 + keep:
                    kept = state.generations[: 1 + keep]
                    report.trimmed[name] = list(state.generations[1 + keep :])
                    trimmed = dataclasses.replace(state, generations=kept)  # a pending rollback stays one
                    self.write_state(trimmed)
                    states[name] = trimmed
            needed = {(n, g) for n, s in states.items() if s is not None for g in s.generations}
            needed |= {
                o for r in self.read_links().values() if isinstance(r, LinkRecord) and (o := self.owner(r))
            }
            for dist_dir in sorted(self.store_dir.iterdir()) if self.is_real_folder(self.store_dir) else []:
                if (dist_dir.name in states and states[dist_dir.name] is None) or not self.is_real_folder(
                    dist_dir
                ):
                    continue  # unreadable state: keep everything; a link or file: not ours to follow
                for entry in sorted(dist_dir.iterdir()):
                    if (dist_dir.name, entry.name) in needed or (entry.is_symlink() and not entry.is_dir()):
                        continue
                    if fsutil.in_use(entry):
                        report.in_use.append(entry)
                        continue
                    try:
                        moved = fsutil.move_aside(entry, self.trash_dir)
                    except ShimgenError:
                        report.in_use.append(entry)  # locked after all: next time
                        continue
                    report.removed.append(entry)
                    fsutil.remove_tree(moved)
                if dist_dir.name not in states:
                    with contextlib.suppress(OSError):
                        os.rmdir(dist_dir)
            for folder in (self.links_dir, self.dists_dir, self.shims().folder, self.installs_dir):
                for leftover in folder.glob(".*.tmp") if folder.is_dir() else []:
                    fsutil.remove_tree(leftover)
            for item in sorted(self.trash_dir.iterdir()) if self.is_real_folder(self.trash_dir) else []:
                if not fsutil.remove_tree(item):
                    report.in_use.append(item)
        return report

    # --- helpers ---------------------------------------------------------------------------

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


@contextlib.contextmanager
def _unlinked_on_error(temporaries: dict[str, Path]) -> Iterator[None]:
    """Remove the temporaries written so far if writing the batch fails."""
    try:
        yield
    except BaseException:
        _unlink_all(temporaries.values())
        raise


def _unlink_all(paths: Iterable[Path]) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            os.unlink(path)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _version_of(entry_name: str) -> str:
    return entry_name.rsplit("-", 1)[0]


def shims_for(prefix: Path, layout: Layout) -> Shims:
    if layout.kind == WINDOWS:
        assert layout.arch is not None
        return WindowsShims(prefix, layout.arch)
    return PosixShims(prefix)


def _check_windows_names(
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


def _check_windows_programs(files: Sequence[EntryFile], commands: Sequence[Command], layout: Layout) -> None:
    """Every native command of a Windows environment must be a PE file this environment can run."""
    assert layout.arch is not None
    by_path = {f.path.lower(): f for f in files}
    for command in commands:
        if command.interpreter is not None:
            continue
        file = by_path[command.file.lower()]
        where = file.source if isinstance(file.source, Path) else None
        try:
            head = file.source[:_PE_HEADER_BYTES] if isinstance(file.source, bytes) else _head(file.source)
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


def native_entry(
    programs: Sequence[Path], gui: Sequence[str] = (), extras: Sequence[Path] = (), *, layout: Layout
) -> tuple[list[EntryFile], list[Command]]:
    """Entry files and commands for native programs (``shimgen link``): one command per program.

    A command is named after its file (without ``.exe``); Windows programs built
    for the GUI subsystem get the GUI launcher unless told otherwise.
    """
    files: list[EntryFile] = []
    commands: list[Command] = []
    gui_names = set(gui)
    for program in programs:
        if not program.is_file():
            raise ShimgenError("no such file", path=program)
        name = (
            program.name[:-4]
            if program.name.lower().endswith(".exe") and len(program.name) > 4
            else program.name
        )
        is_gui = name in gui_names
        if layout.kind == WINDOWS and not is_gui:
            info = pe.read_pe_info(_head(program))
            is_gui = bool(info and info.gui)
        gui_names.discard(name)
        files.append(EntryFile(program.name, program, executable=True))
        commands.append(Command(name, program.name, gui=is_gui))
    if gui_names:
        raise ShimgenError(f"--gui names no given program: {', '.join(sorted(gui_names))}")
    for extra in extras:
        if not extra.is_file():
            raise ShimgenError("no such file", path=extra)
        files.append(EntryFile(extra.name, extra, executable=os.access(extra, os.X_OK)))
    return files, commands
