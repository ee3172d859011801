"""What ``shimgen list`` shows of a store: one row per distribution, read without the lock."""

from __future__ import annotations

from typing import Any

from shimgen.errors import ShimgenError
from shimgen.store.reader import StoreReader
from shimgen.store.state import version_of


def dist_rows(store: StoreReader) -> list[dict[str, Any]]:
    """Each dist's current version and entry, the kept ones, its commands, or the problem reading it."""
    rows: list[dict[str, Any]] = []
    for name in store.dist_names():
        try:
            state = store.read_state(name)
        except ShimgenError as error:
            empty: dict[str, Any] = {
                "version": None,
                "entry": None,
                "kept": [],
                "kept_entries": [],
                "commands": [],
            }
            rows.append({"dist": name, **empty, "problem": error.message})
            continue
        if state is None:
            continue
        try:
            commands = [c.name for c in store.manifest(state.dist, state.current).commands]
            problem = None
        except ShimgenError as error:
            commands, problem = [], error.message
        rows.append(
            {
                "dist": state.dist,
                "version": version_of(state.current),
                "entry": state.current,
                "kept": [version_of(g) for g in state.generations[1:]],
                "kept_entries": list(state.generations[1:]),
                "commands": commands,
                "problem": problem,
            }
        )
    return rows
