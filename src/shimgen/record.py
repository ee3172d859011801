"""RECORD in a shimgen environment: what it lists, and in which order.

A distribution's RECORD is also the list of files pip and uv delete when they
uninstall or upgrade it, and neither knows shimgen. So RECORD is written for
them, by one rule:

1. It lists the library files, the metadata, and the command shims (launchers
   on Windows, symlinks on POSIX): ``pip uninstall`` and ``uv pip uninstall``
   remove the commands with the distribution.
2. It never lists shimgen's own files (``.shimgen/``: link records, dist
   states, store entries). An installer that deleted a command's link record,
   and then stopped at a running program, left a launcher that could not start
   anything. Once the distribution is gone, ``shimgen sync`` drops its link
   records and ``gc`` its entries.
3. The shims come first. uv deletes in RECORD order and stops at the first
   error, keeping what it deleted; a running launcher cannot be deleted. With
   the shims first, an uninstall or upgrade of a running tool fails before it
   has deleted anything, and every command still runs the old version. On
   Windows all launchers of one distribution and subsystem are hard links of
   one file (see shimgen.shims), so whichever of them runs, the first row fails.
   pip renames instead of deleting, which a running launcher allows: pip's
   upgrade succeeds, and ``shimgen sync`` then adopts the programs it wrote.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from pathlib import Path

from shimgen.entry import Manifest
from shimgen.store import Store

FileDigest = tuple[str, int]  # SHA-256 (hex) and size


def owned_shims(store: Store, dist: str, current: Manifest | None = None) -> dict[Path, FileDigest | None]:
    """The shims of ``dist``'s current commands, each with its digest where its bytes are known.

    ``current`` is the current entry's manifest when the caller has just published it.
    A launcher's bytes are the shipped stub's; a symlink is listed without a hash, as pip does.
    """
    state = store.read_state(dist)
    if state is None:
        return {}
    if current is None or current.entry_name != state.current:
        current = store.manifest(dist, state.current)
    shims = store.shims()
    digests: dict[bool, FileDigest | None] = {}  # a thousand launchers are copies of one or two stubs
    found: dict[Path, FileDigest | None] = {}
    for command in current.commands:
        path = shims.path(command.name)
        if not os.path.lexists(path):
            continue  # not made yet (a repair will): RECORD lists what is there
        if command.gui not in digests:
            data = shims.shim_bytes(command.gui)
            digests[command.gui] = None if data is None else _digest(data)
        found[path] = digests[command.gui]
    return found


def follows_rule(rows: Sequence[Sequence[str]], shims: Collection[Path], lib: Path) -> bool:
    """Whether a RECORD of ``rows`` (in file order) already follows the rule for ``shims``.

    Judged on RECORD's text, not on confined paths: ``sync`` asks this of every
    managed distribution after every pip install, and most of them follow it.
    """
    if any(".shimgen/" in row[0].replace("\\", "/") for row in rows):
        return False
    expected = {_relative(lib, path) for path in shims}
    return {row[0] for row in rows[: len(expected)]} == expected


def record_text(
    lib: Path,
    files: Iterable[Path],
    record: Path,
    known: Mapping[Path, FileDigest | None] | None = None,
    *,
    first: Collection[Path] = (),
) -> str:
    """RECORD's text for ``files``, paths relative to ``lib`` (site-packages).

    ``first`` (the shims) come first, then the rest sorted, then RECORD itself.
    Hashes in ``known`` are trusted; the other files are read and hashed.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    known = known or {}
    folders: dict[Path, str] = {}  # relpath once per folder, not once per file
    unique = set(files) | set(first)
    ordered = sorted(unique & set(first), key=str) + sorted(unique - set(first), key=str)
    for path in ordered:
        folder = folders.get(path.parent)
        if folder is None:
            folder = folders[path.parent] = os.path.relpath(path.parent, lib).replace(os.sep, "/")
        relative = path.name if folder == "." else f"{folder}/{path.name}"
        digest = known.get(path)
        if digest is None and path.is_symlink():
            writer.writerow([relative, "", ""])
            continue
        if digest is None:
            data = path.read_bytes()
            digest = hashlib.sha256(data).hexdigest(), len(data)
        encoded = base64.urlsafe_b64encode(bytes.fromhex(digest[0])).rstrip(b"=").decode()
        writer.writerow([relative, f"sha256={encoded}", digest[1]])
    writer.writerow([os.path.relpath(record, lib).replace(os.sep, "/"), "", ""])
    return out.getvalue()


def rewritten_record(
    lib: Path,
    record: Path,
    rows: Iterable[tuple[Path, list[str]]],
    *,
    keep: Callable[[Path], bool],
    shims: Mapping[Path, FileDigest | None],
) -> str:
    """RECORD's text after the rule: ``shims`` first, then the kept ``(path, row)`` pairs verbatim.

    Kept rows are not re-hashed: a sync that only reorders a RECORD, or drops
    shimgen's own files from it, must not read every library file again.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for path, digest in sorted(shims.items(), key=lambda item: str(item[0])):
        writer.writerow(_row(lib, path, digest))
    for path, row in rows:
        if path != record and path not in shims and keep(path):
            writer.writerow(row)
    writer.writerow([_relative(lib, record), "", ""])
    return out.getvalue()


def _row(lib: Path, path: Path, digest: FileDigest | None) -> list[str]:
    if digest is None and path.is_symlink():
        return [_relative(lib, path), "", ""]
    if digest is None:
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest(), len(data)
    encoded = base64.urlsafe_b64encode(bytes.fromhex(digest[0])).rstrip(b"=").decode()
    return [_relative(lib, path), f"sha256={encoded}", str(digest[1])]


def _relative(lib: Path, path: Path) -> str:
    return os.path.relpath(path, lib).replace(os.sep, "/")


def _digest(data: bytes) -> FileDigest:
    return hashlib.sha256(data).hexdigest(), len(data)
