"""Store entries: the paths an entry may hold; a manifest that cannot be read is a finding."""

from __future__ import annotations

import pytest

from shimgen.doctor import PROBLEM, doctor
from shimgen.entry import MANIFEST_NAME, Command, EntryFile
from shimgen.errors import PathRefused
from tests.helpers.sandbox import Sandbox


@pytest.mark.parametrize("path", ["../escape", "/abs", "C:/x", "a/../../b", "a\\b", MANIFEST_NAME, "sub/./x"])
def test_hostile_entry_paths_are_refused(sandbox: Sandbox, path: str) -> None:
    store = sandbox.store()
    before = sandbox.snapshot()
    with pytest.raises(PathRefused):
        store.publish("tool", "1.0", [EntryFile(path, b"x")], [Command("tool", path)], kind="posix")
    assert sandbox.snapshot() == before


def test_a_manifest_with_absurd_numbers_is_a_finding_not_a_crash(sandbox: Sandbox) -> None:
    entry = sandbox.publish("tool", "1.0").entry
    manifest = entry / MANIFEST_NAME
    manifest.write_text(manifest.read_text().replace('"size": ', '"size": 1e400, "x": ', 1))
    (finding,) = [f for f in doctor(sandbox.store()) if f.severity == PROBLEM]
    assert finding.kind == "damaged-entry"
