"""Rollback: an earlier entry made current again, as one commit and a switch.

The one operation that is not idempotent (a second rollback undoes the first),
so its state carries ``pending`` between the commit and the last switch, and
running it again after a crash finishes it instead of rolling back twice.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from shimgen.errors import ShimgenError
from shimgen.paths import normalize_dist
from shimgen.store.commands import check_commands_free
from shimgen.store.state import ROLLBACK, DistState, version_of

if TYPE_CHECKING:
    from shimgen.store.store import Store


def rollback(store: Store, dist: str, to: str | None = None) -> tuple[str, str]:
    """Make an earlier entry of ``dist`` current again; return (from, to) entry names.

    ``to`` is a kept version or entry name; by default the previous one, and
    then current and previous swap places, so a second rollback undoes the
    first. A rollback interrupted after its commit point is finished, not
    repeated; with ``to``, running it again is always safe (idempotent).
    """
    dist = normalize_dist(dist)
    with store.locked():
        state = store.require_state(dist)
        if to is not None and to in (state.current, version_of(state.current)):
            if state.pending:
                finish(store, state)
            return state.current, state.current
        if state.pending == ROLLBACK and to is None:
            finish(store, state)
            return state.generations[1], state.current
        if len(state.generations) < 2:
            raise ShimgenError(
                f"{dist} has no previous version to roll back to (only {state.current} is kept)",
                path=store.state_path(dist),
                hint="GC keeps one previous version by default (gc --keep N)",
            )
        target = state.generations[1] if to is None else _kept_entry(store, state, to)
        # Refuse an incomplete entry. Sizes, not hashes: hashing a 30 MB tool would make every
        # rollback slow; doctor checks the hashes. And refuse, as publish does, commands that
        # another dist or a foreign file has taken since that version was current.
        check_commands_free(store, dist, store.manifest(dist, target).commands, store.layout())
        rest = tuple(g for g in state.generations if g != target)
        swapped = dataclasses.replace(state, generations=(target, *rest), pending=ROLLBACK)
        store.write_state(swapped)  # the commit point
        finish(store, swapped)
        return state.current, target


def _kept_entry(store: Store, state: DistState, wanted: str) -> str:
    for entry in state.generations[1:]:
        if wanted in (entry, version_of(entry)):
            return entry
    kept = ", ".join(version_of(g) for g in state.generations[1:])
    raise ShimgenError(
        f"{state.dist} has no kept version {wanted!r} (kept: {kept})",
        path=store.state_path(state.dist),
        hint="'shimgen list' shows the kept versions",
    )


def finish(store: Store, state: DistState) -> None:
    """Switch the links to a committed state, then clear its pending mark. Hold the lock."""
    store.apply_state(state.dist)
    store.write_state(dataclasses.replace(state, pending=None))
