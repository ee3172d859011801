"""An install's journal: whatever point an install stops at, one version of the distribution is whole.

``.shimgen/installs/<dist>.json`` is written before the first library file, in
its *writing* form: the distribution and the token that names this install's
temporaries (``.NAME.<token>.tmp`` beside their destinations). Library files
are written under those names and the store entry is built, while nothing a
reader sees has changed. Then the journal is replaced by its *committed* form:
every library file with its digest, the entry, the new ``.dist-info``, what the
earlier version had that this one has not. That replacement is the commit
point.

What follows is :func:`finish`, and every step of it is idempotent: rename the
temporaries into place, make the entry current, write INSTALLER and RECORD,
delete the earlier version's files, delete the journal. Re-running the same
install, ``shimgen sync`` and ``shimgen doctor --fix`` all call :func:`recover`:
a journal still *writing* is rolled back (its temporaries deleted: the old
version was never touched), a *committed* one is finished. Without this, a
failure between placing library files and writing RECORD left two
``.dist-info`` folders, one without RECORD, which neither shimgen, pip nor uv
could uninstall.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from shimgen import fsutil
from shimgen.errors import ShimgenError
from shimgen.record import FileDigest, owned_shims, record_text
from shimgen.store import Store

FORMAT = 1
INSTALLER_NAME = "shimgen"  # what INSTALLER says of a distribution shimgen installed


@dataclass
class Plan:
    """A committed install: everything :func:`finish` needs, with paths relative to the prefix."""

    dist: str
    version: str
    dist_info: str | None  # the new .dist-info folder's path; None: an uninstall
    entry: str | None  # the store entry to make current; None: no commands (or an uninstall)
    files: dict[str, FileDigest] = field(default_factory=dict)  # library files -> digest
    obsolete: list[str] = field(default_factory=list)  # what earlier versions had and this one has not
    obsolete_dist_infos: list[str] = field(default_factory=list)
    take_over: list[str] = field(default_factory=list)  # commands whose earlier files the launchers replace
    platform: str | None = None
    arch: str | None = None


class Journal:
    """The journal of one distribution's install. Hold the store's lock while using it."""

    def __init__(self, store: Store, dist: str) -> None:
        self.store = store
        self.dist = dist
        self.path = store.installs_dir / f"{dist}.json"
        self.token = secrets.token_hex(4)

    def begin(self, folders: Iterable[Path] = ()) -> None:
        """Record that this install is writing temporaries (before the first one).

        ``folders`` are those its files go to, when the installer knows them all first: a
        roll-back removes the ones it leaves empty (a crash right after a mkdir leaves no temporary
        in it to find it by).
        """
        relative = sorted({os.path.relpath(f, self.store.prefix).replace(os.sep, "/") for f in folders})
        body = {
            "format": FORMAT,
            "dist": self.dist,
            "phase": "writing",
            "token": self.token,
            "folders": relative,
        }
        self._write(body)

    def temporary(self, destination: Path) -> Path:
        return temporary_for(destination, self.token)

    def commit(self, plan: Plan) -> None:
        """The commit point: from here on, :func:`recover` finishes this install instead of undoing it."""
        body = {"format": FORMAT, "phase": "committed", "token": self.token, **plan.__dict__}
        self._write(body)

    def forget(self) -> None:
        if self.path.exists():
            fsutil.remove_file(self.path)

    def _write(self, body: dict[str, object]) -> None:
        fsutil.atomic_write(self.path, (json.dumps(body, indent=1, sort_keys=True) + "\n").encode())


def temporary_for(destination: Path, token: str) -> Path:
    return destination.with_name(f".{destination.name}.{token}.tmp")


def pending(store: Store) -> list[Path]:
    folder = store.installs_dir
    return (
        sorted(p for p in folder.glob("*.json") if not fsutil.is_temporary_name(p.name))
        if folder.is_dir()
        else []
    )


@dataclass(frozen=True)
class Recovered:
    dist: str
    finished: str | None  # the version finished, or None: rolled back
    temporaries: int  # leftovers deleted
    uninstalled: bool = False  # what was finished was an uninstall


def recover(store: Store, path: Path) -> Recovered:
    """Finish a committed install, or roll back one that was still writing. Hold the lock."""
    body = _read(path)
    dist, token = str(body["dist"]), str(body["token"])
    if body.get("phase") == "committed":
        plan = Plan(**{k: v for k, v in body.items() if k in Plan.__dataclass_fields__})  # type: ignore[arg-type]
        journal = Journal(store, dist)
        journal.token = token
        finish(store, journal, plan)
        return Recovered(dist, plan.version, 0, uninstalled=plan.dist_info is None)
    folders = [store.prefix / str(f) for f in body.get("folders", []) if isinstance(f, str)]  # type: ignore[attr-defined]
    removed = _remove_temporaries(store, token, [f for f in folders if store.prefix in f.parents])
    fsutil.remove_file(path)
    return Recovered(dist, None, removed)


def finish(store: Store, journal: Journal, plan: Plan) -> None:
    """After the commit point: each step idempotent, so a second call after a crash completes it."""
    prefix = store.prefix
    _place(store, journal, plan)
    if plan.entry is not None:
        manifest = store.manifest(plan.dist, plan.entry)
        store.make_current(plan.dist, manifest, take_over=plan.take_over, installed=True)
    elif store.initialized and store.commands_of(plan.dist) + (
        [plan.dist] if store.read_state(plan.dist) else []
    ):
        store.remove(plan.dist)
    if plan.dist_info is not None:
        _write_metadata(store, plan, prefix / plan.dist_info)
    _remove_obsolete(
        store, [prefix / p for p in plan.obsolete], [prefix / p for p in plan.obsolete_dist_infos]
    )
    journal.forget()


def _write_metadata(store: Store, plan: Plan, info: Path) -> None:
    """INSTALLER, then RECORD by the rule of shimgen.record (shims first), from the journal's digests."""
    fsutil.atomic_write(info / "INSTALLER", f"{INSTALLER_NAME}\n".encode())
    shims = owned_shims(store, plan.dist) if plan.entry is not None else {}
    known: dict[Path, FileDigest | None] = {store.prefix / p: (d[0], d[1]) for p, d in plan.files.items()}
    known.pop(info / "INSTALLER", None)  # the wheel's own INSTALLER, if it had one, is gone
    kept = {*known, info / "INSTALLER", *shims}
    text = record_text(info.parent, kept, info / "RECORD", {**known, **shims}, first=shims)
    fsutil.atomic_write(info / "RECORD", text.encode())


