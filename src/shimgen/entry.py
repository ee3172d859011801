"""Store entries: the immutable folders that hold one distribution version's programs.

An entry is ``.shimgen/store/<dist>/<version>-<digest>/``: the files side by
side (a tool that looks for its siblings next to its own path still finds
them) and a manifest, ``.shimgen-entry.json``, listing every file's size and
SHA-256 and the commands the entry provides. The digest in the folder name is
the SHA-256 of that listing, so the same content always lands in the same
folder, re-publishing is idempotent, and tampering is detectable.

An entry is built in a temporary folder and renamed into place whole, so a
crash leaves either no entry or a complete one (plus a ``.tmp-*`` leftover
that GC removes). Once in place, an entry is never modified.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from shimgen import fsutil
from shimgen.errors import PathRefused, ShimgenError
from shimgen.linkrecord import LinkRecord
from shimgen.paths import (
    MANIFEST_NAME,
    STORE_DIR,
    check_command_name,
    check_relative_path,
    check_version,
    normalize_dist,
)

FORMAT_VERSION = 1


@dataclass(frozen=True)
class Command:
    """A command an entry provides.

    ``file`` is the program inside the entry; for a Python entry point it is
    the script and ``interpreter`` is the environment's Python, relative to the
    prefix (``Scripts/python.exe``). ``gui`` picks the GUI launcher on Windows.
    """

    name: str
    file: str
    gui: bool = False
    interpreter: str | None = None

    def __post_init__(self) -> None:
        # The rules of every OS here; a Windows layout adds its own when publishing.
        check_command_name(self.name, windows=False)
        check_relative_path(self.file, windows=False)
        if self.interpreter is not None:
            check_relative_path(self.interpreter, windows=False)

    def link_record(self, entry_path: str) -> LinkRecord:
        """The link record that makes this command run from the entry at ``entry_path`` (prefix-relative)."""
        program = f"{entry_path}/{self.file}"
        if self.interpreter is None:
            return LinkRecord(program)
        return LinkRecord(self.interpreter, program)


@dataclass(frozen=True)
class EntryFile:
    """A file to put into a new entry: from a path (copied, or hard-linked with ``link``) or from bytes.

    ``link`` is how ``adopt`` takes a program into the store without copying
    it: the program keeps its old name until its launcher replaces it, so a
    crash at any point loses nothing.
    """

    path: str
    source: Path | bytes
    executable: bool = False
    link: bool = False


@dataclass(frozen=True)
class FileRecord:
    path: str
    size: int
    sha256: str
    executable: bool


@dataclass(frozen=True)
class Manifest:
    dist: str
    version: str
    files: tuple[FileRecord, ...]
    commands: tuple[Command, ...]

    def _contents(self) -> dict[str, object]:
        # Spelled out rather than dataclasses.asdict: that deep-copies every field, and a
        # thousand-command entry made it a measurable part of an install.
        return {
            "dist": self.dist,
            "version": self.version,
            "files": [
                {"path": f.path, "size": f.size, "sha256": f.sha256, "executable": f.executable}
                for f in self.files
            ],
            "commands": [
                {"name": c.name, "file": c.file, "gui": c.gui, "interpreter": c.interpreter}
                for c in self.commands
            ],
        }

    @functools.cached_property
    def digest(self) -> str:
        body = json.dumps(self._contents(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(body.encode()).hexdigest()

    @property
    def entry_name(self) -> str:
        return f"{self.version}-{self.digest[:16]}"

    def to_bytes(self) -> bytes:
        """The manifest file: JSON, one line per file and per command, so a diff reads well.

        (json's ``indent`` would do much the same through its pure-Python encoder,
        which cost a thousand-command install more than writing the files did.)
        """
        body = {"format": FORMAT_VERSION, "digest": self.digest, **self._contents()}
        lines = []
        for key, value in sorted(body.items()):
            if isinstance(value, list):
                items = ",\n".join(f"  {json.dumps(item, sort_keys=True)}" for item in value)
                text = f"[\n{items}\n ]" if value else "[]"
            else:
                text = json.dumps(value)
            lines.append(f" {json.dumps(key)}: {text}")
        return ("{\n" + ",\n".join(lines) + "\n}\n").encode()

    @classmethod
    def from_bytes(cls, data: bytes, *, source: Path) -> Manifest:
        try:
            body = json.loads(data)
            if body.get("format") != FORMAT_VERSION:
                raise ShimgenError(
                    f"entry manifest has format {body.get('format')!r}; this shimgen reads {FORMAT_VERSION}",
                    path=source,
                    hint="it was written by another shimgen version: upgrade shimgen",
                )
            manifest = cls(
                normalize_dist(body["dist"]),
                check_version(body["version"]),
                tuple(
                    FileRecord(
                        check_relative_path(f["path"], windows=False),
                        int(f["size"]),
                        str(f["sha256"]),
                        bool(f["executable"]),
                    )
                    for f in body["files"]
                ),
                tuple(
                    Command(c["name"], c["file"], bool(c["gui"]), c.get("interpreter"))
                    for c in body["commands"]
                ),
            )
        except ShimgenError as error:
            if error.path is None:
                raise ShimgenError(f"invalid entry manifest: {error.message}", path=source) from None
            raise
        except (ValueError, KeyError, TypeError, AttributeError, OverflowError) as error:
            raise ShimgenError(f"invalid entry manifest ({error!r})", path=source) from None
        if body.get("digest") != manifest.digest:
            raise ShimgenError("entry manifest digest does not match its contents (tampered)", path=source)
        return manifest


def entry_relative_path(dist: str, entry_name: str) -> str:
    """The entry's path relative to the prefix, as link records spell it."""
    return "/".join((*STORE_DIR, dist, entry_name))


