"""The launcher around a running tool: the link record read and let go (step 2), the job object and
the standard handles (step 4), pipes and the working folder let go (step 5), what outlives the tool
(step 6), and that shimgen never needs to write the running launcher; x64 and x86 under Wine."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.wine.helpers import Env, Wine, windows_path
from tests.wine.launcher.helpers import Programs, run_exact

pytestmark = pytest.mark.wine


# Process names carry this session's PID: these tests find processes by name in /proc, which
# another test session on the same machine would share.
SESSION = os.getpid()


def _windows_processes_named(name: str) -> list[int]:
    """Unix PIDs of Wine processes whose command line mentions ``name``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if name.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def _kill_all(name: str) -> None:
    for pid in _windows_processes_named(name):
        os.kill(pid, signal.SIGKILL)


def test_link_record_is_read_sharing_write_and_delete(wine: Wine, env: Env, programs: Programs) -> None:
    """Held open for writing and deleting (an installer mid-swap), the record is still read."""
    target = env.add_file("probe", "1.0", programs.probe)
    link = env.link("probe", target)
    launcher = env.launcher("probe")
    holder = wine.start(programs.probe, "hold-writing", windows_path(link), "3000")
    try:
        assert holder.stdout is not None and holder.stdout.read(4) == "held"
        result = wine.run(launcher, "echo", "shared")
        assert result.stdout == f'"{windows_path(env.prefix / target)}" echo shared', result.stderr
        # Control: an opener that shares reading only is kept out, so Wine enforces sharing here.
        blocked = wine.run(programs.probe, "hold", windows_path(link), "0")
        assert blocked.stdout == "not held: 32", blocked.stdout
    finally:
        holder.communicate(timeout=60)


def test_running_launcher_is_locked_but_its_link_record_can_be_replaced(
    wine: Wine, env: Env, programs: Programs
) -> None:
    """The invariant in one test: shimgen never needs to write the running image.

    The record is replaced from inside Windows (MoveFileExW), which fails while any process holds
    it open without sharing deletion: so the launcher closed it at once.
    """
    v1 = env.add_file("probe", "1.0", programs.probe)
    v2 = env.add_file("probe", "2.0", programs.probe)
    link = env.link("probe", v1)
    launcher = env.launcher("probe")
    running = wine.start(launcher, "sleep", "5000")
    try:
        time.sleep(2)
        assert running.poll() is None
        # The bug shimgen exists to avoid: the running launcher cannot be written or deleted.
        locked = wine.run(programs.probe, "lock-check", windows_path(launcher))
        assert "write=32" in locked.stdout or "write=5" in locked.stdout, locked.stdout
        assert "delete=0" not in locked.stdout, locked.stdout
        # ...but its link record can be replaced, and the next launch runs the new entry.
        new_record = env.prefix / "new record"
        new_record.write_text(f"shimgen-link 1\ntarget={v2}\n")
        replaced = wine.run(programs.probe, "replace", windows_path(new_record), windows_path(link))
        assert replaced.stdout == "replace=0"
        result = wine.run(launcher, "echo", "next")
        assert result.stdout == f'"{windows_path(env.prefix / v2)}" echo next'
        assert running.poll() is None
    finally:
        out, err = running.communicate(timeout=60)
    assert running.returncode == 0 and out == "slept", err


def test_standard_handles_are_passed_on(wine: Wine, env: Env, programs: Programs) -> None:
    env.link("probe", env.add_file("probe", "1.0", programs.probe))
    result = wine.run(env.launcher("probe"), "stdio", input="through ✓", stdin=None)
    assert (result.stdout, result.stderr) == ("out:through ✓", "err:through ✓")


def test_the_tool_runs_in_the_launchers_job(wine: Wine, env: Env, programs: Programs) -> None:
    """Started directly, the probe is in no job; through the launcher, it is in one.

    (Wine 8 reports a job's limit flags as 0 whatever was set, so the flags are shown by behaviour:
    kill-on-close below, breakaway allowed, cleared once the tool has ended.)
    """
    assert wine.run(programs.probe, "job").stdout == "job=0"
    env.link("probe", env.add_file("probe", "1.0", programs.probe))
    assert wine.run(env.launcher("probe"), "job").stdout.startswith("job=1")


def _pids(pid_file: Path) -> list[int]:
    return [int(pid) for pid in pid_file.read_text().split()] if pid_file.exists() else []


def test_killing_the_launcher_kills_the_tool_and_its_children(
    wine: Wine, env: Env, programs: Programs, tmp_path: Path, wait_until: Callable[..., bool]
) -> None:
    name = f"spawner-tool-{SESSION}.exe"
    tool = env.add_file("spawner", "1.0", programs.probe, name)
    env.link("spawner", tool)
    pid_file = tmp_path / "pids.txt"
    launcher_process = wine.start(env.launcher("spawner"), "spawn", windows_path(pid_file))
    try:
        assert wait_until(lambda: len(_pids(pid_file)) == 2)
        assert wait_until(lambda: len(_windows_processes_named(name)) == 2)
        os.kill(launcher_process.pid, signal.SIGKILL)
        launcher_process.wait(timeout=30)
        assert wait_until(lambda: not _windows_processes_named(name)), "tool or its child survived"
    finally:
        _kill_all(name)


