"""``shimgen install`` / ``uninstall``: wheels into an environment, safe while its tools run.

Where pip copies a wheel's scripts into ``Scripts`` (and fails on a running
``.exe``), shimgen puts every script of the wheel, native binaries from
``<name>.data/scripts/`` and generated entry-point scripts alike, into one new
store entry and points the commands at it (see shimgen.store). Library files
go to site-packages as usual, each written through a temporary file and a
rename; one that Windows refuses to replace because a running process has it
mapped (an extension module) is renamed into the trash first.

RECORD stays true, so pip can list and uninstall what shimgen installed: it
lists the library files, the launchers (or symlinks), the store entry's files,
the link records and the dist's state file, each with its hash and size.
Nothing resolves dependencies: wheels are installed exactly as given.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from shimgen import fsutil
from shimgen.entry import Command, EntryFile
from shimgen.entrypoints import EntryPoint
from shimgen.environment import (
    Installed,
    Scheme,
    _dist_info_of,
    _realpath,
    _within,
    find_installed,
    installed_versions,
    platform_layout,
    scheme_for,
)
from shimgen.errors import PathRefused, ShimgenError
from shimgen.install_journal import Journal, Plan, finish, recover
from shimgen.paths import check_relative_path, normalize_dist
from shimgen.pe import Arch
from shimgen.record import FileDigest, rewritten_record
from shimgen.scripts import entry_point_files, posix_shebang
from shimgen.store import POSIX, WINDOWS, Layout, PublishPlan, Store
from shimgen.tags import check_wheel_fits, environment_machines, environment_python
from shimgen.wheelfile import WheelFile

INSTALLER_NAME = "shimgen"
Progress = Callable[[int], None]


@dataclass
class InstallResult:
    dist: str
    version: str
    previous: str | None
    files: int
    commands: list[str] = field(default_factory=list)


class Installation:
    """One wheel going into one environment: the destination an installer drives.

    ``write_file`` puts library files in place at once and collects the
    ``scripts`` files; ``add_entry_point`` collects entry points; ``check``
    validates the commands before library files are written (when the driver
    knows them first, as :func:`install_wheel` does); ``finalize`` publishes
    the store entry, writes INSTALLER and a true RECORD, and removes what the
    previous version had that this one has not. Holds the environment's
    writer lock from ``__enter__`` to ``__exit__``.
    """

    def __init__(self, store: Store, dist: str, *, platform: str | None = None) -> None:
        self.store = store
        self.dist = normalize_dist(dist)
        self.kind, self.arch = platform_layout(platform)
        self.layout = store.planned_layout(self.kind, self.arch)
        self.scheme = scheme_for(store.prefix, self.layout)
        self.written: list[Path] = []
        self._unplaced: list[tuple[Path, Path]] = []  # (temporary, destination) of library files
        self._digests: dict[Path, FileDigest | None] = {}  # of the library files, for RECORD
        self.scripts: list[EntryFile] = []
        self.entry_points: list[EntryPoint] = []
        # What check() accepted: the store's plan for the entry (None: no commands), for the version.
        # Adding a script or an entry point afterwards drops it, so finalize checks again.
        self._plan: tuple[str, PublishPlan | None] | None = None
        self._created: list[Path] = []  # folders write_file made, outermost first
        self._lock: contextlib.AbstractContextManager[None] | None = None
        self.journal = Journal(store, self.dist)
        self._journal_begun = False
        self.planned_folders: set[Path] = set()  # where library files go, when the driver knows first

    def __enter__(self) -> Installation:
        self._lock = self.store.locked(create=True)
        self._lock.__enter__()
        if self.journal.path.exists():  # an earlier install of this dist was interrupted: settle it first
            recover(self.store, self.journal.path)
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._lock is not None
        try:
            for temporary, _ in self._unplaced:  # an install that failed before its commit: no stray files
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
            if self._unplaced:
                for folder in reversed(self._created):  # nor folders made for them (innermost first)
                    with contextlib.suppress(OSError):
                        os.rmdir(folder)  # fails, harmlessly, if anything else is in it
            if self._journal_begun:
                self.journal.forget()  # never committed: nothing to finish
        finally:
            self._unplaced.clear()
            self._lock.__exit__(None, None, None)

    def destination(self, scheme_key: str, path: str) -> Path | None:
        """Where a wheel file goes, after every check; None for a script (it goes into the store entry).

        Reads only, so a driver can check every file of a wheel before writing any.
        A ``.data/data/`` file that lands directly in ``Scripts`` (or ``bin``), as
        cmake's and ninja's programs do, is a script too: a launcher, not the
        program, is what must sit there.
        """
        try:
            check_relative_path(path, windows=self.scheme.windows)
        except PathRefused as error:
            where = " (a Windows environment cannot hold it)" if self.scheme.windows else ""
            raise PathRefused(error.message + where, hint=error.hint) from None
        if scheme_key == "scripts":
            return None
        destination = self.scheme.folder(scheme_key, self.dist).joinpath(*PurePosixPath(path).parts)
        if destination.parent == self.scheme.scripts:
            return None
        self._check_destination(destination, f"{scheme_key}/{path}")
        return destination

    def write_file(self, scheme_key: str, path: str, data: bytes, *, executable: bool = False) -> Path | None:
        """Install one file of the wheel; scripts are kept for the store entry (and None returned)."""
        destination = self.destination(scheme_key, path)
        if destination is None:
            name = PurePosixPath(path).name if scheme_key != "scripts" else path
            self.scripts.append(_rewrite_shebang(EntryFile(name, data, True), self.scheme))
            self._plan = None  # a new script: the entry must be checked again
            return None
        self.write_to(destination, data, executable=executable)
        return destination

    def write_to(self, destination: Path, data: bytes, *, executable: bool = False) -> None:
        """Write a library file to where :meth:`destination` said it goes (it checked it already)."""
        if not self._journal_begun:
            self.journal.begin(self.planned_folders)  # before the first temporary: a crash is rolled back
            self._journal_begun = True
        self._created += fsutil.make_dirs(destination.parent)
        temporary = self.journal.temporary(destination)
        fsutil.write_new(temporary, data, executable=executable, sync=not fsutil.DEFER_FILE_SYNC)
        self._unplaced.append((temporary, destination))
        self._digests[destination] = hashlib.sha256(data).hexdigest(), len(data)
        self.written.append(destination)

    def _check_destination(self, destination: Path, member: str) -> None:
        """Refuse a file that would land on what is not this wheel's to write.

        ``.data/data/`` reaches the whole prefix, so a wheel could otherwise write
        shimgen's own records (a link record that hijacks another command), replace
        a command's launcher, or plant metadata for another distribution. Judged by
        where the file really lands: through a venv's ``lib64 -> lib`` link, and
        in any case, as Windows and macOS folders ignore it.
        """
        real = self._real_location(destination, member)
        store = self.store
        if _within(real, self._real(store.root)):
            raise PathRefused(
                f"wheel file {member!r} would be written into shimgen's own folder", path=destination
            )
        if os.path.dirname(real) == self._real(self.scheme.scripts):
            raise PathRefused(f"wheel file {member!r} would go where launchers go", path=destination)
        lib = self._real(self.scheme.lib)
        if _within(real, lib):
            top = real[len(lib) + 1 :].split(os.sep, 1)[0]
            if top.lower().endswith(".dist-info") and not _dist_info_of(top, self.dist):
                raise PathRefused(
                    f"wheel file {member!r} would go into another distribution's metadata ({top})",
                    path=destination,
                )

    def _real(self, folder: Path) -> str:
        """``folder``'s real, case-folded path.

        Folded on every OS: Windows and macOS folders ignore case, and refusing
        ``BIN/x`` on Linux too costs nothing real.
        """
        return _realpath(folder).lower()

    def _real_location(self, destination: Path, member: str) -> str:
        """Where ``destination`` really is: its nearest existing folder resolved, the rest appended.

        Refused if that leaves the prefix (an existing link on the way leading out).
        """
        existing, rest = destination.parent, [destination.name]
        while not existing.exists() and existing != self.store.prefix:
            existing, rest = existing.parent, [existing.name, *rest]
        real = os.path.join(self._real(existing), *rest).lower()
        if not _within(real, self._real(self.store.prefix)):
            raise PathRefused(
                f"wheel file {member!r} would be written through a link that leaves the environment",
                path=existing,
            )
        return real

    def add_entry_point(self, point: EntryPoint) -> None:
        self.entry_points.append(point)
        self._plan = None

    def contents(self) -> tuple[list[EntryFile], list[Command]]:
        """What the store entry would hold: the wheel's scripts, then its entry points, and their commands."""
        files = list(self.scripts)
        commands = _script_commands(files, self.scheme)
        python_files, python_commands = entry_point_files(self.entry_points, self.scheme)
        return files + python_files, commands + python_commands

    def check(self, version: str) -> PublishPlan | None:
        """Refuse, before anything is written, commands the environment cannot take; the store's plan."""
        self._check_interpreter()
        files, commands = self.contents()
        plan = None
        if commands:
            take_over = self._taken_over(installed_versions(self.scheme, self.dist), commands)
            plan = self.store.plan(
                self.dist, version, files, commands, kind=self.kind, arch=self.arch, take_over=take_over
            )
        self._plan = version, plan
        return plan

    def commands(self) -> list[Command]:
        """The commands this wheel brings (as the last check planned them)."""
        return list(self._plan[1].commands) if self._plan and self._plan[1] else self.contents()[1]

    def _check_interpreter(self) -> None:
        """Python entry points need the environment's own Python: refuse a prefix without one.

        Not where the layout is another OS's (``--platform`` from Linux prepares a Windows
        environment whose Python may come later): only an interpreter this OS could run counts.
        """
        same_os = self.scheme.windows == (os.name == "nt")
        python = self.store.prefix / self.scheme.interpreter
        if self.entry_points and same_os and not os.path.lexists(python):
            raise ShimgenError(
                f"not a Python environment: {self.scheme.interpreter} is missing, so the commands of "
                f"{self.dist} could not run",
                path=python,
                hint="give --prefix a virtual environment (python -m venv, uv venv); nothing changed",
            )

    def _taken_over(self, earlier: list[Installed], commands: list[Command]) -> set[str]:
        """Commands whose file in Scripts (or bin) an earlier install of this dist put there.

        pip's launcher or script for ``tool`` is this distribution's own file (its
        RECORD says so): the new launcher replaces it in one rename, as an upgrade
        replaces any file of the old version. Any other file in the way is refused.
        """
        owned = {path for previous in earlier for path in previous.files}
        shims = self.store.shims_for(self.layout)
        return {command.name for command in commands if shims.path(command.name) in owned}

    def finalize(self, version: str, dist_info: str) -> InstallResult:
        """Make the installation live: library files, the store entry and commands, INSTALLER, RECORD.

        Everything that can refuse (an earlier install's RECORD naming a path
        outside the environment, a command another dist owns) is read and checked,
        the store entry is built and every library file written is made durable,
        before the commit point (shimgen.install_journal). After it, the install is
        finished even if this process is not: by running it again, ``shimgen sync``
        or ``shimgen doctor --fix``.
        """
        store, scheme = self.store, self.scheme
        info = scheme.lib / dist_info
        # What was installed before (any version, this one included on a reinstall), read
        # before this wheel's dist-info is in place.
        earlier = installed_versions(scheme, self.dist)
        planned = self._plan[1] if self._plan and self._plan[0] == version else self.check(version)
        entry = None
        if planned is not None:
            entry = store.build(planned).manifest.entry_name
        elif self.kind is not None:
            store.record_layout(self.layout)  # --platform was given: later installs need not repeat it
        take_over = set(planned.take_over) if planned else set()
        plan = self._journal_plan(version, info, entry, earlier, take_over)
        if self._unplaced and fsutil.DEFER_FILE_SYNC:
            fsutil.sync_filesystem(self._unplaced[0][1].parent)  # every temporary durable before the commit
        self.journal.commit(plan)
        self._unplaced, self._journal_begun = [], False  # committed: __exit__ must not undo it
        try:
            finish(store, self.journal, plan)
        except (ShimgenError, OSError) as error:
            raise ShimgenError(
                f"{self.dist} {version} is installed halfway: {_reason(error)}",
                path=getattr(error, "path", None) or getattr(error, "filename", None),
                hint="fix that, then run the same command again, 'shimgen sync' or 'shimgen doctor --fix': "
                "each finishes this install",
            ) from None
        others = [i.version for i in earlier if i.version != version]
        return InstallResult(
            self.dist,
            version,
            others[0] if others else (version if earlier else None),
            len(self.written),
            [c.name for c in (planned.commands if planned else ())],
        )

    def _journal_plan(
        self, version: str, info: Path, entry: str | None, earlier: list[Installed], take_over: set[str]
    ) -> Plan:
        """What the committed journal records: every path relative to the prefix, every digest known."""
        prefix = self.store.prefix
        files: dict[str, FileDigest] = {}
        for path in self.written:
            digest = self._digests.get(path) or fsutil.hash_file(path)[::-1]
            files[_relative(prefix, path)] = (digest[0], digest[1])
        kept = {*self.written, info / "INSTALLER", info / "RECORD"}
        obsolete = [p for i in earlier for p in i.files if p not in kept]
        return Plan(
            self.dist,
            version,
            _relative(prefix, info),
            entry,
            files,
            [_relative(prefix, p) for p in obsolete],
            [_relative(prefix, i.dist_info) for i in earlier if i.dist_info != info],
            sorted(take_over),
        )


