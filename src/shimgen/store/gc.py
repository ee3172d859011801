"""Garbage collection: entries nothing needs any more, the trash, and crash leftovers.

What is needed is decided in one place, :func:`needed_entries`, which doctor
uses too, so what doctor calls garbage is exactly what gc deletes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from shimgen import fsutil
from shimgen.errors import ShimgenError
from shimgen.linkrecord import LinkRecord
from shimgen.store.state import DistState

if TYPE_CHECKING:
    from shimgen.store.store import Store


@dataclass
class GcReport:
    removed: list[Path] = field(default_factory=list)
    in_use: list[Path] = field(default_factory=list)  # left for the next run
    trimmed: dict[str, list[str]] = field(default_factory=dict)


def readable_states(store: Store) -> dict[str, DistState | None]:
    """Every dist's state; None where it cannot be read (GC keeps its entries until doctor fixes it)."""
    states: dict[str, DistState | None] = {}
    for name in store.dist_names():
        try:
            states[name] = store.read_state(name)
        except ShimgenError:
            states[name] = None
    return states


def needed_entries(store: Store, states: dict[str, DistState | None]) -> set[tuple[str, str]]:
    """(dist, entry) pairs nothing may delete: every kept generation, and whatever a link record runs."""
    needed = {
        (name, entry) for name, state in states.items() if state is not None for entry in state.generations
    }
    links = store.read_links().values()
    return needed | {
        owner for record in links if isinstance(record, LinkRecord) and (owner := store.owner(record))
    }


def leftover_folders(store: Store) -> list[Path]:
    """Where a crash can leave shimgen's own temporaries (entries are built in .tmp-* folders instead)."""
    return [store.links_dir, store.dists_dir, store.shims().folder, store.installs_dir]


def collect(store: Store, keep: int) -> GcReport:
    """Delete entries nothing needs: not current, not among the ``keep`` previous, not linked.

    Entries still running are left for the next run, never an error. The
    trash is emptied as far as possible, and crash leftovers are removed.
    Hold the lock.
    """
    if keep < 0:
        raise ShimgenError(f"--keep must be 0 or more, not {keep}")
    report = GcReport()
    states = _trim(store, readable_states(store), keep, report)
    needed = needed_entries(store, states)
    for dist_dir in sorted(store.store_dir.iterdir()) if store.is_real_folder(store.store_dir) else []:
        if (dist_dir.name in states and states[dist_dir.name] is None) or not store.is_real_folder(dist_dir):
            continue  # unreadable state: keep everything; a link or file: not ours to follow
        for entry in sorted(dist_dir.iterdir()):
            if (dist_dir.name, entry.name) in needed or (entry.is_symlink() and not entry.is_dir()):
                continue
            _delete_entry(store, entry, report)
        if dist_dir.name not in states:
            with contextlib.suppress(OSError):
                os.rmdir(dist_dir)
    for folder in leftover_folders(store):
        for leftover in folder.glob(".*.tmp") if folder.is_dir() else []:
            fsutil.remove_tree(leftover)
    for obsolete in store.links().obsolete():
        fsutil.remove_file(obsolete)
    for item in sorted(store.trash_dir.iterdir()) if store.is_real_folder(store.trash_dir) else []:
        if not fsutil.remove_tree(item):
            report.in_use.append(item)
    return report


def _trim(
    store: Store, states: dict[str, DistState | None], keep: int, report: GcReport
) -> dict[str, DistState | None]:
    """Drop the generations beyond ``keep`` previous ones from each state (a pending rollback stays one)."""
    for name, state in states.items():
        if state is not None and len(state.generations) > 1 + keep:
            report.trimmed[name] = list(state.generations[1 + keep :])
            states[name] = dataclasses.replace(state, generations=state.generations[: 1 + keep])
            store.write_state(states[name])  # type: ignore[arg-type]
    return states


def _delete_entry(store: Store, entry: Path, report: GcReport) -> None:
    """Rename the entry aside and delete it; one still running (Windows) is left for next time."""
    if fsutil.in_use(entry):
        report.in_use.append(entry)
        return
    try:
        moved = fsutil.move_aside(entry, store.trash_dir)
    except ShimgenError:
        report.in_use.append(entry)  # locked after all: next time
        return
    report.removed.append(entry)
    fsutil.remove_tree(moved)
