"""``shimgen run -- COMMAND [ARGS...]``: an installer run with the environment made safe for it.

The steps, under the environment's lock (another shimgen waits):

1. sync, so that every program an installed distribution owns is behind a
   launcher and every RECORD follows shimgen's rule (shimgen.record);
2. move this environment's running files out of the installer's way
   (shimgen.stash): pip and uv skip RECORD paths that are gone;
3. find COMMAND as Windows would (``PATH``, ``PATHEXT``; as a shell would on
   POSIX); if it is a launcher of this environment (uv or pip installed in it),
   run the launcher's target directly, so no launcher of this environment runs
   while the installer works;
4. run it: it owns the console, its standard streams and Ctrl-C (shimgen waits
   and ignores them);
5. whatever its fate: put back what it did not replace, then sync.

The exit status is the installer's, or 1 when it succeeded and the sync after
it failed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from shimgen.environment import all_installed, scheme_for
from shimgen.errors import ShimgenError
from shimgen.launcher import FileKind, identify, resolve_launcher
from shimgen.stash import Moved, Stash, listed_by_records, running_files
from shimgen.store import Store
from shimgen.sync import SyncReport, sync

_IMAGES = (".exe", ".dll", ".pyd")
_DEFAULT_PATHEXT = ".COM;.EXE;.BAT;.CMD"


class CommandNotFound(ShimgenError):
    """COMMAND is neither a path nor on PATH: nothing was run."""


@dataclass
class RunReport:
    before: SyncReport | None = None
    moved: list[Moved] = field(default_factory=list)
    argv: list[str] = field(default_factory=list)
    status: int | None = None
    after: SyncReport | None = None
    restored: list[Path] = field(default_factory=list)


def find_command(name: str, environ: Mapping[str, str] | None = None) -> Path | None:
    """Where ``name`` is found as Windows finds a command (``PATH`` in order, each ``PATHEXT``), or
    as a POSIX shell does (an executable file in ``PATH``). A name with a folder is taken as it is.

    The current folder is not searched unless ``PATH`` names it (PowerShell's rule too): a file
    planted in a project folder must not run instead of the installer.
    """
    environ = os.environ if environ is None else environ
    if os.path.dirname(name):
        candidates = [Path(name)]
    else:
        folders = [f.strip().strip('"') for f in environ.get("PATH", "").split(os.pathsep)]
        candidates = [Path(folder, name) for folder in folders if folder]
    if os.name != "nt":
        return next((c for c in candidates if c.is_file() and os.access(c, os.X_OK)), None)
    extensions = [e.lower() for e in environ.get("PATHEXT", _DEFAULT_PATHEXT).split(";") if e.strip()]
    for candidate in candidates:
        if candidate.suffix.lower() in extensions and candidate.is_file():
            return candidate
        for extension in extensions:
            with_extension = candidate.with_name(candidate.name + extension)
            if with_extension.is_file():
                return with_extension
    return None


def installer_argv(
    store: Store, command: Sequence[str], environ: Mapping[str, str] | None = None
) -> list[str]:
    """The command line to start: COMMAND found, and a launcher of this environment replaced by its target."""
    found = find_command(command[0], environ)
    if found is None:
        raise CommandNotFound(
            f"command not found: {command[0]}",
            hint="give its path, or make sure it is on PATH (nothing was run)",
        )
    return [*_direct(store, found), *command[1:]]


def _direct(store: Store, program: Path) -> list[str]:
    """``program``, or what it starts when it is a shimgen launcher of this environment."""
    if os.name != "nt" or not store.initialized or store.layout().kind != "windows":
        return [str(program)]  # a POSIX shim is a symlink: nothing of it stays open while it runs
    with contextlib.suppress(OSError):
        if not os.path.samefile(program.parent, store.shims().folder):
            return [str(program)]
        if identify(program.read_bytes()).kind is not FileKind.SHIMGEN_LAUNCHER:
            return [str(program)]
        resolution = resolve_launcher(program)
        if resolution.ok and resolution.target is not None:
            return [str(resolution.target), *([str(resolution.script)] if resolution.script else [])]
        raise ShimgenError(
            f"{program.name}, a launcher of this environment, cannot start: {'; '.join(resolution.problems)}",
            path=program,
            hint="run 'shimgen doctor --fix', then retry (nothing was run)",
        )
    return [str(program)]


def in_the_way(store: Store) -> list[Path]:
    """This environment's running files an installer may delete or replace: launchers, and the
    programs, DLLs and extension modules that a RECORD lists (Windows only; POSIX allows both)."""
    if os.name != "nt" or not store.initialized:
        return []
    candidates = set(store.shims().present().values())
    site = all_installed(scheme_for(store.prefix, store.layout()))
    for versions in site.values():
        for installed in versions:
            with contextlib.suppress(ShimgenError):
                candidates.update(p for p in installed.files if p.suffix.lower() in _IMAGES)
    return running_files(sorted(candidates))


def run_installer(argv: list[str]) -> int:
    """Start the installer and wait for it; Ctrl-C and Ctrl-Break are its to handle, not ours."""
    with _interrupts_left_to_child():
        try:
            process = subprocess.Popen(argv)
        except OSError as error:
            raise ShimgenError(
                f"cannot start {argv[0]} ({error.strerror or error})", path=argv[0], hint="check the command"
            ) from None
        return exit_status(process.wait())


def exit_status(returncode: int) -> int:
    """The status to exit with: a POSIX signal as 128+N, as shells report it."""
    return 128 - returncode if returncode < 0 else returncode


@contextlib.contextmanager
def _interrupts_left_to_child() -> Iterator[None]:
    """Catch Ctrl-C (Ctrl-Break, Ctrl-\\) and do nothing, while the child decides what they mean.

    A handler, not SIG_IGN: an ignored signal stays ignored in a child on POSIX,
    a handler is reset when the child starts.
    """
    names = ("SIGINT", "SIGBREAK", "SIGQUIT")
    wanted = [getattr(signal, n) for n in names if hasattr(signal, n)]
    previous = {s: signal.signal(s, _ignore) for s in wanted}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _ignore(_signal: int, _frame: FrameType | None) -> None:
    return None


def prepare(store: Store, report: RunReport) -> Stash:
    """Steps 1 and 2: sync (without gc), then move running files aside. Hold the lock."""
    stash = Stash(store)
    report.before = sync(store, keep=None)  # puts back what an earlier, killed run moved aside
    report.moved = stash.move_aside(in_the_way(store))
    return stash


def finish(store: Store, stash: Stash, report: RunReport, keep: int) -> None:
    """Step 5: put back what the installer left alone, then sync. Hold the lock."""
    report.restored = stash.put_back(listed_by_records(store))
    report.after = sync(store, keep=keep)
