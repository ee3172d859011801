"""Entry-point scripts: one POSIX script serves every entry point of an entry, by the name it was
started as; the environment's path in its /bin/sh line is only ever a name."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from shimgen.scripts import DISPATCHER
from tests.helpers.cli import run
from tests.helpers.environments import snapshot
from tests.helpers.wheels import (
    build_wheel,
    tool_wheel,
)


def test_a_prefix_that_looks_like_shell_code_is_only_a_name(tmp_path: Path) -> None:
    """The /bin/sh line of an entry-point script quotes the path: sh must expand nothing in it."""
    marker = tmp_path / "PWNED"
    prefix = tmp_path / f"my env $(touch {marker})"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", prefix], check=True)
    code, _, err = run("install", "--prefix", prefix, tool_wheel(tmp_path / "1", "1.0"))
    assert code == 0, err
    result = subprocess.run([prefix / "bin" / "tool"], capture_output=True, text=True)
    assert (result.returncode, result.stdout) == (0, "tool 1.0\n"), result.stderr
    assert not marker.exists()


def test_a_prefix_with_a_quote_runs_and_one_with_a_backslash_is_refused_early(tmp_path: Path) -> None:
    quoted = tmp_path / "Bob's env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", quoted], check=True)
    assert run("install", "--prefix", quoted, tool_wheel(tmp_path / "1", "1.0"))[0] == 0
    result = subprocess.run([quoted / "bin" / "tool"], capture_output=True, text=True)
    assert (result.returncode, result.stdout) == (0, "tool 1.0\n"), result.stderr

    backslash = tmp_path / "back\\slash env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", backslash], check=True)
    before = snapshot(backslash)
    code, _, err = run("install", "--prefix", backslash, tool_wheel(tmp_path / "1", "1.0"))
    assert code == 1 and "cannot name safely" in err
    assert snapshot(backslash) == before
    # A wheel without commands needs no entry-point script, so no such line: it installs.
    code, _, err = run(
        "install", "--prefix", backslash, build_wheel(tmp_path, "six", "1.16.0", {"six.py": b""})
    )
    assert code == 0, err


# Three entry points behind one POSIX script: what each prints tells which one ran and how it saw argv.
_MULTI = (
    "import sys\n"
    "def one():\n    print('one', sys.argv)\n"
    "def two():\n    print('two', sys.argv)\n    return 7\n"
    "class Group:\n    @staticmethod\n    def three():\n        print('three')\n"
)
_MULTI_POINTS = "[console_scripts]\none = multi:one\ntwo = multi:two\nthree = multi:Group.three\n"


def _multi(tmp_path: Path, venv: Path) -> Path:
    wheel = build_wheel(tmp_path, "multi", "1.0", {"multi.py": _MULTI.encode()}, entry_points=_MULTI_POINTS)
    code, _, err = run("install", "--prefix", venv, wheel)
    assert code == 0, err
    return venv / "bin"


def _output(*argv: object) -> tuple[int, str]:
    result = subprocess.run([str(a) for a in argv], capture_output=True, text=True)
    return result.returncode, result.stdout + result.stderr


def test_one_posix_script_serves_every_entry_point_by_the_name_it_was_started_as(
    tmp_path: Path, venv: Path
) -> None:
    bin_ = _multi(tmp_path, venv)
    entry = Path(os.path.realpath(bin_ / "one")).parent
    assert sorted(p.name for p in entry.iterdir()) == [DISPATCHER, ".shimgen-entry.json"]
    assert {os.readlink(bin_ / name) for name in ("one", "two", "three")} == {os.readlink(bin_ / "one")}
    assert _output(bin_ / "one", "a b") == (0, f"one ['{bin_ / 'one'}', 'a b']\n")
    assert _output(bin_ / "two") == (7, f"two ['{bin_ / 'two'}']\n")  # the function's result is the exit code
    assert _output(bin_ / "three") == (0, "three\n")  # a dotted attribute


def test_a_name_that_is_no_command_is_followed_along_symlinks_or_refused(tmp_path: Path, venv: Path) -> None:
    bin_ = _multi(tmp_path, venv)
    alias = tmp_path / "my-two"
    alias.symlink_to(bin_ / "two")  # a user's own alias of a command: still that command
    assert _output(alias)[0] == 7
    direct = Path(os.path.realpath(bin_ / "two"))  # the shared script itself names no command
    code, said = _output(direct)
    assert code == 1 and "not one of this file's commands (one, three, two)" in said, said


def test_an_entry_with_one_entry_point_keeps_one_script_too(tmp_path: Path, venv: Path) -> None:
    code, _, err = run("install", "--prefix", venv, tool_wheel(tmp_path / "1", "1.0"))
    assert code == 0, err
    assert os.path.basename(os.readlink(venv / "bin" / "tool")) == DISPATCHER
    assert _output(venv / "bin" / "tool") == (0, "tool 1.0\n")
