"""The writer lock: exclusive across processes, re-entrant within one, never stale after a kill."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shimgen.lock import FileLock

HOLD = """
import sys, time
from pathlib import Path
from shimgen.lock import FileLock
lock = FileLock(Path(sys.argv[1]))
assert lock.acquire(timeout=5)
print("locked", flush=True)
time.sleep(60)
"""


def _holder(path: Path) -> subprocess.Popen[str]:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
    return holder


def test_another_process_waits_then_gives_up(tmp_path: Path) -> None:
    path = tmp_path / "lock"
    holder = _holder(path)
    try:
        started = time.monotonic()
        assert FileLock(path).acquire(timeout=0.3) is False
        assert time.monotonic() - started >= 0.3
        assert FileLock(path).acquire(timeout=0) is False
    finally:
        holder.kill()
        holder.wait()


def test_a_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    path = tmp_path / "lock"
    holder = _holder(path)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert path.exists()  # the file stays: a waiter may hold it open
    lock = FileLock(path)
    assert lock.acquire(timeout=0) is True
    lock.release()


def test_nested_holds_are_counted_and_the_last_release_unlocks(tmp_path: Path) -> None:
    path = tmp_path / "lock"
    lock = FileLock(path)
    assert lock.acquire(timeout=0) and lock.acquire(timeout=0)
    lock.release()
    assert FileLock(path).acquire(timeout=0) is False  # still held once (flock: per open file)
    lock.release()
    other = FileLock(path)
    assert other.acquire(timeout=0) is True
    other.release()
    with pytest.raises(RuntimeError, match="not locked"):
        other.release()
