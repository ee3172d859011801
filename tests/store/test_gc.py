"""gc: the generations it keeps, what it never removes, the crash leftovers and the trash it empties."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from shimgen import ShimgenError
from tests.helpers.sandbox import Sandbox


def test_gc_keeps_current_and_previous_generations(sandbox: Sandbox) -> None:
    store = sandbox.store()
    entries = [sandbox.publish("tool", v).entry for v in ("1.0", "2.0", "3.0")]
    report = store.gc(keep=1)
    assert report.removed == [entries[0]] and report.trimmed == {"tool": [entries[0].name]}
    assert entries[1].is_dir() and entries[2].is_dir()
    assert store.read_state("tool").generations == (entries[2].name, entries[1].name)
    assert store.gc(keep=0).removed == [entries[1]] and sandbox.runs("tool") == "3.0"
    with pytest.raises(ShimgenError, match="no previous"):
        store.rollback("tool")
    assert store.gc().removed == []


def test_gc_never_removes_an_entry_a_link_record_uses(sandbox: Sandbox) -> None:
    store = sandbox.store()
    first = sandbox.publish("tool", "1.0").entry
    sandbox.publish("tool", "2.0")
    # A link left pointing at the old entry (as by a crash) keeps it alive.
    sandbox.point("tool", f".shimgen/store/tool/{first.name}/{sandbox.resolved('tool').name}")
    assert store.gc(keep=0).removed == [] and first.is_dir()


def test_gc_removes_crash_leftovers_and_empties_the_trash(sandbox: Sandbox) -> None:
    store = sandbox.store()
    sandbox.publish("tool", "1.0")
    leftovers = [
        store.store_dir / "tool" / ".tmp-abc123",
        store.links_dir / ".tool.x1y2.tmp",
        store.dists_dir / ".tool.json.q.tmp",
        store.trash_dir / "1-ab-tool.exe",
    ]
    leftovers[0].mkdir()
    (leftovers[0] / "half").write_bytes(b"x")
    for path in leftovers[1:]:
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"x")
    store.gc()
    assert not any(p.exists() for p in leftovers) and sandbox.runs("tool") == "1.0"


def test_gc_keeps_an_interrupted_rollback_pending(sandbox: Sandbox) -> None:
    for version in ("1.0", "2.0", "3.0"):
        sandbox.publish("tool", version)
    store = sandbox.store()
    state = store.read_state("tool")
    # The rollback committed (2.0 current, pending) but crashed before switching the links.
    (store.state_path("tool")).write_bytes(
        type(state)(
            "tool", (state.generations[1], state.generations[0], state.generations[2]), "rollback"
        ).to_bytes()
    )
    store.gc(keep=1)
    assert store.read_state("tool").pending == "rollback"
    store.rollback("tool")  # finishes the interrupted rollback instead of starting another
    assert sandbox.runs("tool") == "2.0"


def test_gc_never_follows_links_out_of_the_prefix(tmp_path: Path) -> None:
    box = Sandbox(tmp_path, "posix")
    box.prefix.mkdir()
    box.publish("tool", "1.0")
    victims = [tmp_path / "victim", tmp_path / "victim2"]
    for victim in victims:
        (victim / "sub").mkdir(parents=True)
        (victim / "precious.txt").write_text("data")
    store = box.store()
    os.symlink(victims[0], store.store_dir / "evil")
    (store.store_dir / "stray-file").write_text("not a folder")
    shutil.rmtree(store.trash_dir, ignore_errors=True)  # so the trash link below is always made
    os.symlink(victims[1], store.trash_dir)
    report = store.gc()
    assert report.removed == []
    assert all((victim / "precious.txt").read_text() == "data" for victim in victims)
    assert box.runs("tool") == "1.0"
