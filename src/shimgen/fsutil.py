"""Crash-safe filesystem steps: a reader sees the old state or the new one, never half of one.

Every change shimgen makes to an environment goes through these few functions:
new files are written under a temporary name in their destination folder,
fsynced, then renamed into place; nothing is ever truncated or rewritten in
place. On Windows a rename can fail for a moment because another process (a
virus scanner, an indexer, a tool reading the file) has it open without
``FILE_SHARE_DELETE``; :func:`replace` retries with a bounded backoff before
giving up with the old file intact.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import os
import random
import secrets
import shutil
import stat
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from shimgen.errors import ShimgenError

# Total about 2.5 s: long enough for a scanner to let go, short enough for a person waiting.
RETRY_DELAYS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.6, 0.7)
COPY_CHUNK = 1 << 20


@functools.cache
def _syncfs() -> Callable[[int], int] | None:
    """Linux's syncfs(2) from the C library (glibc and musl have it), found on first use: ctypes
    costs a few milliseconds to import, and a command that writes nothing never needs it."""
    import ctypes

    try:
        function = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int]
    function.restype = ctypes.c_int
    return function


# Writers of many small files (a store entry, a batch of link records or launchers) skip the
# per-file fsync when this is true and call sync_filesystem() once before any of those files is
# renamed into a place a reader looks. A thousand entry points then cost one flush, not a
# thousand (dpkg batches the same way). Elsewhere each file is fsynced as it is written.
DEFER_FILE_SYNC = sys.platform.startswith("linux")


def sync_filesystem(folder: Path) -> None:
    """Make every file written so far on ``folder``'s filesystem durable: one syncfs(2) call.

    Only valid where :data:`DEFER_FILE_SYNC` is true; it flushes data and
    metadata (new names included) of the whole filesystem.
    """
    assert DEFER_FILE_SYNC, "sync_filesystem is for Linux: check DEFER_FILE_SYNC first"
    syncfs = _syncfs()
    if syncfs is None:  # a C library without syncfs(2): flush every filesystem instead
        os.sync()
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        if syncfs(fd) != 0:
            import ctypes

            error = ctypes.get_errno()
            raise ShimgenError(f"cannot flush the files just written ({os.strerror(error)})", path=folder)
    finally:
        os.close(fd)


def fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable (POSIX; Windows has no directory handles for this)."""
    if os.name == "nt":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _is_transient(error: OSError) -> bool:
    """A Windows sharing violation or access denial that may clear when another process lets go."""
    return os.name == "nt" and (
        isinstance(error, PermissionError) or getattr(error, "winerror", None) in (5, 32, 33)
    )


def _retrying(action: Callable[[], None], path: Path, what: str) -> None:
    """Run ``action``, retrying while Windows reports the file busy; ShimgenError when it stays so."""
    for delay in (*RETRY_DELAYS, None):
        try:
            action()
            return
        except OSError as error:
            if delay is None or not _is_transient(error):
                raise ShimgenError(
                    f"cannot {what} ({error.strerror or error})",
                    path=path,
                    hint="another program (a running copy, an editor, a virus scanner) may hold it open, "
                    "or permissions forbid it; close it and retry: nothing was changed by this step"
                    if _is_transient(error)
                    else "check permissions and free space; nothing was changed by this step",
                ) from None
            time.sleep(delay)


def replace(source: Path, destination: Path) -> None:
    """``os.replace`` that survives a moment of Windows file sharing; ShimgenError when it cannot.

    On failure ``destination`` is unchanged (a rename is all or nothing) and
    ``source`` is still there for the caller to clean up.
    """
    name = os.path.basename(source)
    _retrying(lambda: os.replace(source, destination), destination, f"rename {name} into place")


def remove_file(path: Path) -> None:
    """Delete a file shimgen owns that is never a running image (a link record, a state file)."""

    def unlink() -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)

    _retrying(unlink, path, "delete it")
    fsync_directory(Path(path).parent)


