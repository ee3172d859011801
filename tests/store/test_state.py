"""A dist's state file: its entry names checked strictly; one from a newer shimgen never rewritten."""

from __future__ import annotations

import json

import pytest

from shimgen import ShimgenError
from shimgen.doctor import PROBLEM, doctor
from tests.helpers.sandbox import Sandbox


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


@pytest.mark.parametrize(
    "generations", [["D:1.0-0123456789abcdef"], ["1.0"], "1.0-0123456789abcdef", ["a/b-0123456789abcdef"], []]
)
def test_entry_names_in_a_state_file_are_checked_strictly(sandbox: Sandbox, generations: object) -> None:
    sandbox.publish("tool", "1.0")
    store = sandbox.store()
    store.state_path("tool").write_text(json.dumps({"format": 1, "dist": "tool", "generations": generations}))
    with pytest.raises(ShimgenError, match="invalid dist state"):
        store.read_state("tool")
