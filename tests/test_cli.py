"""The command line as a whole (shimgen.cli): a reader that goes away is no error, and --version and
--help import none of the heavy modules. Each family of verbs is tested in tests/cli/."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from shimgen.launcher import stub_bytes
from tests.helpers.wheels import TOOL_POINTS, build_wheel


def test_a_reader_that_goes_away_is_not_an_error_message(tmp_path: Path) -> None:
    """'shimgen inspect X | head -1' printed "error: Broken pipe" and a hint about atomic steps."""

    launcher = tmp_path / "tool.exe"
    launcher.write_bytes(stub_bytes("x64"))
    child = subprocess.Popen(
        [sys.executable, "-m", "shimgen", "inspect", str(launcher)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()  # before the child writes: its write fails with EPIPE
    stderr = child.stderr.read()
    assert child.wait(timeout=60) == 1
    assert stderr == b""


def test_version_and_help_import_none_of_the_heavy_modules() -> None:

    code = (
        "import sys\n"
        "from shimgen.cli import main\n"
        "heavy = {'pefile', 'asyncio', 'distlib', 'zipfile', 'shimgen.lock', 'shimgen.store',\n"
        "         'shimgen.install', 'packaging', 'importlib.metadata'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout == "[]\n"


def test_packaging_is_imported_to_judge_a_wheel_not_to_start_or_to_find_nothing_to_do(
    tmp_path: Path, venv: Path
) -> None:
    """packaging (wheel tags and names) costs ~10 ms to import: --version and a sync with nothing
    to do must not pay for it (issue 15). importlib.metadata and the email package are not
    imported at all: an install needs one pattern of the first and two fields of a WHEEL file
    (issue 14)."""
    wheel = build_wheel(
        tmp_path, "tool", "1.0", {"tool/__init__.py": b"def main(): pass\n"}, entry_points=TOOL_POINTS
    )
    code = (
        "import sys\n"
        "from shimgen.cli import main\n"
        "try:\n"
        "    main(sys.argv[1:])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted({'packaging', 'importlib.metadata', 'email'} & set(sys.modules)), file=sys.stderr)\n"
    )

    def imported(*args: str | Path) -> str:
        result = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True)
        return result.stderr.splitlines()[-1]

    assert imported("install", "--prefix", venv, wheel) == "['packaging']"
    assert os.path.lexists(venv / "bin" / "tool")
    assert imported("--version") == "[]"
    assert imported("sync", "--prefix", venv) == "[]"