def make_dirs(path: Path) -> list[Path]:
    """Create ``path`` and its missing parents, each made durable in its own parent.

    Returns the folders it created, outermost first, so a caller that fails
    later can remove exactly those and no folder that was there before.
    """
    missing = []
    folder = Path(path)
    while not folder.is_dir():
        missing.append(folder)
        folder = folder.parent
    created = []
    for folder in reversed(missing):
        try:
            os.mkdir(folder)
            created.append(folder)
        except FileExistsError:
            pass
        fsync_directory(folder.parent)
    return created


def atomic_write(path: Path, data: bytes, *, executable: bool = False, sync_directory: bool = True) -> None:
    """Write ``data`` to ``path`` through a temporary file, fsync and an atomic rename.

    The temporary file lives in the destination folder so the rename never
    crosses a volume. If anything fails, the temporary file is removed and the
    old ``path`` is untouched, and the next write of it removes what a crash left
    of this one (its temporary). ``sync_directory=False`` leaves the folder's
    fsync to a caller that renames many files into it and then syncs it once.
    """
    path = Path(path)
    make_dirs(path.parent)
    remove_temporaries_of(path.parent, {path.name})  # what a crash left of an earlier write of it
    temporary = write_temporary(path.parent, path.name, data, executable=executable)
    try:
        replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    if sync_directory:
        fsync_directory(path.parent)


def write_temporary(
    folder: Path, name: str, data: bytes, *, executable: bool = False, sync: bool = True
) -> Path:
    """A new file holding ``data`` in ``folder`` under a temporary name derived from ``name``.

    It is fsynced unless ``sync`` is false; then the caller calls
    :func:`sync_filesystem` before renaming it into place. Its mode is what any
    installer gives a new file, 0o666 or 0o777 less the umask (not mkstemp's
    0o600, which would hide library files from the environment's other users).
    """
    while True:
        temporary = Path(folder, f".{name}.{_temporary_names.getrandbits(32):08x}.tmp")
        try:
            fd = os.open(temporary, _CREATE_FLAGS, _file_mode(executable))
        except FileExistsError:
            continue  # a leftover of a crashed run has this name: draw another
        break
    try:
        _write_all(fd, data, sync)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return temporary


def write_new(path: Path, data: bytes, *, executable: bool = False, sync: bool = True) -> None:
    """Create ``path``, which must not exist, holding ``data``; fsynced unless ``sync`` is false.

    For temporaries whose names a journal gives (see shimgen.install.journal):
    the name says which install wrote them, so a crash leftover is found again.
    """
    fd = os.open(path, _CREATE_FLAGS, _file_mode(executable))
    try:
        _write_all(fd, data, sync)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise


# Temporary names need to be unique, not secret (O_EXCL refuses a name that exists), so a
# seeded generator does instead of a system call per name.
_temporary_names = random.Random()
_CREATE_FLAGS = (
    os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
)


def _file_mode(executable: bool) -> int:
    """The mode a new file is created with; the process's umask applies, as for pip's files."""
    return 0o777 if executable else 0o666


def _write_all(fd: int, data: bytes, sync: bool) -> None:
    """Write ``data`` to a new file's descriptor, fsync it if asked, and close it."""
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)


def remove_temporaries_of(folder: Path, names: set[str]) -> None:
    """Delete the temporaries :func:`write_temporary` left in ``folder`` for files named ``names``.

    A crash between writing a temporary and renaming it in leaves ``.NAME.XXXXXXXX.tmp``; the
    next write of the same files clears them (one listing of the folder, not one per name).
    """
    if not names or not folder.is_dir():
        return
    for entry in os.scandir(folder):
        if entry.name.startswith(".") and entry.name.endswith(".tmp"):
            base = entry.name[1:-4].rpartition(".")[0]
            if base in names:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)


def is_temporary_name(name: str) -> bool:
    """Names :func:`write_temporary` and :func:`temporary_folder` make: crash leftovers, never live data."""
    return (name.startswith(".") and name.endswith(".tmp")) or name.startswith(".tmp-")


