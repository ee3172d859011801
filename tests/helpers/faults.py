"""Crashes injected at each filesystem step: the fault injector the crash tests share.

A crash is simulated by raising from the os functions that change the
filesystem (create, write-flush, rename, delete, mkdir, symlink, chmod, link)
at step k. From that step on every such call raises too, the way a dead process
runs no cleanup.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from shimgen import fsutil

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


class SimulatedCrash(BaseException):
    """Not an Exception: nothing in shimgen may catch it, as nothing can catch a power cut."""


class FaultInjector:
    """Counts filesystem-changing os calls and crashes at step ``crash_at`` (1-based)."""

    MUTATORS = (
        "replace",
        "rename",
        "unlink",
        "remove",
        "rmdir",
        "mkdir",
        "symlink",
        "fsync",
        "chmod",
        "link",
    )

    def __init__(self, monkeypatch: pytest.MonkeyPatch, crash_at: int | None) -> None:
        self.crash_at = crash_at
        self.steps: list[str] = []
        self.crashed = False
        for name in self.MUTATORS:
            monkeypatch.setattr(os, name, self._wrap(name, getattr(os, name)))
        original_open = os.open

        def guarded_open(path, flags, *args, **kwargs):  # type: ignore[no-untyped-def]
            if flags & _WRITE_FLAGS:
                self._step(f"open {os.fspath(path)}")
            return original_open(path, flags, *args, **kwargs)

        monkeypatch.setattr(os, "open", guarded_open)
        original_sync = fsutil.sync_filesystem

        def guarded_sync(folder: Path) -> None:  # syncfs(2), called through ctypes, not os
            self._step(f"syncfs {folder}")
            original_sync(folder)

        monkeypatch.setattr(fsutil, "sync_filesystem", guarded_sync)

    def _wrap(self, name: str, function: Callable[..., object]) -> Callable[..., object]:
        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            self._step(
                f"{name} {os.fspath(args[0]) if args and isinstance(args[0], (str, Path)) else args[:1]}"
            )
            return function(*args, **kwargs)

        return wrapper

    def _step(self, what: str) -> None:
        self.steps.append(what)
        if self.crashed or len(self.steps) == self.crash_at:
            self.crashed = True
            raise SimulatedCrash(what)
