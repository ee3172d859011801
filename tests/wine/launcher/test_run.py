"""The launcher run for real: finding the link record, confining its paths, passing the command line
and the exit code, and its own failures (the exit-code table); x64 and x86 stubs under Wine."""

from __future__ import annotations

from pathlib import Path

import pytest

from shimgen import write_launcher
from shimgen.launcher import stub_bytes
from shimgen.pe import add_section
from tests.wine.helpers import Env, Wine, windows_path
from tests.wine.launcher.helpers import Programs, one_line_error, run_exact

pytestmark = pytest.mark.wine


def test_runs_target_with_args_and_exit_code(wine: Wine, env: Env, programs: Programs) -> None:
    target = env.add_file("probe", "1.0", programs.probe)
    env.link("probe", target)
    result = wine.run(env.launcher("probe"), "echo", "hello")
    assert result.stdout == f'"{windows_path(env.prefix / target)}" echo hello', result.stderr
    result = wine.run(env.launcher("probe"), "exit", "7")
    assert (result.returncode, result.stderr) == (7, "")


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
    wine: Wine, env: Env, programs: Programs, tmp_path: Path, tail: str
) -> None:
    target = env.add_file("probe", "1.0", programs.probe)
    env.link("probe", target)
    launcher = env.launcher("probe")
    # "echo" is probe's mode word; without a tail probe exits 100 and prints nothing.
    result = run_exact(wine, programs.probe, tmp_path, launcher, f'"{windows_path(launcher)}"{tail}')
    expected_code = 0 if tail else 100
    assert result.stdout.endswith(f"exit=0x{expected_code:08x}"), result.stdout[-200:] + result.stderr
    if tail:
        assert result.stdout[: -len("exit=0x00000000")] == f'"{windows_path(env.prefix / target)}"{tail}'


def test_unquoted_argv0_and_tail_without_blank(
    wine: Wine, env: Env, programs: Programs, tmp_path: Path
) -> None:
    """argv[0] ends at a closing quote even if text follows it at once: that text is still passed on."""
    target = env.add_file("probe", "1.0", programs.probe)
    env.link("probe", target)
    launcher = env.launcher("probe")
    result = run_exact(wine, programs.probe, tmp_path, launcher, f'"{windows_path(launcher)}"echo x')
    assert result.stdout == f'"{windows_path(env.prefix / target)}" echo xexit=0x00000000'


@pytest.mark.parametrize("code", [0, 1, 255, 0xC000013A, 0xFFFFFFFF])
def test_exact_32_bit_exit_code(wine: Wine, env: Env, programs: Programs, tmp_path: Path, code: int) -> None:
    env.link("probe", env.add_file("probe", "1.0", programs.probe))
    launcher = env.launcher("probe")
    result = run_exact(wine, programs.probe, tmp_path, launcher, f'"{windows_path(launcher)}" exit {code:#x}')
    assert result.stdout == f"exit=0x{code:08x}", result.stderr


def test_missing_link_record(wine: Wine, env: Env) -> None:
    launcher = env.launcher("ghost")
    result = wine.run(launcher)
    assert result.returncode == 241
    link = windows_path(env.prefix / ".shimgen" / "links" / "ghost")
    one_line_error(
        result,
        windows_path(launcher),
        f"no link record: {link}",
        f'Repair: shimgen doctor --fix --prefix "{windows_path(env.prefix)}"',
    )


