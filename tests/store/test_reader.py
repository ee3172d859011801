"""The store's read-only views: a state file is read only as the dist it names."""

from __future__ import annotations

import pytest

from shimgen import ShimgenError
from tests.helpers.sandbox import Sandbox


def test_a_state_file_must_name_its_own_dist(sandbox: Sandbox) -> None:
    sandbox.publish("tool", "1.0")
    store = sandbox.store()
    store.state_path("tool").rename(store.state_path("other"))
    with pytest.raises(ShimgenError, match="names 'tool', not 'other'"):
        store.read_state("other")
