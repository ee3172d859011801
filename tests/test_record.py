"""RECORD in a shimgen environment: the launchers first (hard links of one file on Windows)."""

from __future__ import annotations

import os
from pathlib import Path

from tests.helpers.environments import (
    record,
    shims,
)
from tests.helpers.wheels import assert_record_follows_rule


def test_hard_linked_launchers_and_record_order(installed_env: Path) -> None:
    names = shims(installed_env)
    assert len(names) == 2
    paths = assert_record_follows_rule(record(installed_env).parent)
    assert [p.rsplit("/", 1)[-1] for p in paths[:2]] == names
    if (installed_env / "Scripts").is_dir():  # one file for both commands of the distribution
        assert os.path.samefile(installed_env / "Scripts" / names[0], installed_env / "Scripts" / names[1])