def _relative(prefix: Path, path: Path) -> str:
    return os.path.relpath(path, prefix).replace(os.sep, "/")


def _reason(error: Exception) -> str:
    return (
        error.message if isinstance(error, ShimgenError) else (getattr(error, "strerror", None) or str(error))
    )


def install_wheel(
    store: Store,
    wheel: Path | WheelFile,
    *,
    platform: str | None = None,
    progress: Progress | None = None,
) -> InstallResult:
    """Install or upgrade one wheel; the environment's running tools are never touched.

    Everything is checked before the first file is written: the wheel against
    its RECORD, its tags against the environment, every file's destination,
    and its commands against the environment (see :func:`prepare_install`).
    ``wheel`` is a path, or a :class:`WheelFile` the caller opened.
    ``progress`` is called with the bytes read: :func:`progress_total` for an
    unverified wheel, half of it for a verified one.
    """
    if isinstance(wheel, WheelFile):
        return prepare_install(store, wheel, platform=platform, progress=progress).run(progress)
    with WheelFile(wheel) as opened:
        return prepare_install(store, opened, platform=platform, progress=progress).run(progress)


def progress_total(wheel: WheelFile) -> int:
    """What :func:`install_wheel` reports progress against: every byte is read to verify, then to install."""
    return 2 * wheel.uncompressed_size


