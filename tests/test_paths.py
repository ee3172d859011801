"""The rules for names that become paths: relative paths, command, distribution and version names,
everywhere or only where the layout is Windows."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import packaging
import pytest

from shimgen import stub_bytes
from shimgen.entry import Command, EntryFile
from shimgen.errors import PathRefused
from shimgen.paths import (
    MAX_TOKEN_LENGTH,
    check_command_name,
    check_relative_path,
    check_version,
    normalize_dist,
)
from tests.helpers.cli import run
from tests.helpers.sandbox import Sandbox
from tests.helpers.wheels import build_wheel

PACKAGING = tuple(int(part) for part in packaging.__version__.split(".")[:2])


@pytest.mark.parametrize(
    "path",
    [
        "",
        "/abs/x.exe",
        "a\\b.exe",
        "../x.exe",
        "a/../b.exe",
        "./x.exe",
        "a//b.exe",
        "C:x.exe",
        "x.exe:stream",
        "NUL",
        "nul.txt",
        "Com1.exe",
        "lpt9",
        "COM\u00b9",
        "CONIN$",
        "a/con/b.exe",
        "trailing.",
        "trailing ",
        "wild*.exe",
        'quote".exe',
        "ctl\x1f.exe",
    ],
)
def test_hostile_relative_paths_are_refused(path: str) -> None:
    with pytest.raises(PathRefused):
        check_relative_path(path)


@pytest.mark.parametrize(
    "path", ["a.exe", "Scripts/python.exe", "dir.d/x y/ü ✓.exe", "console.exe", "nul_x", "com10"]
)
def test_plain_relative_paths_pass(path: str) -> None:
    assert check_relative_path(path) == path


def test_command_names() -> None:
    assert check_command_name("ruff") == "ruff"
    for bad in ("a/b", "a\\b", "..", "CON", "x.", ""):
        with pytest.raises(PathRefused):
            check_command_name(bad)


HOSTILE_DISTS = [
    "../evil",
    "a/b",
    "a\\b",
    "",
    "con",
    "NUL",
    "x" * 101,
    "-lead",
    "trail-",
    "sp ace",
    "ünïcode",
]


WINDOWS_ONLY_DISTS = {"con", "NUL"}  # device names: a POSIX environment holds them, as pip installs them


@pytest.mark.parametrize("dist", HOSTILE_DISTS)
def test_hostile_distribution_names_are_refused(sandbox: Sandbox, dist: str) -> None:
    before = sandbox.snapshot()
    if dist in WINDOWS_ONLY_DISTS and not sandbox.windows:
        sandbox.publish(dist, "1.0", "tool")
        return
    with pytest.raises(PathRefused, match=r"distribution name|Windows environment cannot hold"):
        sandbox.publish(dist, "1.0", "tool")
    assert sandbox.snapshot() == before


@pytest.mark.parametrize(
    "name",
    [
        *HOSTILE_DISTS,
        "requests",
        "Django",
        "oslo.concurrency",
        "A_B-c.D",
        "a__b",
        "a.-_b",
        "Zope.Interface",
        "x",
        "1",
        "_lead",
        "trail.",
        "a..b",
        "x" * MAX_TOKEN_LENGTH,
    ],
)
def test_distribution_names_are_packagings(name: str) -> None:
    """normalize_dist gives canonicalize_name(validate=True)'s answer for every name it is given,
    and refuses what that refuses (the longer-than-a-folder limit aside)."""
    from packaging.utils import InvalidName, canonicalize_name

    try:
        expected: str | None = canonicalize_name(name, validate=True)
    except InvalidName:
        expected = None
    if len(name) > MAX_TOKEN_LENGTH:
        expected = None
    try:
        actual: str | None = normalize_dist(name)
    except PathRefused:
        actual = None
    assert actual == expected


@pytest.mark.parametrize(
    "name",
    [
        "\u212aelvin",  # the Kelvin sign: "K" to a case-blind Unicode match, "k" once lower-cased
        "\u017fetuptools",  # long s: "S" to a case-blind Unicode match
        "\u0131dna",  # dotless i: "I"
        "tool\n",  # "$" matches before a final newline
    ],
)
def test_names_that_only_look_like_ascii_are_refused(name: str) -> None:
    """packaging before 26 took these (its pattern lacked re.ASCII and fullmatch), and lower-cased
    the first three into another distribution's name; packaging 26.4 refuses them, as shimgen does."""
    from packaging.utils import InvalidName, canonicalize_name

    with pytest.raises(PathRefused, match="invalid distribution name"):
        normalize_dist(name)
    if PACKAGING >= (26, 4):
        with pytest.raises(InvalidName):
            canonicalize_name(name, validate=True)


