"""Looking at environments: their site-packages, everything in them, what doctor finds there; and
doing to them what pip and uv do (the ``installed_env`` fixture's tool 1.0, uninstalled their way)."""

from __future__ import annotations

import csv
import os
from pathlib import Path

from shimgen.doctor import PROBLEM, Finding, doctor
from shimgen.store import Store
from tests.helpers.cli import run
from tests.helpers.sandbox import Sandbox
from tests.helpers.wheels import assert_record_follows_rule


def site_of(venv: Path) -> Path:
    """A POSIX venv's site-packages."""
    return next((venv / "lib").glob("python3.*/site-packages"))


def snapshot(prefix: Path) -> dict[str, bytes | str]:
    """Every file's bytes and every symlink's target under ``prefix`` (the lock file aside)."""
    found: dict[str, bytes | str] = {}
    for path in sorted(prefix.rglob("*")):
        name = path.relative_to(prefix).as_posix()
        if path.is_symlink():
            found[name] = os.readlink(path)
        elif path.is_file() and path.name != "lock":
            found[name] = path.read_bytes()
        elif path.is_dir():
            found[name] = "<dir>"
    return found


def kinds(findings: list[Finding], severity: str = PROBLEM) -> list[str]:
    return sorted(f.kind for f in findings if f.severity == severity)


def problems(where: Sandbox | Path) -> list[str]:
    """The kinds of the problems doctor finds in a sandbox, or in the environment at a prefix."""
    return kinds(doctor(where.store() if isinstance(where, Sandbox) else Store(where)))


def stub_program() -> bytes:
    """A Windows program that is not a launcher: a stub with bytes of its own appended."""
    from shimgen import stub_bytes

    return stub_bytes("x64", False) + b"\nthe native program"


def shims(prefix: Path) -> list[str]:
    """The tool's shims (``tool*``) in Scripts or bin."""
    folder = prefix / ("Scripts" if (prefix / "Scripts").is_dir() else "bin")
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("tool"))


def record(prefix: Path) -> Path:
    """tool 1.0's RECORD."""
    return next(prefix.glob("**/site-packages/tool-1.0.dist-info/RECORD"))


def assert_synced_and_clean(prefix: Path) -> None:
    assert problems(prefix) == []
    assert_record_follows_rule(record(prefix).parent)
    code, out, _ = run("sync", "--prefix", prefix)
    assert (code, out) == (0, "in sync: nothing to adopt or repair\n")


def delete_as_an_installer(prefix: Path, stop_at: str | None) -> None:
    """What uv's uninstall does: delete RECORD's rows in order; stop at ``stop_at`` (a running file)."""
    path = record(prefix)
    for row in list(csv.reader(path.read_text().splitlines())):
        target = Path(os.path.normpath(path.parent.parent / row[0]))
        if stop_at is not None and target.name == stop_at and "store" in target.parts:
            return  # the running program in the store: Access is denied (os error 5)
        if os.path.lexists(target) and not target.is_dir():
            target.unlink()
    path.parent.rmdir() if not any(path.parent.iterdir()) else None