def check_fits(store: Store, wheel: WheelFile, platform: str | None = None) -> None:
    """Refuse a wheel built for another OS, architecture or Python than the environment's (see tags)."""
    kind, arch = platform_layout(platform)
    layout = store.planned_layout(kind, arch)
    check_wheel_fits(
        wheel.path.name,
        wheel.python_tag,
        wheel.abi_tag,
        wheel.platform,
        windows_arch=layout.arch if layout.kind == WINDOWS else None,
        version=environment_python(store.prefix),
        machines=None if layout.kind == WINDOWS else environment_machines(store.prefix),
    )


@dataclass
class PreparedInstall:
    """A wheel checked in full against an environment, ready to install: nothing written yet."""

    wheel: WheelFile
    installation: Installation
    library: list[tuple[str, Path]]  # (member, checked destination) of the files for site-packages etc.

    def run(self, progress: Progress | None = None) -> InstallResult:
        """Write the library files, then publish and make RECORD true (see Installation.finalize)."""
        wheel, installation = self.wheel, self.installation
        installation.planned_folders = {destination.parent for _, destination in self.library}
        with installation:
            for member, destination in self.library:
                data = wheel.read(member)
                installation.write_to(destination, data, executable=_is_executable(wheel, member))
                if progress:
                    progress(len(data))
            return installation.finalize(wheel.version, wheel.dist_info)


