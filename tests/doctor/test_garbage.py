"""Garbage: reported, but not a problem; gc removes it."""

from __future__ import annotations

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