def check_contents(files: Sequence[EntryFile], commands: Sequence[Command]) -> None:
    """Refuse a file list or command list that could not make one coherent entry."""
    if not commands:
        raise ShimgenError("nothing to publish: an entry needs at least one command")
    seen: dict[str, str] = {}
    for file in files:
        check_relative_path(file.path, windows=False)
        if PurePosixPath(file.path).name == MANIFEST_NAME:
            raise PathRefused(f"refused path {file.path!r}: the name is reserved for shimgen's manifest")
        key = file.path.lower()  # Windows folders are case-insensitive
        if key in seen:
            raise PathRefused(f"two files named {file.path!r} and {seen[key]!r} in one entry")
        seen[key] = file.path
    names: dict[str, str] = {}
    for command in commands:
        if command.file.lower() not in seen:
            raise ShimgenError(f"command {command.name!r} names {command.file!r}, which is not in the entry")
        key = command.name.lower()
        if key in names:
            raise PathRefused(f"two commands named {command.name!r} and {names[key]!r}")
        names[key] = command.name


def build_entry(
    dist_dir: Path,
    dist: str,
    version: str,
    files: Sequence[EntryFile],
    commands: Sequence[Command],
    trash: Path,
) -> tuple[Manifest, bool]:
    """Put an entry for these files into ``dist_dir``; return its manifest and whether it was new.

    An entry with the same digest that is already complete is reused; one that
    is damaged is moved to the trash and replaced.
    """
    check_contents(files, commands)
    fsutil.make_dirs(dist_dir)
    scratch = fsutil.temporary_folder(dist_dir)
    defer = fsutil.DEFER_FILE_SYNC  # one flush for the whole entry instead of one per file
    try:
        written: dict[tuple[bytes, bool], tuple[Path, FileRecord]] = {}
        records = [_put_file(scratch, file, written, sync=not defer) for file in files]
        manifest = Manifest(dist, version, tuple(records), tuple(commands))
        fsutil.create_file(scratch / MANIFEST_NAME, manifest.to_bytes(), sync=not defer)
        # Every byte and name in the entry is durable before it goes live.
        if defer:
            fsutil.sync_filesystem(scratch)
        else:
            for folder in [*(d for d in scratch.rglob("*") if d.is_dir()), scratch]:
                fsutil.fsync_directory(folder)
        final = dist_dir / manifest.entry_name
        if final.exists():
            if not verify_entry(final, deep=True)[1]:
                fsutil.remove_tree(scratch)
                return manifest, False
            fsutil.move_aside(final, trash)
        fsutil.replace(scratch, final)
    except BaseException:
        if scratch.exists():
            fsutil.remove_tree(scratch)
        raise
    fsutil.fsync_directory(dist_dir)
    return manifest, True


