"""The switch to a dist's state: commands dropped and added between versions, renamed in case only."""

from __future__ import annotations

import os

from tests.helpers.environments import problems
from tests.helpers.sandbox import Sandbox


def test_commands_dropped_and_added_between_versions(sandbox: Sandbox) -> None:
    sandbox.publish("tool", "1.0", "a", "b")
    sandbox.publish("tool", "2.0", "b", "c")
    assert not os.path.lexists(sandbox.shim("a")) and not (sandbox.prefix / ".shimgen/links/a").exists()
    assert sandbox.runs("b") == "2.0" and sandbox.runs("c") == "2.0"


def test_a_command_renamed_only_in_case_leaves_one_launcher(sandbox: Sandbox) -> None:
    sandbox.publish("tool", "1.0", "Ruff")
    sandbox.publish("tool", "2.0", "ruff")
    store = sandbox.store()
    assert list(store.read_links()) == ["ruff"]
    assert sandbox.runs("ruff") == "2.0" and not os.path.lexists(sandbox.shim("Ruff"))
    assert problems(sandbox) == []
