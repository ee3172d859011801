"""The command line as a whole (shimgen.cli): a reader that goes away is no error, and --version and
--help import none of the heavy modules. Each family of verbs is tested in tests/cli/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from shimgen.launcher import stub_bytes


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
        "         'shimgen.install'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout == "[]\n"