@pytest.mark.parametrize(
    ("record", "why"),
    [
        (b"", "no target"),
        (b"hello\n", "not a shimgen record"),
        (b"shimgen-link 2\ntarget=x.exe\n", "newer format version"),
        (b"shimgen-link 12\ntarget=x.exe\n", "newer format version"),
        (b"SHIMGEN-LINK 1\ntarget=x.exe\n", "not a shimgen record"),
        (b"shimgen-link 1\ntarget=a.exe\ntarget=b.exe\n", "key given twice"),
        (b"shimgen-link 1\ncolour=blue\n", "unknown key"),
        (b"shimgen-link 1\nTarget=a.exe\n", "unknown key"),
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
    one_line_error(result, windows_path(launcher), f"bad link record ({why}): {windows_path(link)}")


def test_link_record_with_crlf_and_at_its_size_limit(wine: Wine, env: Env, programs: Programs) -> None:
    """CRLF line ends are tolerated; 16,383 bytes is the largest record, 16,384 too large."""
    target = env.add_file("probe", "1.0", programs.probe)
    launcher = env.launcher("probe")
    env.link_raw("probe", f"shimgen-link 1\r\ntarget={target}\r\n".encode())
    assert wine.run(launcher, "echo", "crlf").stdout.endswith(" echo crlf")

    def padded(size: int) -> bytes:
        """A record of exactly ``size`` bytes naming the same target: "./" and "/" fold away."""
        head, tail = b"shimgen-link 1\ntarget=", f"{target}\n".encode()
        padding = size - len(head) - len(tail)
        return head + b"./" * (padding // 2) + b"/" * (padding % 2) + tail

    env.link_raw("probe", padded(16383))
    result = wine.run(launcher, "echo", "largest")
    assert result.stdout.endswith(" echo largest"), result.stderr
    env.link_raw("probe", padded(16384))
    result = wine.run(launcher, "echo", "too large")
    assert result.returncode == 242, result.stdout + result.stderr
    assert "bad link record (too large)" in result.stderr


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
    wine: Wine, env: Env, programs: Programs, target: str, why: str
) -> None:
    (env.prefix.parent / "outside.exe").write_bytes(
        programs.probe.read_bytes()
    )  # a real program, just outside
    launcher = env.launcher("evil")
    env.link_raw("evil", f"shimgen-link 1\ntarget={target}\n".encode())
    result = wine.run(launcher, "echo", "escaped")
    assert result.returncode == 243, result.stdout + result.stderr
    one_line_error(result, windows_path(launcher), f"path refused ({why}): {target}")


def test_never_searches_path_or_the_current_folder(
    wine: Wine, env: Env, programs: Programs, tmp_path: Path
) -> None:
    """A bare name means <prefix>\\name: the same name in the working folder or on PATH is not found."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "tool.exe").write_bytes(programs.probe.read_bytes())
    launcher = env.launcher("tool")
    env.link_raw("tool", b"shimgen-link 1\ntarget=tool.exe\n")
    on_path = {"WINEPATH": windows_path(elsewhere)}  # Wine puts it in front of the Windows PATH
    result = wine.run(launcher, "echo", "found", cwd=elsewhere, extra_env=on_path)
    assert result.returncode == 244, result.stdout + result.stderr
    one_line_error(result, windows_path(launcher), f"file not found: {windows_path(env.prefix / 'tool.exe')}")
    # Control: a program that searches finds it there, in the working folder and on PATH.
    assert "echo found" in wine.run("cmd", "/c", "tool.exe echo found", cwd=elsewhere).stdout
    assert (
        "echo found" in wine.run("cmd", "/c", "tool.exe echo found", cwd=tmp_path, extra_env=on_path).stdout
    )


def test_missing_target_and_script(wine: Wine, env: Env, programs: Programs) -> None:
    launcher = env.launcher("gone")
    env.link_raw("gone", b"shimgen-link 1\ntarget=.shimgen/store/gone/1.0/gone.exe\n")
    result = wine.run(launcher)
    assert result.returncode == 244
    missing = windows_path(env.prefix / ".shimgen/store/gone/1.0/gone.exe")
    one_line_error(result, windows_path(launcher), f"file not found: {missing}")

    env.link("gone", env.add_file("probe", "1.0", programs.probe), ".shimgen/store/gone/1.0/gone.py")
    result = wine.run(launcher)
    assert result.returncode == 244
    one_line_error(result, windows_path(launcher), "file not found", "gone.py")


def test_spawn_failure(wine: Wine, env: Env) -> None:
    launcher = env.launcher("notexe")
    entry = env.entry("notexe", "1.0")
    (entry / "notexe.exe").write_text("this is not a program")
    env.link("notexe", ".shimgen/store/notexe/1.0-test/notexe.exe")
    result = wine.run(launcher)
    assert result.returncode == 245, result.stderr
    one_line_error(result, windows_path(launcher), "cannot start")


def test_debug_trace(wine: Wine, env: Env, programs: Programs) -> None:
    target = env.add_file("probe", "1.0", programs.probe)
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


def test_unicode_paths(wine: Wine, tmp_path: Path, programs: Programs, arch: str) -> None:
    env = Env(tmp_path / "ünïcødé 空白 env ✓", arch)
    target = env.add_file("tool", "1.0", programs.probe, "tool ✓.exe")
    env.link("tool ✓", target)
    result = wine.run(env.launcher("tool ✓"), "echo", "ok")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f'"{windows_path(env.prefix / target)}" echo ok'


@pytest.mark.parametrize("where", ["absolute", "relative"])
def test_config_section_names_the_command_and_the_prefix(
    wine: Wine, tmp_path: Path, programs: Programs, arch: str, where: str
) -> None:
    """Another layout: the .shimcfg section's prefix is absolute, or relative to the launcher's folder."""
    env = Env(tmp_path / "env", arch)
    target = env.add_file("tool", "1.0", programs.probe)
    env.link("tool", target)
    launcher = tmp_path / "elsewhere" / "bin" / "other name.exe"
    launcher.parent.mkdir(parents=True)
    prefix = windows_path(env.prefix) if where == "absolute" else "..\\..\\env"
    write_launcher(launcher, arch, command="tool", prefix=prefix)
    result = wine.run(launcher, "echo", "configured")
    assert result.stdout == f'"{windows_path(env.prefix / target)}" echo configured', result.stderr


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (b"garbage", "bad .shimcfg section (not a shimgen record)"),
        (b"shimgen-launcher 1\ncommand=a\\b\n", "invalid command name: a\\b"),
        (b"shimgen-launcher 1\ncommand=x\ncommand=y\n", "bad .shimcfg section (key given twice)"),
    ],
)
def test_unusable_config_section(
    wine: Wine, env: Env, programs: Programs, arch: str, section: bytes, message: str
) -> None:
    """Exit 240: the launcher itself is unusable (here, its config section)."""
    launcher = env.scripts / "tool.exe"
    launcher.write_bytes(add_section(stub_bytes(arch, False), ".shimcfg", section))
    env.link("tool", env.add_file("tool", "1.0", programs.probe))
    result = wine.run(launcher, "echo", "ran")
    assert result.returncode == 240, result.stdout + result.stderr
    one_line_error(result, windows_path(launcher), message)


def test_python_entry_point_with_windows_cpython(wine: Wine, env: Env, windows_python: Path) -> None:
    """The x64 embeddable CPython, started by the launcher under test (an x86 one starts it too)."""
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


def test_real_ruff_from_pypi_runs_through_the_launcher(
    wine: Wine, env: Env, ruff_exe: Path, prng_dll: Path
) -> None:
    target = env.add_file("ruff", "0.17.6", ruff_exe)
    env.add_file("ruff", "0.17.6", prng_dll)  # test-only: Wine 8 lacks ProcessPrng
    env.link("ruff", target)
    result = wine.run(env.launcher("ruff"), "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ruff 0.17.6"
