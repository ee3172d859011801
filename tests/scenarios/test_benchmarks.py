"""The benchmarks still run (tiny sizes). No timing is asserted here: speed lives in benchmarks/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def tables(text: str) -> dict[str, list[list[str]]]:
    """Each section's table rows (cells), by section title; header and rule rows left out."""
    sections: dict[str, list[list[str]]] = {}
    title = ""
    for line in text.splitlines():
        if line.startswith("## "):
            title = line[3:]
            sections[title] = []
        elif line.startswith("|---") and title:
            sections[title].pop()  # the row above the rule was a header
        elif line.startswith("| ") and title:
            sections[title].append([cell.strip() for cell in line.strip("|").split("|")])
    return sections


@pytest.mark.wine
def test_benchmarks_run_quick(tmp_path: Path) -> None:
    out = tmp_path / "results.md"
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
    sections = tables(out.read_text())
    assert list(sections) == [
        "Launch overhead (Wine, x64)",
        "Launcher size",
        "Installing a wheel with N console_scripts",
        "Installing, as a whole process (what a user waits for)",
        "Switching one command",
        "A large native program: install and adopt",
        "Start-up, a sync with nothing to do, and shimgen run (whole processes)",
    ]
    launch = {row[0]: row for row in sections["Launch overhead (Wine, x64)"]}
    assert {"noop.exe, run directly", "entry point via shimgen launcher"} <= set(launch)
    assert any("distlib" in name for name in launch) and any("setuptools" in name for name in launch)
    assert all(float(row[1]) > 0 for row in launch.values())  # every variant really ran

    sizes = sections["Launcher size"]
    assert len(sizes) == 6 and all(row[-1] in ("yes", "NO") for row in sizes)

    install = sections["Installing a wheel with N console_scripts"]
    growth = [row for row in install if len(row) == 3]
    install = [row for row in install if len(row) == 8]
    assert {row[1] for row in install} == {
        "shimgen install",
        "pypa/installer",
        "distlib Wheel.install",
        "bare file operations of shimgen's design",
    }
    assert len(install) == 16 and len(growth) == 8  # 2 layouts x 4 rows x (2 sizes | 1 step)

    process = sections["Installing, as a whole process (what a user waits for)"]
    growth = [row for row in process if len(row) == 3]
    process = [row for row in process if len(row) == 7]
    assert {(row[0], row[2]) for row in process} == {
        ("POSIX venv", "shimgen install"),
        ("POSIX venv", "python -m installer"),
        ("POSIX venv", "uv pip install (warm cache)"),
        ("POSIX venv", "uv pip install (cold cache)"),
        ("Windows layout", "shimgen install"),
        ("Windows layout", "pypa/installer"),
    }
    assert len(process) == 18 and len(growth) == 6  # 6 tools x (1, 10 entry points, 1 MiB) | 1 step
    assert all(float(row[3]) > 0 for row in process)

    switch = sections["Switching one command"]
    assert {row[0] for row in switch} == {
        "Linux, POSIX layout",
        "Linux, Windows layout",
        "Wine, Windows CPython",
    }
    assert len(switch) == 18
    payload = {row[0] for row in sections["A large native program: install and adopt"]}
    assert payload == {"shimgen install", "pypa/installer", "shimgen adopt", "plain copy"}

    startup = {
        row[0]: row
        for row in sections["Start-up, a sync with nothing to do, and shimgen run (whole processes)"]
    }
    assert set(startup) == {
        "python -c pass",
        "python -c 'import click'",
        "shimgen --version",
        "pip list",
        "shimgen sync (nothing to do)",
        "true",
        "shimgen run -- true",
    }
    assert startup["shimgen sync (nothing to do)"][3] == "pip list" and startup["shimgen run -- true"][
        4
    ].endswith("x")
