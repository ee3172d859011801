"""doctor's checks across commands: orphan and invalid link records, dangling shims, and the
records and launchers made by hand that are left alone."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shimgen import ShimgenError, write_launcher
from shimgen.doctor import NOTE, doctor
from tests.helpers.cli import link, run
from tests.helpers.environments import (
    problems,
)
from tests.helpers.sandbox import Sandbox


def test_orphan_and_invalid_link_records_and_dangling_shims_are_removed(tmp_path: Path) -> None:
    sandbox = Sandbox(tmp_path, "windows")
    sandbox.prefix.mkdir()
    sandbox.publish("tool", "1.0", "a", "gone")
    store = sandbox.store()
    # A crash between dropping the state and dropping the links: "gone" is owned by nothing.
    state = store.read_state("tool")
    sandbox.publish("tool", "2.0", "a")
    (store.links_dir / "gone").write_text(
        f"shimgen-link 1\ntarget=.shimgen/store/tool/{state.current}/gone\n"
    )
    (store.links_dir / "junk").write_bytes(b"\xff\xfe not a record")
    (store.links_dir / "escape").write_bytes(b"shimgen-link 1\ntarget=../../outside\n")
    write_launcher(sandbox.shim("gone"), "x64")
    write_launcher(sandbox.shim("dangling"), "x64")
    assert problems(sandbox) == ["dangling-shim", "orphan-link", "orphan-link", "orphan-link"]
    doctor(store, fix=True)
    assert problems(sandbox) == []
    assert not os.path.lexists(sandbox.shim("gone")) and not os.path.lexists(sandbox.shim("dangling"))
    assert sorted(p.name for p in store.links_dir.iterdir()) == ["a"]


def test_posix_symlinks_into_the_store_that_no_state_wants_are_removed(tmp_path: Path) -> None:
    """On POSIX the symlink is the link record: one left by a crash, or into no entry, is an orphan."""
    sandbox = Sandbox(tmp_path, "posix")
    sandbox.prefix.mkdir()
    sandbox.publish("tool", "1.0", "a", "gone")
    state = sandbox.store().read_state("tool")
    sandbox.publish("tool", "2.0", "a")
    os.symlink(f"../.shimgen/store/tool/{state.current}/gone", sandbox.shim("gone"))
    os.symlink("../.shimgen/store/tool/x/dangling", sandbox.shim("dangling"))
    os.symlink("../../outside", sandbox.shim("elsewhere"))  # not into the store: not shimgen's
    assert problems(sandbox) == ["orphan-link", "orphan-link"]
    doctor(sandbox.store(), fix=True)
    assert problems(sandbox) == []
    assert not os.path.lexists(sandbox.shim("gone")) and not os.path.lexists(sandbox.shim("dangling"))
    assert os.readlink(sandbox.shim("elsewhere")) == "../../outside" and sandbox.runs("a") == "2.0"


def test_launchers_and_records_made_by_hand_are_left_alone(tmp_path: Path) -> None:
    box = Sandbox(tmp_path, "windows")
    box.prefix.mkdir()
    box.publish("tool", "1.0")
    store = box.store()
    write_launcher(box.shim("custom"), "x64")
    (store.links_dir / "custom").write_text("shimgen-link 1\ntarget=tools/custom.exe\n")
    findings = doctor(store, fix=True)
    assert [(f.kind, f.severity) for f in findings] == [("unmanaged-link", NOTE)]
    assert box.shim("custom").exists() and (store.links_dir / "custom").exists()
    with pytest.raises(ShimgenError, match="points outside shimgen's store"):
        box.publish("other", "1.0", "custom")


def test_an_invalid_link_record_says_why(tmp_path: Path) -> None:
    box = Sandbox(tmp_path, "windows")  # a POSIX symlink out of the store is no record: test above
    box.prefix.mkdir()
    link(box, "1.0")
    (box.prefix / ".shimgen" / "links" / "tool").write_bytes(b"shimgen-link 1\ntarget=../outside.exe\n")
    code, out, _ = run("doctor", "--prefix", str(box.prefix))
    assert code == 3 and "link record of tool (tool) is invalid (refused path '../outside.exe'" in out, out
