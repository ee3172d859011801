"""rollback: current and previous swap; a damaged entry, or a command taken since, is refused."""

from __future__ import annotations

import os

import pytest

from shimgen import ShimgenError
from shimgen.entry import MANIFEST_NAME
from tests.helpers.environments import problems
from tests.helpers.sandbox import Sandbox


def test_rollback_swaps_current_and_previous(sandbox: Sandbox) -> None:
    sandbox.publish("tool", "1.0", "tool", "old-only")
    sandbox.publish("tool", "2.0", "tool", "new-only")
    assert sandbox.runs("new-only") == "2.0" and not os.path.lexists(sandbox.shim("old-only"))
    store = sandbox.store()
    current, previous = store.rollback("tool")
    assert current.startswith("2.0-") and previous.startswith("1.0-")
    assert sandbox.runs("tool") == "1.0" and sandbox.runs("old-only") == "1.0"
    assert not os.path.lexists(sandbox.shim("new-only"))
    store.rollback("tool")
    assert sandbox.runs("tool") == "2.0" and sandbox.runs("new-only") == "2.0"


def test_rollback_needs_an_intact_previous_entry(sandbox: Sandbox) -> None:
    store = sandbox.store()
    sandbox.publish("tool", "1.0")
    with pytest.raises(ShimgenError, match="no previous version"):
        store.rollback("tool")
    first = sandbox.publish("tool", "2.0").previous
    program = next(p for p in store.entry_dir("tool", first).iterdir() if p.name != MANIFEST_NAME)
    program.write_bytes(program.read_bytes() + b"tampered")
    before = sandbox.snapshot()
    with pytest.raises(ShimgenError, match=r"damaged.*tampered"):
        store.rollback("tool")
    assert sandbox.snapshot() == before and sandbox.runs("tool") == "2.0"
    with pytest.raises(ShimgenError, match="not installed"):
        store.rollback("other")


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
