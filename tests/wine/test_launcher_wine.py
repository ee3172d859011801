"""The launcher, run for real: shimgen-built x64 launchers under Wine starting real programs."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from shimgen import write_launcher
from tests.wine.conftest import Env, Wine, windows_path

pytestmark = pytest.mark.wine


def _run_exact(wine: Wine, probe_exe: Path, tmp_path: Path, application: Path, command_line: str):
    """Start ``application`` with exactly ``command_line`` (via CreateProcessW in probe.exe)."""
    command_file = tmp_path / "command-line.txt"
    command_file.write_text(command_line, encoding="utf-8")
    return wine.run(probe_exe, "run", windows_path(application), windows_path(command_file))


def test_runs_target_with_args_and_exit_code(wine: Wine, env: Env, probe_exe: Path) -> None:
    target = env.add_file("probe", "1.0", probe_exe)
    env.link("probe", target)
    result = wine.run(env.launcher("probe"), "exit", "7")
    assert result.returncode == 7, result.stderr
    result = wine.run(env.launcher("probe"), "echo", "hello")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f'"{windows_path(env.prefix / target)}" echo hello'


TAILS = [
    pytest.param(' echo "a b" c', id="quoted-space"),
    pytest.param(' echo "a\\"b" \\\\"c\\\\\\"', id="backslashes-before-quotes"),
    pytest.param(' echo "" ""', id="empty-args"),
    pytest.param(" echo\ta\t\tb ", id="tabs-and-trailing-space"),
    pytest.param(" echo ünïcødé 空白 🐍", id="unicode"),
    pytest.param(' echo "unterminated', id="unterminated-quote"),
    pytest.param("", id="no-tail"),
    pytest.param(" echo " + "x" * 30_000, id="30000-characters"),
]


@pytest.mark.parametrize("tail", TAILS)
def test_command_line_tail_is_verbatim(
    wine: Wine, env: Env, probe_exe: Path, tmp_path: Path, tail: str
) -> None:
    target = env.add_file("probe", "1.0", probe_exe)
    env.link("probe", target)
    launcher = env.launcher("probe")
    # "echo" is probe's mode word; without a tail probe exits 100 and prints nothing.
    result = _run_exact(wine, probe_exe, tmp_path, launcher, f'"{windows_path(launcher)}"{tail}')
    expected_code = 0 if tail else 100
    assert result.stdout.endswith(f"exit=0x{expected_code:08x}"), result.stdout[-200:] + result.stderr
    if tail:
        assert result.stdout[: -len("exit=0x00000000")] == f'"{windows_path(env.prefix / target)}"{tail}'


def test_unquoted_argv0_and_tail_without_blank(wine: Wine, env: Env, probe_exe: Path, tmp_path: Path) -> None:
    """argv[0] ends at a closing quote even if text follows it at once: that text is still passed on."""
    target = env.add_file("probe", "1.0", probe_exe)
    env.link("probe", target)
    launcher = env.launcher("probe")
    result = _run_exact(wine, probe_exe, tmp_path, launcher, f'"{windows_path(launcher)}"echo x')
    assert result.stdout == f'"{windows_path(env.prefix / target)}" echo xexit=0x00000000'


@pytest.mark.parametrize("code", [0, 1, 255, 0xC000013A, 0xFFFFFFFF])
def test_exact_32_bit_exit_code(wine: Wine, env: Env, probe_exe: Path, tmp_path: Path, code: int) -> None:
    env.link("probe", env.add_file("probe", "1.0", probe_exe))
    launcher = env.launcher("probe")
    result = _run_exact(wine, probe_exe, tmp_path, launcher, f'"{windows_path(launcher)}" exit {code:#x}')
    assert result.stdout == f"exit=0x{code:08x}", result.stderr


def _assert_one_line_error(result: subprocess.CompletedProcess[str], launcher: Path, *needles: str) -> None:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"shimgen launcher {windows_path(launcher)}: "), lines[0]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def test_missing_link_record(wine: Wine, env: Env) -> None:
    launcher = env.launcher("ghost")
    result = wine.run(launcher)
    assert result.returncode == 241
    link = windows_path(env.prefix / ".shimgen" / "links" / "ghost")
    _assert_one_line_error(
        result,
        launcher,
        f"no link record: {link}",
        f'Repair: shimgen doctor --fix --prefix "{windows_path(env.prefix)}"',
    )


@pytest.mark.parametrize(
    ("record", "why"),
    [
        (b"", "no target"),
        (b"hello\n", "not a shimgen record"),
        (b"shimgen-link 2\ntarget=x.exe\n", "newer format version"),
        (b"shimgen-link 1\ntarget=a.exe\ntarget=b.exe\n", "key given twice"),
        (b"shimgen-link 1\ncolour=blue\n", "unknown key"),
        (b"shimgen-link 1\ntarget\n", "line without '='"),
        (b"shimgen-link 1\nscript=x.py\n", "no target"),
        (b"shimgen-link 1\ntarget=\xff\xfe.exe\n", "not UTF-8"),
        (b"shimgen-link 1\ntarget=a\x01.exe\n", "control character"),
        (b"shimgen-link 1\ntarget=" + b"x" * 17000 + b"\n", "too large"),
    ],
)
def test_invalid_link_record(wine: Wine, env: Env, record: bytes, why: str) -> None:
    launcher = env.launcher("bad")
    link = env.link_raw("bad", record)
    result = wine.run(launcher)
    assert result.returncode == 242, result.stderr
    _assert_one_line_error(result, launcher, f"bad link record ({why}): {windows_path(link)}")


@pytest.mark.parametrize(
    ("target", "why"),
    [
        ("../outside.exe", "leaves the environment"),
        ("Scripts/../../outside.exe", "leaves the environment"),
        ("/etc/outside.exe", "not a relative path"),
        ("\\\\server\\share\\outside.exe", "not a relative path"),
        ("C:/Windows/System32/cmd.exe", "drive or stream"),
        ("C:outside.exe", "drive or stream"),
        ("probe.exe:stream", "drive or stream"),
        ("\\\\?\\C:\\Windows\\System32\\cmd.exe", "drive or stream"),
    ],
)
def test_refuses_paths_outside_the_prefix(
    wine: Wine, env: Env, probe_exe: Path, target: str, why: str
) -> None:
    (env.prefix.parent / "outside.exe").write_bytes(probe_exe.read_bytes())  # a real program, just outside
    launcher = env.launcher("evil")
    env.link_raw("evil", f"shimgen-link 1\ntarget={target}\n".encode())
    result = wine.run(launcher, "exit", "0")
    assert result.returncode == 243, result.stderr
    _assert_one_line_error(result, launcher, f"path refused ({why}): {target}")


def test_missing_target_and_script(wine: Wine, env: Env, probe_exe: Path) -> None:
    launcher = env.launcher("gone")
    env.link_raw("gone", b"shimgen-link 1\ntarget=.shimgen/store/gone/1.0/gone.exe\n")
    result = wine.run(launcher)
    assert result.returncode == 244
    missing = windows_path(env.prefix / ".shimgen/store/gone/1.0/gone.exe")
    _assert_one_line_error(result, launcher, f"file not found: {missing}")

    env.link("gone", env.add_file("probe", "1.0", probe_exe), ".shimgen/store/gone/1.0/gone.py")
    result = wine.run(launcher)
    assert result.returncode == 244
    _assert_one_line_error(result, launcher, "file not found", "gone.py")


def test_spawn_failure(wine: Wine, env: Env) -> None:
    launcher = env.launcher("notexe")
    entry = env.entry("notexe", "1.0")
    (entry / "notexe.exe").write_text("this is not a program")
    env.link("notexe", ".shimgen/store/notexe/1.0-test/notexe.exe")
    result = wine.run(launcher)
    assert result.returncode == 245, result.stderr
    _assert_one_line_error(result, launcher, "cannot start")


def test_debug_trace(wine: Wine, env: Env, probe_exe: Path) -> None:
    target = env.add_file("probe", "1.0", probe_exe)
    env.link("probe", target)
    launcher = env.launcher("probe")
    result = wine.run(launcher, "exit", "0", extra_env={"SHIMGEN_DEBUG": "1"})
    assert result.returncode == 0
    assert result.stderr.splitlines() == [
        f"shimgen: launcher {windows_path(launcher)}",
        f"shimgen: link record {windows_path(env.prefix / '.shimgen' / 'links' / 'probe')}",
        f"shimgen: resolved {windows_path(env.prefix / target)}",
        f'shimgen: command line "{windows_path(env.prefix / target)}" exit 0',
    ]
    assert wine.run(launcher, "exit", "0").stderr == ""  # silent without it


def _long_folder(base: Path) -> Path:
    deep = base / "ünïcødé 空白" / ("long folder name " * 4).strip()
    for level in range(4):
        deep = deep / f"level {level} {'x' * 40}"
    return deep


def test_unicode_paths(wine: Wine, tmp_path: Path, probe_exe: Path) -> None:
    env = Env(tmp_path / "ünïcødé 空白 env ✓")
    target = env.add_file("tool", "1.0", probe_exe, "tool ✓.exe")
    env.link("tool ✓", target)
    result = wine.run(env.launcher("tool ✓"), "echo", "ok")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f'"{windows_path(env.prefix / target)}" echo ok'


def test_launcher_in_a_long_path(wine: Wine, tmp_path: Path, probe_exe: Path) -> None:
    """GetModuleFileNameW past MAX_PATH; a config section points at a short prefix."""
    env = Env(tmp_path / "env")
    env.link("tool", env.add_file("tool", "1.0", probe_exe))
    launcher = _long_folder(tmp_path) / "tool.exe"
    launcher.parent.mkdir(parents=True)
    write_launcher(launcher, "x64", prefix=windows_path(env.prefix))
    assert len(windows_path(launcher)) > 300
    result = wine.run(launcher, "echo", "ok")
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith(" echo ok")


def test_long_prefix_resolves_via_extended_paths(wine: Wine, tmp_path: Path, probe_exe: Path) -> None:
    """Link record and target past MAX_PATH are read and checked through \\\\?\\ paths.

    Starting the target then fails under Wine 8 only: its CreateProcessW refuses
    application paths past MAX_PATH in any form, while Windows accepts the
    \\\\?\\ form the launcher passes. So this checks every step up to the spawn,
    and that the spawn failure is reported as such (exit 245).
    """
    env = Env(_long_folder(tmp_path) / "env ✓")
    target = env.add_file("tool", "1.0", probe_exe)
    env.link("tool", target)
    launcher = env.launcher("tool")
    assert len(windows_path(env.prefix / target)) > 300
    result = wine.run(launcher, "echo", "ok", extra_env={"SHIMGEN_DEBUG": "1"})
    trace = result.stderr.splitlines()
    assert trace[1] == f"shimgen: link record {windows_path(env.prefix / '.shimgen' / 'links' / 'tool')}"
    assert trace[2] == f"shimgen: resolved {windows_path(env.prefix / target)}"
    assert result.returncode == 245 and "cannot start" in trace[-1], result.stderr


def test_running_launcher_is_locked_but_its_target_can_be_switched(
    wine: Wine, env: Env, probe_exe: Path
) -> None:
    """The invariant in one test: shimgen never needs to write the running image."""
    v1 = env.add_file("probe", "1.0", probe_exe)
    v2 = env.add_file("probe", "2.0", probe_exe)
    env.link("probe", v1)
    launcher = env.launcher("probe")
    running = wine.start(launcher, "sleep", "8000")
    try:
        time.sleep(2)
        assert running.poll() is None
        # The bug shimgen exists to avoid: the running launcher cannot be written or deleted.
        locked = wine.run(probe_exe, "lock-check", windows_path(launcher))
        assert locked.stdout != "write=0 delete=0"
        assert "write=32" in locked.stdout or "write=5" in locked.stdout, locked.stdout
        # ...but swapping the link record works, and the next launch runs the new entry.
        env.link("probe", v2)
        result = wine.run(launcher, "echo", "next")
        assert result.stdout == f'"{windows_path(env.prefix / v2)}" echo next'
        assert running.poll() is None
    finally:
        out, err = running.communicate(timeout=60)
    assert running.returncode == 0 and out == "slept", err


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


def test_killing_the_launcher_kills_the_tool_and_its_children(
    wine: Wine, env: Env, probe_exe: Path, tmp_path: Path, wait_until
) -> None:
    tool = env.add_file("spawner", "1.0", probe_exe, "spawner-tool.exe")
    env.link("spawner", tool)
    pid_file = tmp_path / "pids.txt"
    launcher_process = wine.start(env.launcher("spawner"), "spawn", windows_path(pid_file))
    try:
        assert wait_until(lambda: pid_file.exists() and pid_file.read_text().strip())
        assert wait_until(lambda: len(_windows_processes_named("spawner-tool.exe")) == 2)
        os.kill(launcher_process.pid, signal.SIGKILL)
        launcher_process.wait(timeout=30)
        assert wait_until(lambda: not _windows_processes_named("spawner-tool.exe")), (
            "tool or its child survived"
        )
    finally:
        for pid in _windows_processes_named("spawner-tool.exe"):
            os.kill(pid, signal.SIGKILL)


def test_control_without_launcher_the_grandchild_survives(
    wine: Wine, tmp_path: Path, probe_exe: Path, wait_until
) -> None:
    """The previous test could not pass by accident: killing a tool alone leaves its child running."""
    tool = tmp_path / "orphaner-tool.exe"
    tool.write_bytes(probe_exe.read_bytes())
    pid_file = tmp_path / "pids.txt"
    process = wine.start(tool, "spawn", windows_path(pid_file))
    try:
        assert wait_until(lambda: len(_windows_processes_named("orphaner-tool.exe")) == 2)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        time.sleep(2)
        assert len(_windows_processes_named("orphaner-tool.exe")) == 1
    finally:
        for pid in _windows_processes_named("orphaner-tool.exe"):
            os.kill(pid, signal.SIGKILL)


def test_child_keeps_the_callers_working_directory(
    wine: Wine, env: Env, probe_exe: Path, tmp_path: Path
) -> None:
    env.link("where", env.add_file("where", "1.0", probe_exe))
    workdir = tmp_path / "work dir"
    workdir.mkdir()
    result = wine.run(env.launcher("where"), "cwd", cwd=workdir)
    assert result.stdout.rstrip("\\") == windows_path(workdir)


def test_gui_launcher_runs_target_and_forwards_exit_code(wine: Wine, env: Env, probe_exe: Path) -> None:
    env.link("window", env.add_file("window", "1.0", probe_exe))
    result = wine.run(env.launcher("window", gui=True), "exit", "5")
    assert result.returncode == 5, result.stderr


def test_python_entry_point_with_windows_cpython(wine: Wine, env: Env, windows_python: Path) -> None:
    (env.prefix / "python").symlink_to(windows_python, target_is_directory=True)
    entry = env.entry("demo", "1.0")
    (entry / "demo-script.py").write_text(
        "import sys\nprint('argv', sys.argv[1:])\nprint('exe', sys.executable)\nsys.exit(3)\n",
        encoding="utf-8",
    )
    env.link("demo", "python/python.exe", ".shimgen/store/demo/1.0-test/demo-script.py")
    result = wine.run(env.launcher("demo"), "a b", "ü", extra_env={"PYTHONUTF8": "1"})
    assert result.returncode == 3, result.stderr
    assert "argv ['a b', 'ü']" in result.stdout
    assert f"exe {windows_path(env.prefix / 'python' / 'python.exe')}" in result.stdout


def test_gui_python_entry_point_uses_pythonw(
    wine: Wine, env: Env, windows_python: Path, tmp_path: Path
) -> None:
    (env.prefix / "python").symlink_to(windows_python, target_is_directory=True)
    entry = env.entry("gui", "1.0")
    marker = tmp_path / "gui-ran.txt"
    (entry / "gui-script.py").write_text(
        f"import sys\nopen(r'{windows_path(marker)}', 'w').write(sys.executable)\n", encoding="utf-8"
    )
    env.link("guitool", "python/pythonw.exe", ".shimgen/store/gui/1.0-test/gui-script.py")
    result = wine.run(env.launcher("guitool", gui=True))
    assert result.returncode == 0, result.stderr
    assert marker.read_text().endswith("pythonw.exe")


def test_real_ruff_from_pypi_runs_through_the_launcher(
    wine: Wine, env: Env, ruff_exe: Path, prng_dll: Path
) -> None:
    target = env.add_file("ruff", "0.17.6", ruff_exe)
    env.add_file("ruff", "0.17.6", prng_dll)  # test-only: Wine 8 lacks ProcessPrng
    env.link("ruff", target)
    result = wine.run(env.launcher("ruff"), "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ruff 0.17.6"