@pytest.mark.parametrize(
    "version",
    [
        "1.0",
        "1!2.0.post1+local.7",
        "1.0rc1",
        "v1.0",
        # legacy versions pip installed before 24.1, as their .dist-info names spell them: pip now
        # ignores such a distribution, and shimgen keeps its commands (a wheel's name must be PEP 440)
        "1.14.0_unknown",
        "0.0.1_1",
        "2004d",
        "1.0-dev-r123",
    ],
)
def test_versions_already_installed_may_be_legacy_ones(version: str) -> None:
    assert check_version(version) == version


@pytest.mark.parametrize("version", ["../1", "1.0/..", "", "1.", ".1", "1 0", "1\n0", "v" * 101, "1:0"])
def test_hostile_versions_are_refused(sandbox: Sandbox, version: str) -> None:
    before = sandbox.snapshot()
    if version == "1." and not sandbox.windows:  # only Windows drops a trailing dot
        sandbox.publish("tool", version, "tool")
        return
    with pytest.raises(PathRefused, match=r"version|Windows environment cannot hold"):
        sandbox.publish("tool", version, "tool")
    assert sandbox.snapshot() == before


UNIVERSAL_BAD_NAMES = ["a:b", "x" * 201, "a\x01b"]


WINDOWS_BAD_NAMES = ["con", "CON.txt", "nul", "com1", "lpt9", "trailing.", "trailing ", "q?"]


@pytest.mark.parametrize("name", UNIVERSAL_BAD_NAMES + WINDOWS_BAD_NAMES)
@pytest.mark.parametrize("layout", ["windows", "posix"])
def test_hostile_command_names_are_refused(tmp_path: Path, name: str, layout: str) -> None:
    """Everywhere, or (Windows' own rules) where the layout is Windows: pip installs 'tool.' on POSIX."""
    box = Sandbox(tmp_path, layout)
    box.prefix.mkdir()
    store = box.store()
    before = box.snapshot()
    program = _pe() if layout == "windows" else b"x"
    publish = lambda: store.publish(  # noqa: E731
        "tool", "1.0", [EntryFile("tool", program)], [Command(name, "tool")],
        kind=layout, arch="x64" if layout == "windows" else None,
    )  # fmt: skip
    if name in WINDOWS_BAD_NAMES and layout == "posix":
        publish()
        assert os.path.lexists(box.prefix / "bin" / name)
        return
    with pytest.raises(PathRefused):
        publish()
    assert box.snapshot() == before


def _pe() -> bytes:

    return stub_bytes("x64")


def test_unicode_names_and_paths_work(sandbox: Sandbox) -> None:
    sandbox.publish("tool", "1.0", "wërkzeug-工具")
    assert sandbox.runs("wërkzeug-工具") == "1.0"


@pytest.mark.parametrize("name", [".x.tmp", ".tmp-abc", ".hidden"])
def test_command_names_that_look_like_shimgen_leftovers_are_refused(sandbox: Sandbox, name: str) -> None:
    with pytest.raises(PathRefused, match="starts with a dot"):
        sandbox.store().publish("tool", "1.0", [EntryFile("t", b"x")], [Command(name, "t")], kind="posix")


def test_names_only_windows_refuses_are_refused_only_for_windows(tmp_path: Path, venv: Path) -> None:
    """pip installs a distribution named 'con' with a command 'tool.' into a POSIX venv; they were
    refused there as Windows device names. For a Windows layout the refusal says why."""
    entry_points = "[console_scripts]\ntool. = con:main\n"
    wheel = build_wheel(tmp_path, "con", "1.0", {"con/__init__.py": b"def main(): print('con')\n"},
                        entry_points=entry_points)  # fmt: skip
    code, out, err = run("install", "--prefix", venv, wheel)
    assert code == 0 and "commands: tool." in out, err
    assert subprocess.run([venv / "bin" / "tool."], capture_output=True, text=True).stdout == "con\n"
    windows = tmp_path / "win env"
    windows.mkdir()
    code, _, err = run("install", "--prefix", windows, "--platform", "win_amd64", wheel)
    assert code == 1 and "a Windows environment cannot hold it" in err, err
    assert "'con' is a Windows device name" in err or "'tool.' ends in a dot" in err
    code, _, err = run("generate", "con", "--arch", "x64", "--out", tmp_path / "x.exe")
    assert code == 1 and "Windows device name" in err
