"""What the commands share: how a long list of commands is said."""

from __future__ import annotations

from pathlib import Path

from shimgen.cli._common import command_list
from tests.helpers.cli import run
from tests.helpers.wheels import build_wheel


def test_ten_commands_are_named_and_more_are_counted() -> None:
    assert command_list([]) == ""
    assert command_list(["a", "b"]) == "; commands: a, b"
    names = [f"c{i}" for i in range(10)]
    assert command_list(names) == "; commands: " + ", ".join(names)
    assert command_list([*names, "x", "y"]) == (
        "; commands: " + ", ".join(names) + " and 2 more ('shimgen list' shows them all)"
    )


def test_installing_a_thousand_entry_points_prints_one_short_line(tmp_path: Path, venv: Path) -> None:
    points = "".join(f"cmd{i} = tool:main\n" for i in range(1000))
    wheel = build_wheel(
        tmp_path,
        "tool",
        "1.0",
        {"tool/__init__.py": b"def main(): pass\n"},
        entry_points="[console_scripts]\n" + points,
    )
    code, out, err = run("install", "--prefix", str(venv), str(wheel))
    assert code == 0, err
    assert out.endswith("cmd9 and 990 more ('shimgen list' shows them all)\n") and len(out) < 200, out