def create_file(
    path: Path, chunks: Iterable[bytes] | bytes, *, executable: bool = False, sync: bool = True
) -> tuple[int, str]:
    """Create ``path`` (which must not exist), fsync it unless ``sync`` is false; return its size and SHA-256.

    Used inside a temporary store folder that is renamed into place as a whole,
    so the file itself needs no temporary name.
    """
    if isinstance(chunks, bytes):  # the common case, a small script: one call for all of it
        fd = os.open(path, _CREATE_FLAGS, _file_mode(executable))
        _write_all(fd, chunks, sync)
        return len(chunks), hashlib.sha256(chunks).hexdigest()
    digest = hashlib.sha256()
    size = 0
    fd = os.open(path, _CREATE_FLAGS, _file_mode(executable))
    with os.fdopen(fd, "wb") as stream:
        for chunk in chunks:
            digest.update(chunk)
            size += len(chunk)
            stream.write(chunk)
        if sync:
            stream.flush()
            os.fsync(stream.fileno())
    return size, digest.hexdigest()


def read_chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as stream:
        while chunk := stream.read(COPY_CHUNK):
            yield chunk


def hash_file(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    for chunk in read_chunks(path):
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def temporary_folder(parent: Path) -> Path:
    """A new empty folder in ``parent`` named like a crash leftover, so GC and doctor know it."""
    path = parent / f".tmp-{secrets.token_hex(6)}"
    os.mkdir(path)
    return path


def move_aside(path: Path, trash: Path) -> Path:
    """Rename ``path`` into the ``trash`` folder (same volume: the prefix); return its new name.

    This is how shimgen gets rid of a file that may be running: Windows lets a
    running image be renamed, never deleted or overwritten. GC deletes it later.
    """
    make_dirs(trash)
    destination = trash_name(path, trash)
    _retrying(lambda: os.replace(path, destination), path, "rename it aside into the trash")
    return destination


def trash_name(path: Path, trash: Path) -> Path:
    """A new, unique name in ``trash`` for ``path``: its own name, after a time and a random part."""
    return trash / f"{time.time_ns():x}-{secrets.token_hex(3)}-{path.name}"


def swap_in(temporary: Path, destination: Path, trash: Path) -> None:
    """Rename ``temporary`` over ``destination``, even if ``destination`` is a running image.

    A rename over the old name is atomic and never touches the old file's
    bytes. Windows refuses it while the old file is running or mapped; then
    the old file is renamed aside into ``trash`` (the one thing Windows allows
    on a running image) and the new one takes its name. ``temporary`` is
    removed if the swap fails.
    """
    try:
        try:
            os.replace(temporary, destination)
        except PermissionError:
            move_aside(destination, trash)
            replace(temporary, destination)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def in_use(path: Path) -> bool:
    """Whether a file under ``path`` is open as a running image (Windows); always False on POSIX.

    A running program's file cannot be opened for writing on Windows (sharing
    violation), which is a cheap and exact test that needs no extra API.
    POSIX lets running files be deleted, so there is nothing to wait for.
    """
    if os.name != "nt":
        return False
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    for file in files:
        try:
            fd = os.open(file, os.O_RDWR | getattr(os, "O_BINARY", 0))
        except PermissionError:
            return True
        except OSError:
            continue
        os.close(fd)
    return False


def remove_tree(path: Path) -> bool:
    """Delete ``path`` (file or folder) as far as possible; True when it is completely gone."""

    def make_writable_and_retry(function: Callable[[str], object], failed_path: str, _error: object) -> None:
        # Windows refuses to delete read-only files; anything else is left for the next run.
        with contextlib.suppress(OSError):
            os.chmod(failed_path, stat.S_IWRITE)
            function(failed_path)

    try:
        if path.is_symlink() or not path.is_dir():
            os.unlink(path)
        elif sys.version_info >= (3, 12):
            shutil.rmtree(path, onexc=make_writable_and_retry)
        else:
            shutil.rmtree(path, onerror=make_writable_and_retry)
    except FileNotFoundError:
        return True
    except OSError as error:
        if error.errno not in (errno.EACCES, errno.EPERM, errno.EBUSY, errno.ENOTEMPTY):
            raise
    return not os.path.lexists(path)
