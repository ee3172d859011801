"""The benchmarks still run (tiny sizes). No timing is asserted here: speed lives in benchmarks/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.wine
def test_benchmarks_run_quick(tmp_path: Path) -> None:
    out = tmp_path / "results.md"
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    rows = [line for line in out.read_text().splitlines() if line.startswith("| ") and "median" not in line]
    switch = [row for row in rows if row.count("|") == 8]
    install = [row for row in rows if row.count("|") == 9]
    wheres = {row.split(" | ")[0].strip("| ") for row in switch}
    assert wheres == {"Linux, POSIX layout", "Linux, Windows layout", "Wine, Windows CPython"}
    assert len(switch) == 18 and len(install) == 12 and len(rows) == 30
    assert {row.split(" | ")[1] for row in install} == {
        "shimgen install",
        "pypa/installer",
        "distlib Wheel.install",
    }
