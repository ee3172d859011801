"""One writer at a time: a second shimgen waits for the lock, or fails clearly when it is not
released; many writers at once leave a consistent store. (Under Wine: tests/wine/test_store_wine.py.)"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tests.helpers.cli import link, run
from tests.helpers.sandbox import Sandbox


def shimgen(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    return subprocess.run(
        [sys.executable, "-m", "shimgen", *args], capture_output=True, text=True, timeout=60, **kwargs
    )


HOLD_LOCK = """
import sys, time
from shimgen.store import Store
with Store(sys.argv[1]).locked():
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _hold_lock(prefix: Path, seconds: float) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(prefix), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
    return holder


def test_second_writer_fails_clearly_when_the_lock_is_not_released(box: Sandbox) -> None:
    link(box, "1.0")
    before = box.snapshot()
    holder = _hold_lock(box.prefix, 30)
    try:
        program = box.program("tool", "2.0")
        started = time.monotonic()
        result = shimgen(
            "link", "--prefix", str(box.prefix), "--lock-timeout", "0.5", "tool", "2.0", str(program)
        )
        assert result.returncode == 1
        assert "another shimgen is changing this environment (waited 0.5 s for its lock)" in result.stderr
        assert str(box.prefix / ".shimgen" / "lock") in result.stderr
        assert time.monotonic() - started < 20
    finally:
        holder.kill()
        holder.wait()
    assert box.snapshot() == before and box.runs("tool") == "1.0"


def test_second_writer_waits_for_the_first(box: Sandbox) -> None:
    link(box, "1.0")
    holder = _hold_lock(box.prefix, 1.5)
    program = box.program("tool", "2.0")
    result = shimgen("link", "--prefix", str(box.prefix), "tool", "2.0", str(program))
    holder.wait()
    assert result.returncode == 0, result.stderr
    assert "waiting for another shimgen to finish" in result.stderr and box.runs("tool") == "2.0"


def test_many_writers_at_once_leave_a_consistent_store(box: Sandbox) -> None:
    link(box, "1.0", "a", "b")
    programs = {v: [str(box.program(n, v)) for n in ("a", "b")] for v in ("2.0", "3.0", "4.0", "5.0")}
    writers = [
        subprocess.Popen(
            [sys.executable, "-m", "shimgen", "link", "--prefix", str(box.prefix), "tool", v, *files],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for v, files in programs.items()
    ]
    results = [(w.wait(timeout=60), w.stderr.read() if w.stderr else "") for w in writers]
    assert all(code == 0 for code, _ in results), results
    assert box.runs("a") == box.runs("b") and box.runs("a") in programs
    assert run("doctor", "--prefix", str(box.prefix))[0] == 0


def test_lock_timeout_zero_fails_without_saying_it_waits(box: Sandbox) -> None:
    """It printed "waiting for another shimgen" and then failed at once."""
    link(box, "1.0")
    holder = _hold_lock(box.prefix, 30)
    try:
        code, _, err = run("remove", "--prefix", str(box.prefix), "--lock-timeout", "0", "tool")
        assert code == 1 and "another shimgen is changing this environment" in err and "waiting" not in err
    finally:
        holder.kill()
        holder.wait()
