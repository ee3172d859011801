"""sync against the states pip and uv leave, natively in both layouts.

Each state is made the way an installer makes it (deleting what a RECORD lists, in its order),
then ``sync`` must repair it without removing a command of a distribution that is still
installed, and a second sync must change nothing. What doctor says of such states, and what
``doctor --fix`` repairs: tests/doctor/test_site.py.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import os
from pathlib import Path

from tests.helpers.cli import run
from tests.helpers.environments import (
    assert_synced_and_clean,
    delete_as_an_installer,
    problems,
    record,
    shims,
)


def test_the_legacy_uv_failure_is_repaired_by_sync(installed_env: Path) -> None:
    """The state the issue reported: an older shimgen's RECORD listed .shimgen/; uv deleted the dist
    state, the link records and the entry's manifest and script, then stopped at the running
    program. sync rebuilds the entry (the script from entry_points.txt, the program from the store,
    its bytes checked against that RECORD) and rewrites the RECORD by the rule."""
    _make_record_legacy(installed_env)
    native = "tool-native.exe" if (installed_env / "Scripts").is_dir() else "tool-native"
    delete_as_an_installer(installed_env, stop_at=native)
    assert not (installed_env / ".shimgen" / "dists" / "tool.json").exists()
    links = installed_env / ".shimgen" / "links"  # Windows; on POSIX the shims are the records
    assert not (links.is_dir() and any(links.iterdir()))
    assert problems(installed_env)  # named, whatever the store-level view adds
    code, out, err = run("sync", "--prefix", installed_env)
    assert code == 0, (out, err)
    assert "repaired tool: 1.0 entry rebuilt for tool, tool-native" in out
    assert len(shims(installed_env)) == 2
    assert_synced_and_clean(installed_env)


def test_a_version_without_commands_loses_the_old_ones(installed_env: Path, tmp_path: Path) -> None:
    """uv upgraded tool to 2.0, which has no commands: its old launchers were deleted with 1.0."""
    delete_as_an_installer(installed_env, stop_at=None)
    site = next(installed_env.glob("**/site-packages"))
    info = site / "tool-2.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tool\nVersion: 2.0\n")
    (info / "RECORD").write_text("tool-2.0.dist-info/METADATA,,\ntool-2.0.dist-info/RECORD,,\n")
    code, out, _ = run("sync", "--prefix", installed_env)
    # Windows: the link records were not in RECORD, so sync removes them; POSIX: uv took the symlinks.
    if (installed_env / "Scripts").is_dir():
        assert code == 0 and "repaired tool: 2.0 has no commands: removed tool, tool-native" in out, out
    else:
        assert code == 0 and "repaired tool: 2.0 has no commands, and the installer removed the old" in out
    assert shims(installed_env) == [] and problems(installed_env) == []


def _make_record_legacy(prefix: Path) -> None:
    """Add what an older shimgen's RECORD listed: every file of .shimgen/ for this dist, hashed."""
    path = record(prefix)
    lib = path.parent.parent
    rows = list(csv.reader(path.read_text().splitlines()))
    for file in sorted((prefix / ".shimgen").rglob("*")):
        if file.is_file() and file.relative_to(prefix).parts[1] in ("dists", "links", "store"):
            data = file.read_bytes()
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            rows.insert(0, [os.path.relpath(file, lib), f"sha256={digest}", str(len(data))])
    rows.sort(key=lambda row: row[0])  # as uv and pip write RECORD: sorted, so ../../.shimgen/ first
    path.write_text("".join(",".join(row) + "\n" for row in rows))


def test_an_empty_dist_info_an_installer_left_is_named_and_removed(installed_env: Path) -> None:
    """uv killed right after making tool-2.0.dist-info: an empty folder, taken for an install."""
    delete_as_an_installer(installed_env, stop_at=None)
    empty = next(installed_env.glob("**/site-packages")) / "tool-2.0.dist-info"
    empty.mkdir()
    assert problems(installed_env) == ["empty-dist-info", "uninstalled"]
    code, out, _ = run("sync", "--prefix", installed_env)
    assert code == 0 and "removed an empty .dist-info folder an installer left: tool-2.0.dist-info" in out
    assert (
        "removed tool (no longer installed)" in out and not empty.exists() and problems(installed_env) == []
    )