def _place(store: Store, journal: Journal, plan: Plan) -> None:
    """Rename every library temporary into place (a mapped file on Windows is renamed aside first)."""
    folders: dict[Path, None] = {}
    missing = []
    for relative in plan.files:
        destination = store.prefix / relative
        temporary = journal.temporary(destination)
        if os.path.lexists(temporary):
            fsutil.swap_in(temporary, destination, store.trash_dir)
            folders[destination.parent] = None
        elif not os.path.lexists(destination):
            missing.append(destination)
    if missing:
        raise ShimgenError(
            f"{len(missing)} file(s) of {plan.dist} {plan.version} are neither in place nor waiting to be",
            path=missing[0],
            hint=f"install the {plan.dist} {plan.version} wheel again",
        )
    for folder in folders:
        fsutil.fsync_directory(folder)


def _remove_obsolete(store: Store, files: Iterable[Path], dist_infos: Iterable[Path]) -> None:
    """Delete what the earlier version had and this one has not; a running file goes to the trash.

    Folders left empty go too, but never site-packages, the folders above it, or Scripts (bin).
    """
    files, dist_infos = list(files), list(dist_infos)
    launchers = set(store.shims().present().values()) if store.initialized else set()
    for path in files:
        if store.root in path.parents or path in launchers or not os.path.lexists(path):
            continue
        if path.is_dir() and not path.is_symlink():
            continue
        try:
            os.unlink(path)
        except PermissionError:
            if os.name != "nt":
                raise
            fsutil.move_aside(path, store.trash_dir)
    keep = _scheme_folders(store, [*dist_infos, *files])
    for folder in sorted({p.parent for p in files} | set(dist_infos), key=lambda p: -len(p.parts)):
        _remove_empty(folder, stop=store.prefix, keep=keep)


def _remove_empty(folder: Path, stop: Path, keep: set[Path]) -> None:
    with contextlib.suppress(OSError):
        while (
            folder != stop
            and folder not in keep
            and folder.is_dir()
            and not folder.is_symlink()
            and not any(folder.iterdir())
        ):
            os.rmdir(folder)
            folder = folder.parent


def _remove_temporaries(store: Store, token: str, planned: Iterable[Path]) -> int:
    """Delete this install's temporaries, and the folders it made for them that are empty now."""
    count = 0
    folders: set[Path] = set(planned)
    for path in _walk(store.prefix, store.root):
        if path.name.endswith(f".{token}.tmp") and path.name.startswith("."):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
                count += 1
                folders.add(path.parent)
    keep = _scheme_folders(store, folders)
    for folder in sorted(folders, key=lambda p: -len(p.parts)):
        _remove_empty(folder, stop=store.prefix, keep=keep)
    return count


def _scheme_folders(store: Store, near: Iterable[Path]) -> set[Path]:
    """Folders never removed for being empty: Scripts (bin), include, and site-packages with its parents."""
    keep = {store.prefix / name for name in ("Scripts", "bin", "Include", "include", "Lib", "lib")}
    for path in near:
        for folder in (path, *path.parents):
            if folder.name == "site-packages":
                keep |= {folder, *(p for p in folder.parents if store.prefix in p.parents)}
    return keep


def _walk(top: Path, skip: Path) -> Iterator[Path]:
    """Every file under ``top`` but ``skip``, never following a link out (rare: recovery only)."""
    for folder, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if Path(folder, d) != skip and not Path(folder, d).is_symlink()]
        for name in files:
            yield Path(folder, name)


def _read(path: Path) -> dict[str, object]:
    try:
        body = json.loads(path.read_bytes())
        if (
            not isinstance(body, dict)
            or body.get("format") != FORMAT
            or "token" not in body
            or "dist" not in body
        ):
            raise ValueError("not an install journal of this format")
        return body
    except (OSError, ValueError) as error:
        raise ShimgenError(
            f"the journal of an interrupted install cannot be read ({error})",
            path=path,
            hint="reinstall that distribution; then delete this file",
        ) from None


def prefix_relative(prefix: Path, path: Path) -> str:
    """How a journal names a path: relative to the prefix, with ``/``."""
    return os.path.relpath(path, prefix).replace(os.sep, "/")
