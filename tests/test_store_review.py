"""Regression tests for the store's edge cases found in review: each one once lost data or state."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from shimgen import ShimgenError, write_launcher
from shimgen.doctor import NOTE, PROBLEM, doctor
from shimgen.entry import MANIFEST_NAME, Command, EntryFile
from shimgen.errors import PathRefused
from tests.helpers.environments import problems
from tests.helpers.sandbox import Sandbox


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


def test_rollback_never_takes_a_command_from_another_dist(sandbox: Sandbox) -> None:
    sandbox.publish("a", "1.0", "x", "y")
    sandbox.publish("a", "2.0", "y")
    sandbox.publish("b", "1.0", "x")
    before = sandbox.snapshot()
    with pytest.raises(ShimgenError, match="'x' belongs to b"):
        sandbox.store().rollback("a")
    assert sandbox.snapshot() == before and problems(sandbox) == []


def test_rollback_refuses_a_foreign_file_before_changing_anything(sandbox: Sandbox) -> None:
    sandbox.publish("a", "1.0", "x", "y")
    sandbox.publish("a", "2.0", "y")
    shim = sandbox.shim("x")
    shim.write_bytes(b"pip put this here")
    before = sandbox.snapshot()
    with pytest.raises(ShimgenError, match="did not make"):
        sandbox.store().rollback("a")
    assert sandbox.snapshot() == before


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


@pytest.mark.parametrize("what", ["state", "config"])
def test_files_from_a_newer_shimgen_are_never_rewritten(sandbox: Sandbox, what: str) -> None:
    sandbox.publish("tool", "1.0")
    sandbox.publish("tool", "2.0")
    store = sandbox.store()
    path = store.state_path("tool") if what == "state" else store.config_path
    body = json.loads(path.read_text())
    path.write_text(json.dumps({**body, "format": 2}))
    before = sandbox.snapshot()
    findings = [f for f in doctor(store, fix=True) if f.severity == PROBLEM]
    assert findings and all(f.fix is None and "newer shimgen" in f.hint for f in findings)
    assert sandbox.snapshot() == before
    if what == "config":  # nothing runs on an environment laid out by a newer shimgen
        with pytest.raises(ShimgenError, match="newer shimgen"):
            store.gc()
    else:  # the dist's kept versions survive gc until a newer shimgen reads them
        assert store.gc().removed == []


@pytest.mark.parametrize("name", [".x.tmp", ".tmp-abc", ".hidden"])
def test_command_names_that_look_like_shimgen_leftovers_are_refused(sandbox: Sandbox, name: str) -> None:
    with pytest.raises(PathRefused, match="starts with a dot"):
        sandbox.store().publish("tool", "1.0", [EntryFile("t", b"x")], [Command(name, "t")], kind="posix")


def test_a_command_renamed_only_in_case_leaves_one_launcher(sandbox: Sandbox) -> None:
    sandbox.publish("tool", "1.0", "Ruff")
    sandbox.publish("tool", "2.0", "ruff")
    store = sandbox.store()
    assert os.listdir(store.links_dir) == ["ruff"]
    assert sandbox.runs("ruff") == "2.0" and not os.path.lexists(sandbox.shim("Ruff"))
    assert problems(sandbox) == []


@pytest.mark.parametrize(
    "generations", [["D:1.0-0123456789abcdef"], ["1.0"], "1.0-0123456789abcdef", ["a/b-0123456789abcdef"], []]
)
def test_entry_names_in_a_state_file_are_checked_strictly(sandbox: Sandbox, generations: object) -> None:
    sandbox.publish("tool", "1.0")
    store = sandbox.store()
    store.state_path("tool").write_text(json.dumps({"format": 1, "dist": "tool", "generations": generations}))
    with pytest.raises(ShimgenError, match="invalid dist state"):
        store.read_state("tool")


def test_a_manifest_with_absurd_numbers_is_a_finding_not_a_crash(sandbox: Sandbox) -> None:
    entry = sandbox.publish("tool", "1.0").entry
    manifest = entry / MANIFEST_NAME
    manifest.write_text(manifest.read_text().replace('"size": ', '"size": 1e400, "x": ', 1))
    (finding,) = [f for f in doctor(sandbox.store()) if f.severity == PROBLEM]
    assert finding.kind == "damaged-entry"


def test_list_shows_an_unreadable_state_as_a_problem_row(sandbox: Sandbox) -> None:
    from click.testing import CliRunner

    from shimgen.cli import main

    sandbox.publish("tool", "1.0")
    sandbox.publish("other", "1.0")
    sandbox.store().state_path("other").write_text("{")
    result = CliRunner().invoke(main, ["list", "--prefix", str(sandbox.prefix)])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].startswith("other ?  PROBLEM: invalid dist state")
    assert result.stdout.splitlines()[1].startswith("tool 1.0")
