"""One wheel going into one environment: the destination an installer drives (shimgen's own
``install``, pypa/installer through shimgen.installer_destination, distlib through
shimgen.scriptmaker).

Library files go to site-packages through temporaries named by the install's
journal; the wheel's scripts and entry points become one store entry; the
commit point and what follows it are shimgen.install.journal's.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
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
    installed_versions,
    platform_layout,
    scheme_for,
)
from shimgen.errors import PathRefused, ShimgenError
from shimgen.install.journal import Journal, Plan, finish, prefix_relative, recover
from shimgen.install.loose_scripts import loose_destinations, split_scripts
from shimgen.paths import check_relative_path, normalize_dist
from shimgen.record import FileDigest
from shimgen.scripts import entry_point_files, posix_shebang
from shimgen.store import PublishPlan, Store


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
        self._loose: list[tuple[Path, EntryFile]] = []  # scripts for Scripts itself (see loose_scripts)
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
        files, _ = split_scripts(self.scripts, self.scheme)
        commands = _script_commands(files, self.scheme)
        python_files, python_commands = entry_point_files(self.entry_points, self.scheme)
        return files + python_files, commands + python_commands

    def check(self, version: str) -> PublishPlan | None:
        """Refuse, before anything is written, commands the environment cannot take; the store's plan."""
        self._check_interpreter()
        files, commands = self.contents()
        loose = split_scripts(self.scripts, self.scheme)[1]
        # read only when something is judged by it: most wheels have no loose script
        earlier = installed_versions(self.scheme, self.dist) if commands or loose else []
        self._loose = loose_destinations(loose, self.scheme, self.dist, earlier)
        plan = None
        if commands:
            take_over = self._taken_over(earlier, commands)
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
        before the commit point (shimgen.install.journal). After it, the install is
        finished even if this process is not: by running it again, ``shimgen sync``
        or ``shimgen doctor --fix``.
        """
        store, scheme = self.store, self.scheme
        info = scheme.lib / dist_info
        # What was installed before (any version, this one included on a reinstall), read
        # before this wheel's dist-info is in place.
        earlier = installed_versions(scheme, self.dist)
        planned = self._plan[1] if self._plan and self._plan[0] == version else self.check(version)
        for destination, file in self._loose:  # journaled like library files: the commit covers them
            data = file.source if isinstance(file.source, bytes) else file.source.read_bytes()
            self.write_to(destination, data)
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
            files[prefix_relative(prefix, path)] = (digest[0], digest[1])
        kept = {*self.written, info / "INSTALLER", info / "RECORD"}
        obsolete = [p for i in earlier for p in i.files if p not in kept]
        return Plan(
            self.dist,
            version,
            prefix_relative(prefix, info),
            entry,
            files,
            [prefix_relative(prefix, p) for p in obsolete],
            [prefix_relative(prefix, i.dist_info) for i in earlier if i.dist_info != info],
            sorted(take_over),
        )


def _reason(error: Exception) -> str:
    return (
        error.message if isinstance(error, ShimgenError) else (getattr(error, "strerror", None) or str(error))
    )


def _script_commands(files: list[EntryFile], scheme: Scheme) -> list[Command]:
    """Commands for the files of ``<name>.data/scripts/``: Windows programs, or POSIX executables/scripts."""
    commands = []
    for file in files:
        if "/" in file.path:
            continue  # a subfolder of scripts: data beside the programs
        name = file.path
        if scheme.windows:
            if not name.lower().endswith(".exe"):
                continue  # beside the programs, as data (see shimgen.install.loose_scripts)
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
