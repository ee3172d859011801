"""Garbage doctor lists but does not count as a problem: what ``shimgen gc`` would delete.

What is needed is decided by shimgen.store.gc.needed_entries, the same rule gc applies.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from shimgen import fsutil
from shimgen.doctor.findings import GARBAGE, Finding
from shimgen.errors import ShimgenError
from shimgen.linkrecord import LinkRecord
from shimgen.store import Store, leftover_folders, needed_entries, readable_states


def garbage(store: Store, links: Mapping[str, LinkRecord | ShimgenError]) -> list[Finding]:
    """Unused entries and crash leftovers in the store, the trash, and shimgen's own temporaries."""
    states = readable_states(store)
    unreadable = {name for name, state in states.items() if state is None}  # gc keeps all of theirs
    needed = needed_entries(store, states)
    found = []
    if store.store_dir.is_dir():
        for dist_dir in sorted(store.store_dir.iterdir()):
            if dist_dir.name in unreadable or not store.is_real_folder(dist_dir):
                continue
            for entry in sorted(dist_dir.iterdir()):
                if (dist_dir.name, entry.name) not in needed:
                    what = "crash leftover" if fsutil.is_temporary_name(entry.name) else "entry nothing uses"
                    found.append(Finding("unused-entry", entry, what, "shimgen gc removes it", GARBAGE))
    if store.trash_dir.is_dir():
        for item in sorted(store.trash_dir.iterdir()):
            found.append(
                Finding("trash", item, "renamed aside, waiting for GC", "shimgen gc removes it", GARBAGE)
            )
    for obsolete in store.links().obsolete():
        found.append(
            Finding(
                "obsolete-link-record",
                obsolete,
                "link record file an older shimgen wrote; in a POSIX layout the symlink is the record",
                "shimgen gc removes it",
                GARBAGE,
            )
        )
    for folder in leftover_folders(store):
        for leftover in sorted(folder.glob(".*.tmp")) if folder.is_dir() else []:
            found.append(
                Finding(
                    "leftover",
                    leftover,
                    "crash leftover (a temporary shimgen wrote)",
                    "delete it (so does shimgen gc)",
                    GARBAGE,
                    action=functools.partial(fsutil.remove_tree, leftover),
                )
            )
    return found