def test_control_without_launcher_the_grandchild_survives(
    wine: Wine, tmp_path: Path, programs: Programs, wait_until: Callable[..., bool]
) -> None:
    """The previous test could not pass by accident: killing a tool alone leaves its child running."""
    name = f"orphaner-tool-{SESSION}.exe"
    tool = tmp_path / name
    tool.write_bytes(programs.probe.read_bytes())
    pid_file = tmp_path / "pids.txt"
    process = wine.start(tool, "spawn", windows_path(pid_file))
    try:
        assert wait_until(lambda: len(_windows_processes_named(name)) == 2)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        time.sleep(2)
        left = _windows_processes_named(name)
        assert len(left) == 1, left
    finally:
        _kill_all(name)


def test_a_child_that_breaks_away_outlives_the_killed_launcher(
    wine: Wine, env: Env, programs: Programs, tmp_path: Path, wait_until: Callable[..., bool]
) -> None:
    """The job allows breakaway: a child started with CREATE_BREAKAWAY_FROM_JOB is the tool's choice."""
    name = f"away-tool-{SESSION}.exe"
    tool = env.add_file("away", "1.0", programs.probe, name)
    env.link("away", tool)
    pid_file = tmp_path / "pids.txt"
    launcher_process = wine.start(env.launcher("away"), "spawn-away", windows_path(pid_file))
    try:
        assert wait_until(lambda: len(_pids(pid_file)) == 2), "no child: breakaway refused (probe exit 101)"
        assert wait_until(lambda: len(_windows_processes_named(name)) == 2)
        os.kill(launcher_process.pid, signal.SIGKILL)
        launcher_process.wait(timeout=30)
        assert wait_until(lambda: len(_windows_processes_named(name)) == 1), "the tool survived"
        time.sleep(2)
        assert len(_windows_processes_named(name)) == 1, "the child that broke away was killed"
    finally:
        _kill_all(name)


def test_daemons_outlive_a_tool_that_has_ended(
    wine: Wine, env: Env, programs: Programs, tmp_path: Path, wait_until: Callable[..., bool]
) -> None:
    """Once the tool has ended, the launcher clears kill-on-close before it exits: its children live on."""
    name = f"daemon-tool-{SESSION}.exe"
    tool = env.add_file("daemon", "1.0", programs.probe, name)
    env.link("daemon", tool)
    pid_file = tmp_path / "pids.txt"
    # Not through pipes: the daemon inherits them and would hold them open for its 60 s.
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    launcher_process = wine.start(env.launcher("daemon"), "daemon", windows_path(pid_file), **quiet)
    try:
        assert launcher_process.wait(timeout=60) == 0
        assert len(_pids(pid_file)) == 2  # what the tool wrote: it ran, and started the daemon
        time.sleep(2)
        assert len(_windows_processes_named(name)) == 1, "the daemon died with the launcher"
    finally:
        _kill_all(name)


def test_pipes_are_let_go(wine: Wine, env: Env, programs: Programs) -> None:
    """The reader of the tool's stdout sees its end when the tool closes it, not when the launcher exits.

    The pipe is made inside Wine (probe eof): a Unix pipe from the test would stay open in every
    Wine process until it exits, launcher or not, so it could not show this.
    """
    env.link("probe", env.add_file("probe", "1.0", programs.probe))
    result = wine.run(programs.probe, "eof", windows_path(env.launcher("probe")), "close-stdout", "3000")
    found = re.fullmatch(r"read=bye eof_ms=(\d+) running=1", result.stdout)
    assert found and int(found[1]) < 1500, result.stdout
    # Control: a parent that keeps its copy (probe run) holds the pipe open until it exits.
    command = f'"{windows_path(programs.probe)}" close-stdout 2000'
    command_file = env.prefix / "command.txt"
    command_file.write_text(command, encoding="utf-8")
    held = wine.run(
        programs.probe,
        "eof",
        windows_path(programs.probe),
        "run",
        windows_path(programs.probe),
        windows_path(command_file),
    )
    found = re.fullmatch(r"read=byeexit=0x00000000 eof_ms=(\d+) running=0", held.stdout)
    assert found and int(found[1]) >= 1500, held.stdout


def test_the_working_folder_is_let_go(wine: Wine, env: Env, programs: Programs, tmp_path: Path) -> None:
    """While the tool runs, the folder the launcher was started in can be renamed."""
    env.link("probe", env.add_file("probe", "1.0", programs.probe))
    workdir = tmp_path / "work dir"
    workdir.mkdir()
    renamed = windows_path(tmp_path / "renamed")
    result = wine.run(env.launcher("probe"), "rename-folder", windows_path(workdir), renamed, cwd=workdir)
    assert result.stdout == "rename=0", result.stderr
    # Control: a parent that stays in the folder (probe run) keeps it from being renamed.
    command = f'"{windows_path(programs.probe)}" rename-folder "{windows_path(workdir)}" "{renamed}"'
    held = run_exact(wine, programs.probe, tmp_path, programs.probe, command, cwd=workdir)
    assert held.stdout == "rename=32exit=0x00000000", held.stdout


def test_child_keeps_the_callers_working_directory(
    wine: Wine, env: Env, programs: Programs, tmp_path: Path
) -> None:
    env.link("where", env.add_file("where", "1.0", programs.probe))
    workdir = tmp_path / "work dir"
    workdir.mkdir()
    result = wine.run(env.launcher("where"), "cwd", cwd=workdir)
    assert result.stdout.rstrip("\\") == windows_path(workdir)
