"""The store (shimgen.store.store), natively, in both layouts: publish, publish again, remove."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shimgen import ShimgenError, stub_bytes
from shimgen.entry import MANIFEST_NAME, Command, EntryFile
from shimgen.store import Store
from tests.helpers.sandbox import Sandbox


def test_publish_creates_entry_link_and_shim(sandbox: Sandbox) -> None:
    result = sandbox.publish("My.Tool", "1.0", "tool", "helper")
    assert result.dist == "my-tool" and result.created and result.previous is None
    assert result.entry.parent == sandbox.prefix / ".shimgen" / "store" / "my-tool"
    assert result.entry.name.startswith("1.0-") and (result.entry / MANIFEST_NAME).is_file()
    assert sandbox.runs("tool") == "1.0" and sandbox.runs("helper") == "1.0"
    # Siblings side by side: a tool looking next to itself finds the others.
    assert sandbox.resolved("tool").parent == sandbox.resolved("helper").parent == result.entry
    program = f".shimgen/store/my-tool/{result.entry.name}/{sandbox.resolved('tool').name}"
    if sandbox.windows:  # the record the launcher reads
        assert sandbox.link_path("tool").read_text() == f"shimgen-link 1\ntarget={program}\n"
    else:  # the symlink is the record: no file of its own
        assert os.readlink(sandbox.shim("tool")) == f"../{program}"
        assert not (sandbox.prefix / ".shimgen" / "links").exists()


def test_switch_keeps_previous_entry_and_republish_is_idempotent(sandbox: Sandbox) -> None:
    first = sandbox.publish("tool", "1.0")
    second = sandbox.publish("tool", "2.0")
    assert second.previous == first.entry.name and sandbox.runs("tool") == "2.0"
    assert first.entry.is_dir()  # kept for rollback and for whatever still runs it
    link = sandbox.link_path("tool")
    before = os.lstat(link).st_mtime_ns, sandbox.snapshot()
    again = sandbox.publish("tool", "2.0")
    assert not again.created and again.entry == second.entry
    assert (os.lstat(link).st_mtime_ns, sandbox.snapshot()) == before


def test_remove_drops_shims_and_links_and_gc_collects(sandbox: Sandbox) -> None:
    store = sandbox.store()
    sandbox.publish("tool", "1.0", "a", "b")
    sandbox.publish("keep", "1.0")
    assert sorted(store.remove("tool")) == ["a", "b"]
    assert sandbox.resolved("a") is None and not os.path.lexists(sandbox.shim("a"))
    assert not (store.links_dir / "a").exists() and store.read_state("tool") is None
    assert sandbox.runs("keep") == "1.0"
    report = store.gc()
    assert [p.parent.name for p in report.removed] == ["tool"] and not report.in_use
    assert not (store.store_dir / "tool").exists()
    assert not any(store.trash_dir.iterdir())
    with pytest.raises(ShimgenError, match="not installed"):
        store.remove("tool")


def test_publish_from_bytes_and_python_style_commands(tmp_path: Path) -> None:
    box = Sandbox(tmp_path, "windows")
    (box.prefix / "Scripts").mkdir(parents=True)
    (box.prefix / "Scripts" / "python.exe").write_bytes(stub_bytes("arm64"))
    store = box.store()
    files = [EntryFile("tool-script.py", b"print('hi')\n")]
    commands = [Command("tool", "tool-script.py", interpreter="Scripts/python.exe")]
    result = store.publish("tool", "1.0", files, commands)
    assert store.layout().arch.value == "arm64"  # taken from the environment's python.exe
    record = (store.links_dir / "tool").read_text()
    script = f".shimgen/store/tool/{result.entry.name}/tool-script.py"
    assert record == f"shimgen-link 1\ntarget=Scripts/python.exe\nscript={script}\n"


def test_operations_on_a_prefix_that_is_not_shimgen_create_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path)
    for operation in (lambda: store.remove("tool"), lambda: store.rollback("tool"), lambda: store.gc()):
        with pytest.raises(ShimgenError, match="not a shimgen environment"):
            operation()
    assert list(tmp_path.iterdir()) == []
