"""One writer per environment: an exclusive lock on ``.shimgen/lock``, across processes.

The operating system holds the lock for an open descriptor (``flock`` on POSIX,
a byte-range lock on Windows) and drops it when the process ends however it
ends, so a ``kill -9`` never leaves a stale lock behind and there is nothing to
clean up. The file itself is never deleted: another process may be waiting on
it, and deleting it would let a third lock a new file under the same name.

This replaces the filelock package, which did the same job but imports asyncio:
about 80 ms on every start of every shimgen command, and ``shimgen run`` wraps
each uv and pip call in two of them.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

_POLL_SECONDS = 0.05

if sys.platform == "win32":
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # byte 0, from the position, which stays 0
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


class FileLock:
    """An exclusive lock on one file, re-entrant within this object (nested holds count)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._depth = 0

    def acquire(self, timeout: float) -> bool:
        """Take the lock, waiting at most ``timeout`` seconds; False if another process kept it."""
        if self._depth:
            self._depth += 1
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        deadline = time.monotonic() + timeout
        while not _try_lock(fd):
            if time.monotonic() >= deadline:
                os.close(fd)
                return False
            time.sleep(_POLL_SECONDS)
        self._fd, self._depth = fd, 1
        return True

    def release(self) -> None:
        """Give up one hold; the last one unlocks and closes the file."""
        if self._depth == 0:
            raise RuntimeError(f"{self.path} is not locked by this process")
        self._depth -= 1
        if self._depth:
            return
        fd, self._fd = self._fd, None
        assert fd is not None
        try:
            _unlock(fd)
        finally:
            os.close(fd)