def prepare_install(
    store: Store, wheel: WheelFile, *, platform: str | None = None, progress: Progress | None = None
) -> PreparedInstall:
    """Check everything about installing ``wheel`` into ``store``'s environment; write nothing.

    The CLI prepares every wheel it is given before it installs the first.
    """
    check_fits(store, wheel, platform)
    wheel.verify(progress)
    installation = Installation(store, wheel.dist, platform=platform)
    library: list[tuple[str, Path]] = []
    for member in wheel.members:
        if member.startswith(f"{wheel.data_dir}/"):
            key, _, path = member[len(wheel.data_dir) + 1 :].partition("/")
            installation.scheme.folder(key, wheel.dist)  # an unknown .data folder fails here, early
        elif member == f"{wheel.dist_info}/RECORD" or member.endswith((".jws", ".p7s")):
            if progress:
                progress(wheel.info(member).file_size)  # verified, not installed: RECORD is rewritten
            continue
        else:
            key, path = ("purelib" if wheel.root_is_purelib else "platlib"), member
        destination = installation.destination(key, path)
        if destination is None:  # a script: into the store entry
            data = wheel.read(member)
            installation.write_file(key, path, data)  # only collected: nothing is written yet
            if progress:
                progress(len(data))
        else:
            library.append((member, destination))
    for point in wheel.entry_points():
        installation.add_entry_point(point)
    installation.check(wheel.version)
    return PreparedInstall(wheel, installation, library)


