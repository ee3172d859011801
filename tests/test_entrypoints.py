"""Entry points from entry_points.txt, pyproject.toml and wheels (the wheel reader's own checks:
tests/test_wheelfile.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from shimgen import EntryPoint, ShimgenError, load_entry_points
from shimgen.entrypoints import from_entry_points_txt, from_pyproject
from shimgen.wheelfile import WheelFile
from tests.helpers.wheels import build_wheel

ENTRY_POINTS = """
[console_scripts]
tool = tool.cli:main
Tool-Two = tool.cli:App.run [extra]

[gui_scripts]
tool-gui = tool.gui:main

[other.group]
ignored = x:y
"""


def test_entry_points_txt() -> None:
    assert from_entry_points_txt(ENTRY_POINTS) == [
        EntryPoint("tool", "tool.cli", "main"),
        EntryPoint("Tool-Two", "tool.cli", "App.run"),
        EntryPoint("tool-gui", "tool.gui", "main", gui=True),
    ]


def test_values_as_the_entry_points_specification_writes_them() -> None:
    """Readers "must accept and ignore spaces" around the colon and the extras; the extras are
    parsed and may be ignored; every part is a Python identifier, Unicode ones included."""
    text = (
        "[console_scripts]\n"
        "spaced = tool.cli : main\n"
        "extras = tool.cli:main [ one , two ]\n"
        "nested = tool:App.cli.run\n"
        "wërk = wërkzeug.cli:ünïcode\n"
        "# a comment\n"
        "; another\n"
    )
    assert from_entry_points_txt(text) == [
        EntryPoint("spaced", "tool.cli", "main"),
        EntryPoint("extras", "tool.cli", "main"),
        EntryPoint("nested", "tool", "App.cli.run"),
        EntryPoint("wërk", "wërkzeug.cli", "ünïcode"),
    ]


def test_pyproject_tables() -> None:
    data = b"""
[project]
name = "tool"
[project.scripts]
tool = "tool.cli:main"
[project.gui-scripts]
tool-gui = "tool.gui:main"
"""
    assert from_pyproject(data) == [
        EntryPoint("tool", "tool.cli", "main"),
        EntryPoint("tool-gui", "tool.gui", "main", True),
    ]
    assert from_pyproject(b"[project]\nname='x'\n") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[console_scripts]\nx = not a module\n", "is not 'module:function'"),
        ("[console_scripts]\nx = mod\n", "is not 'module:function'"),
        ("[console_scripts]\nx = 1mod:f\n", "is not 'module:function'"),
        ("[console_scripts]\nx = mod:1f\n", "is not 'module:function'"),
        ("[console_scripts]\nx = a..b:f\n", "is not 'module:function'"),
        ("[console_scripts]\nx = m:f:g\n", "is not 'module:function'"),
        ("[console_scripts]\nx = m:f [extra\n", "is not 'module:function'"),
        ("[console_scripts]\nx = m:\n", "is not 'module:function'"),
        ("[console_scripts]\nx =\n", "is not 'module:function'"),
        ("[console_scripts]\n../x = m:f\n", "path separator"),
        ("[console_scripts]\nx = m:f\n[gui_scripts]\nX = m:g\n", "given twice"),
        ("[console_scripts]\nx = m:f\nx = m:g\n", "cannot parse"),
        ("no section\n", "cannot parse"),
    ],
)
def test_bad_entry_points_are_refused(text: str, message: str) -> None:
    with pytest.raises(ShimgenError, match=message):
        from_entry_points_txt(text)


def test_dynamic_scripts_in_pyproject_are_refused() -> None:
    with pytest.raises(ShimgenError, match="dynamic"):
        from_pyproject(b'[project]\nname = "x"\ndynamic = ["scripts"]\n')
    with pytest.raises(ShimgenError, match="cannot parse"):
        from_pyproject(b"[project\n")
    with pytest.raises(ShimgenError, match="must map names"):
        from_pyproject(b'[project]\nscripts = "x"\n')


def test_wheel_entry_points_and_checks(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path, "My_Tool", "1.0", {"tool/__init__.py": b""}, entry_points=ENTRY_POINTS)
    with WheelFile(wheel) as opened:
        assert (opened.dist, opened.version, opened.root_is_purelib) == ("my-tool", "1.0", True)
        opened.verify()
        assert [e.name for e in opened.entry_points()] == ["tool", "Tool-Two", "tool-gui"]
    assert load_entry_points(wheel) == from_entry_points_txt(ENTRY_POINTS)


VALUES = [
    "tool.cli:main",
    "tool.cli : main",
    "tool.cli:App.run [extra]",
    "tool.cli:App.run[a, b]",
    "tool",
    "tool:",
    ":main",
    "tool.cli:main extra words",
    "tool-cli:main",
    "tool.cli:main [unclosed",
    "ünïcode.mod:fünc",
    "tool..cli:main",
    "tool.cli:main\t",
    "",
]


@pytest.mark.parametrize("value", VALUES)
def test_values_are_split_as_importlib_metadata_splits_them(value: str) -> None:
    from importlib.metadata import EntryPoint as Reference

    from shimgen.entrypoints import OBJECT_REFERENCE

    ours, theirs = OBJECT_REFERENCE.match(value.strip()), Reference.pattern.match(value.strip())
    assert (ours and ours.groupdict()) == (theirs and theirs.groupdict())
    if ours is not None:
        reference = Reference(name="x", value=value, group="console_scripts")
        assert (ours.group("module"), ours.group("attr")) == (reference.module, reference.attr or None)
