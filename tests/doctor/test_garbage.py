"""Garbage: reported, but not a problem; gc removes it."""

from __future__ import annotations

from pathlib import Path

from shimgen.doctor import GARBAGE, doctor
from tests.helpers.environments import (
    kinds,
)
from tests.helpers.sandbox import Sandbox


def test_garbage_is_reported_but_is_not_a_problem(sandbox: Sandbox) -> None:
    sandbox.publish("tool", "1.0")
    sandbox.publish("tool", "2.0")
    sandbox.publish("tool", "3.0")
    store = sandbox.store()
    (store.store_dir / "tool" / ".tmp-dead").mkdir()
    store.links_dir.mkdir(exist_ok=True)  # where a crashed switch leaves a temporary (Windows)
    (store.links_dir / ".x.tmp").write_bytes(b"")
    store.trash_dir.mkdir(exist_ok=True)
    (store.trash_dir / "old").write_bytes(b"")
    store.remove("tool")
    findings = doctor(store)
    assert kinds(findings) == []
    # Windows launchers are renamed into the trash on removal (they may be running); symlinks are unlinked.
    trash = ["trash"] * (2 if sandbox.windows else 1)
    assert kinds(findings, GARBAGE) == ["leftover", *trash, *["unused-entry"] * 4]
    store.gc()
    assert doctor(store) == []


def test_link_record_files_an_older_shimgen_left_in_a_posix_layout_are_garbage(tmp_path: Path) -> None:
    """Before the symlinks were the records, a POSIX layout had a file per command too: read by nothing."""
    box = Sandbox(tmp_path, "posix")
    box.prefix.mkdir()
    box.publish("tool", "1.0")
    store = box.store()
    store.links_dir.mkdir()
    old = store.links_dir / "tool"
    old.write_text(f"shimgen-link 1\ntarget=.shimgen/store/tool/{store.read_state('tool').current}/tool\n")
    findings = doctor(store)
    assert kinds(findings) == [] and kinds(findings, GARBAGE) == ["obsolete-link-record"]
    store.gc()
    assert not old.exists() and doctor(store) == [] and box.runs("tool") == "1.0"