def _is_executable(wheel: WheelFile, member: str) -> bool:
    return bool((wheel.info(member).external_attr >> 16) & 0o111)


def _script_commands(files: list[EntryFile], scheme: Scheme) -> list[Command]:
    """Commands for the files of ``<name>.data/scripts/``: Windows programs, or POSIX executables/scripts."""
    commands = []
    for file in files:
        if "/" in file.path:
            continue  # a subfolder of scripts: data beside the programs
        name = file.path
        if scheme.windows:
            if not name.lower().endswith(".exe"):
                continue  # pip runs such scripts through a launcher too; shimgen's store keeps them as data
            name = name[:-4]
        commands.append(Command(name, file.path))
    return commands


def _rewrite_shebang(file: EntryFile, scheme: Scheme) -> EntryFile:
    """``#!python`` in a wheel script means "this environment's Python" (the wheel spec)."""
    data = file.source if isinstance(file.source, bytes) else b""
    if not scheme.windows and re.match(rb"^#!python(w)?[^\S\r\n]*(\r?\n)", data):
        rest = data.split(b"\n", 1)[1]
        first = posix_shebang(scheme.prefix / "bin" / "python").encode()
        return EntryFile(file.path, first + b"\n" + rest, True)
    return file


def uninstall(store: Store, dist: str) -> tuple[str, str]:
    """Remove an installed distribution: its files, its commands; its store entries are left for GC.

    Returns the distribution and the version removed. Committed in an install journal before
    the first file goes (shimgen.install_journal), so an uninstall that stops halfway is finished
    by running it again, ``shimgen sync`` or ``shimgen doctor --fix``, never left as a
    half-deleted distribution that sync would give its commands back to.
    """
    dist = normalize_dist(dist)
    journal = Journal(store, dist)
    if journal.path.exists():
        with store.locked():
            settled = recover(store, journal.path)  # an earlier install or uninstall of it stopped
        if settled.finished is not None and settled.uninstalled:
            return dist, settled.finished  # that was this uninstall, interrupted: now it is done
    layout = (
        store.layout()
        if store.initialized
        else Layout(WINDOWS if (store.prefix / "Scripts").is_dir() else POSIX, Arch.X64)
    )
    scheme = scheme_for(store.prefix, layout)
    installed = find_installed(scheme, dist)
    if installed is None:
        raise ShimgenError(
            f"{dist} is not installed in this environment", path=scheme.lib, hint="see 'pip list'"
        )
    if not (installed.dist_info / "RECORD").is_file():
        raise ShimgenError(
            f"{dist} {installed.version} has no RECORD, so its files are unknown; nothing was removed",
            path=installed.dist_info,
            hint="reinstall it ('shimgen install WHEEL'), then uninstall it",
        )
    files = installed.files  # confined before anything changes
    prefix = store.prefix
    plan = Plan(
        dist,
        installed.version,
        None,
        None,
        obsolete=[_relative(prefix, p) for p in files if store.root not in p.parents],
        obsolete_dist_infos=[_relative(prefix, installed.dist_info)],
    )
    with store.locked(create=True):
        journal.commit(plan)  # launchers another dist owns now stay (finish skips present launchers)
        finish(store, journal, plan)
    return dist, installed.version


def forget_commands(store: Store, dist: str) -> None:
    """After ``shimgen remove``: drop the removed commands' files from the dist's RECORD, if installed.

    Otherwise a later ``pip uninstall`` would delete whatever is at those paths
    then: another distribution's launcher for the same command. The other rows
    are kept as they are (nothing is re-hashed, so a file changed or lost since
    does not stop this, nor gets a new hash).
    """
    scheme = scheme_for(store.prefix, store.layout())
    installed = find_installed(scheme, normalize_dist(dist))
    if installed is None or not installed.record.is_file():
        return
    folder = store.shims().folder

    def keep(path: Path) -> bool:
        return store.root not in path.parents and not (path.parent == folder and not os.path.lexists(path))

    rows = list(zip(installed.files, installed.rows))
    text = rewritten_record(scheme.lib, installed.record, rows, keep=keep, shims={})
    if [row for _, row in rows] != [row for row in csv.reader(io.StringIO(text)) if row]:
        fsutil.atomic_write(installed.record, text.encode())