def _put_file(
    scratch: Path, file: EntryFile, written: dict[tuple[bytes, bool], tuple[Path, FileRecord]], *, sync: bool
) -> FileRecord:
    """Write one file into the entry being built; ``written`` remembers small contents given as bytes.

    The same contents given again (every Windows entry-point script of an entry is one
    script, see shimgen.scripts) become another name of the first file: a hard link costs
    no new file, where creating one is most of an install's time. Where the filesystem
    has no hard links, a copy is written instead.
    """
    destination = scratch.joinpath(*PurePosixPath(file.path).parts)
    if not destination.parent.is_dir():
        os.makedirs(destination.parent)
    if file.link and isinstance(file.source, Path) and _hard_link(file.source, destination):
        size, sha256 = fsutil.hash_file(destination)
        return FileRecord(file.path, size, sha256, file.executable)
    small = file.source if isinstance(file.source, bytes) and len(file.source) <= _SHARED_AT_MOST else None
    if small is not None:
        same = written.get((small, file.executable))
        if same is not None and _hard_link(same[0], destination):
            return FileRecord(file.path, same[1].size, same[1].sha256, file.executable)
    chunks = file.source if isinstance(file.source, bytes) else _read_source(file.source)
    size, sha256 = fsutil.create_file(destination, chunks, executable=file.executable, sync=sync)
    record = FileRecord(file.path, size, sha256, file.executable)
    if small is not None:
        written.setdefault((small, file.executable), (destination, record))
    return record


# Files shared by content are scripts, a few hundred bytes each. Looking a large program up by its
# bytes would hash all of them (about 10 ms for 30 MiB) for a match that never happens.
_SHARED_AT_MOST = 64 * 1024


def _hard_link(source: Path, destination: Path) -> bool:
    """Link ``source`` into the entry; False when the filesystem cannot (another volume), so it is copied."""
    try:
        os.link(source, destination)
    except OSError:
        return False
    return True


def _read_source(path: Path) -> Iterable[bytes]:
    try:
        yield from fsutil.read_chunks(path)
    except OSError as error:
        raise ShimgenError(f"cannot read {path.name} ({error.strerror or error})", path=path) from None


def read_manifest(entry_dir: Path) -> Manifest:
    path = entry_dir / MANIFEST_NAME
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ShimgenError("entry has no manifest", path=path) from None
    except OSError as error:
        raise ShimgenError(f"cannot read entry manifest ({error.strerror})", path=path) from None
    return Manifest.from_bytes(data, source=path)


def verify_entry(entry_dir: Path, *, deep: bool) -> tuple[Manifest | None, list[str]]:
    """Read and check an entry: its manifest, its name, and every file (by size, and by hash when ``deep``).

    Returns the manifest (if readable) and the problems found, each naming the path.
    """
    try:
        manifest = read_manifest(entry_dir)
    except ShimgenError as error:
        return None, [str(error).replace("\n", " ")]
    problems = []
    if manifest.entry_name != entry_dir.name:
        problems.append(f"entry folder name does not match its manifest ({manifest.entry_name}): {entry_dir}")
    hashed: dict[tuple[int, int], tuple[int, str]] = {}  # names of one file (hard links) are hashed once
    for record in manifest.files:
        path = entry_dir.joinpath(*PurePosixPath(record.path).parts)
        try:
            size, sha256 = _hash_once(path, hashed) if deep else (path.stat().st_size, record.sha256)
        except FileNotFoundError:
            problems.append(f"file missing from entry: {path}")
            continue
        except OSError as error:
            problems.append(f"cannot read entry file ({error.strerror}): {path}")
            continue
        if size != record.size or sha256 != record.sha256:
            problems.append(f"file changed since it was published (tampered): {path}")
    return manifest, problems


def _hash_once(path: Path, hashed: dict[tuple[int, int], tuple[int, str]]) -> tuple[int, str]:
    """Size and SHA-256 of ``path``, read once however many names its file has in the entry."""
    status = path.stat()
    key = (status.st_dev, status.st_ino)
    if status.st_nlink < 2 or key not in hashed:
        hashed[key] = fsutil.hash_file(path)
    return hashed[key]
