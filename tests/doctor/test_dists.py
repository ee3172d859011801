"""doctor's checks of each dist in the store: link records, shims, entries and states are found,
named, and fixed when they can be."""

from __future__ import annotations

import json
import os
from pathlib import Path

from shimgen.doctor import PROBLEM, doctor
from shimgen.entry import MANIFEST_NAME
from shimgen.scripts import DISPATCHER
from shimgen.store import Store
from tests.helpers.environments import (
    kinds,
    problems,
)
from tests.helpers.sandbox import Sandbox


def test_missing_and_wrong_link_records_are_rewritten(tmp_path: Path) -> None:
    sandbox = Sandbox(tmp_path, "windows")  # POSIX keeps no record files: the symlinks, tested below
    sandbox.prefix.mkdir()
    sandbox.publish("tool", "1.0", "a", "b", "c")
    first = sandbox.store().read_state("tool").current
    sandbox.publish("tool", "2.0", "a", "b", "c")
    links = sandbox.prefix / ".shimgen" / "links"
    (links / "a").unlink()
    (links / "b").write_bytes(b"shimgen-link 1\ntarg")  # truncated
    (links / "c").write_text(
        f"shimgen-link 1\ntarget=.shimgen/store/tool/{first}/{sandbox.resolved('a') or 'c'}\n"
    )
    findings = doctor(sandbox.store())
    assert kinds(findings) == ["link-record", "link-record", "link-record"]
    assert all(f.fix and "rewrite" in f.fix and not f.fixed for f in findings)
    fixed = doctor(sandbox.store(), fix=True)
    assert all(f.fixed for f in fixed)
    assert problems(sandbox) == [] and all(sandbox.runs(c) == "2.0" for c in "abc")


def test_missing_or_stale_shims_are_written(sandbox: Sandbox) -> None:
    sandbox.publish("tool", "1.0", "a", "b")
    os.unlink(sandbox.shim("a"))
    if sandbox.windows:
        from shimgen import stub_bytes

        sandbox.shim("b").write_bytes(stub_bytes("x64", gui=True))  # a shimgen launcher, but the wrong one
    else:
        os.unlink(sandbox.shim("b"))
        os.symlink("../.shimgen/store/tool/elsewhere/b", sandbox.shim("b"))
    assert problems(sandbox) == ["shim", "shim"]
    doctor(sandbox.store(), fix=True)
    assert problems(sandbox) == [] and sandbox.runs("a") == sandbox.runs("b") == "1.0"


def test_tampered_or_incomplete_current_entry_needs_a_person(sandbox: Sandbox) -> None:
    result = sandbox.publish("tool", "1.0", "a", "b")
    program = sandbox.resolved("a")
    program.write_bytes(program.read_bytes() + b"!")
    os.unlink(sandbox.resolved("b"))
    findings = doctor(sandbox.store(), fix=True)
    assert kinds(findings) == ["damaged-entry"]
    (finding,) = findings
    assert finding.fix is None and not finding.fixed and finding.path == result.entry
    assert "tampered" in finding.message and "missing" in finding.message
    assert "rollback" in finding.hint


def test_damaged_manifest_is_found(sandbox: Sandbox) -> None:
    result = sandbox.publish("tool", "1.0")
    manifest = result.entry / MANIFEST_NAME
    manifest.write_bytes(manifest.read_bytes().replace(b'"1.0"', b'"6.6"'))
    (finding,) = doctor(sandbox.store())
    assert finding.kind == "damaged-entry" and "digest does not match" in finding.message


def test_damaged_kept_entry_is_dropped_from_the_rollback_list(sandbox: Sandbox) -> None:
    first = sandbox.publish("tool", "1.0").entry
    sandbox.publish("tool", "2.0")
    (first / MANIFEST_NAME).unlink()
    assert problems(sandbox) == ["damaged-kept-entry"]
    doctor(sandbox.store(), fix=True)
    assert problems(sandbox) == [] and sandbox.store().read_state("tool").generations[1:] == ()


def test_unreadable_dist_state_is_rebuilt_from_link_records(sandbox: Sandbox) -> None:
    sandbox.publish("tool", "1.0")
    sandbox.publish("tool", "2.0")
    store = sandbox.store()
    current = store.read_state("tool").current
    store.state_path("tool").write_bytes(b"{truncated")
    (finding,) = [f for f in doctor(store) if f.severity == PROBLEM]
    assert finding.kind == "dist-state" and current in finding.fix
    doctor(store, fix=True)
    assert store.read_state("tool").generations == (current,) and problems(sandbox) == []


def test_foreign_file_where_a_shim_belongs_is_reported_not_touched(sandbox: Sandbox) -> None:
    sandbox.publish("tool", "1.0")
    shim = sandbox.shim("tool")
    os.unlink(shim)
    shim.write_bytes(b"someone else's program")
    (finding,) = doctor(sandbox.store(), fix=True)
    assert finding.kind == "foreign-shim" and finding.fix is None and not finding.fixed
    assert shim.read_bytes() == b"someone else's program"


def test_a_tampered_entry_of_an_installed_dist_says_reinstall_not_rollback(installed_env: Path) -> None:
    """doctor suggested 'shimgen rollback', which refuses a wheel-installed distribution."""
    state = json.loads((installed_env / ".shimgen" / "dists" / "tool.json").read_text())
    entry = installed_env / ".shimgen" / "store" / "tool" / state["generations"][0]
    # The entry-point script: one per command on Windows, one for all of them on POSIX.
    script = entry / ("tool-script.py" if (installed_env / "Scripts").is_dir() else DISPATCHER)
    data = script.read_bytes()
    script.write_bytes(data[:-1] + (b"!" if data[-1:] != b"!" else b"?"))  # same size: only a hash tells
    (finding,) = [f for f in doctor(Store(installed_env)) if f.kind == "damaged-entry"]
    assert "install the same wheel again" in finding.hint and "rollback" not in finding.hint
