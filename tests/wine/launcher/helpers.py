"""What the launcher's Wine tests share: the architectures they run, the test programs of each
(tests/wine/programs/, compiled by the ``programs`` fixture), and two ways of running them."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.wine.helpers import Wine, windows_path

ARCHES = ("x64", "x86")
WINDOWS_LIBRARIES = ["kernel32", "shell32", "user32"]


@dataclass(frozen=True)
class Programs:
    """The test programs (tests/wine/programs/) of one architecture."""

    arch: str
    probe: Path  # probe.c: echo, exit, sleep, spawn... (console)
    console: Path  # console.c: console control events, driver and tool
    gui: Path  # gui.c: message boxes and consoles, a GUI program
    answers: Path  # windows_answers.c: launcher.c with Windows' answers where Wine's differ


def run_exact(wine: Wine, runner: Path, tmp_path: Path, application: Path, command_line: str, **options):
    """Start ``application`` with exactly ``command_line`` (CreateProcessW in probe.exe ``runner``)."""
    command_file = tmp_path / "command-line.txt"
    command_file.write_text(command_line, encoding="utf-8")
    return wine.run(runner, "run", windows_path(application), windows_path(command_file), **options)


def one_line_error(result: subprocess.CompletedProcess[str], launcher: str, *needles: str) -> str:
    """Check that stderr is one line naming ``launcher`` and holding every needle; return it."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"shimgen launcher {launcher}: "), lines[0]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]
