"""The second phase of every store operation: link records and shims made to match a dist's state.

Idempotent, so running it again after a crash finishes what the first run
started, and ordered for readers: a new or switched command gets its link
record before its shim; a dropped command loses its shim before its link
record. So every shim that exists resolves, at every step. Each batch (all link
records, then all shims) is written under temporary names, flushed once (see
fsutil.DEFER_FILE_SYNC) or per file, then renamed in, and its folder fsynced
once: the order holds across a power cut too, and a thousand commands do not
cost thousands of fsyncs.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from shimgen import fsutil
from shimgen.entry import Command, Manifest, entry_relative_path
from shimgen.errors import ShimgenError
from shimgen.linkrecord import LinkRecord
from shimgen.store.links import commit_batch

if TYPE_CHECKING:
    from shimgen.store.store import Store


def apply_state(
    store: Store, dist: str, take_over: Collection[str] = (), *, current: Manifest | None = None
) -> list[str]:
    """Make links and shims match ``dist``'s state; return the commands changed. Hold the lock."""
    wanted, entry_path = _wanted_commands(store, dist, current)
    links = store.read_links()
    shims = store.shims()
    # What a crashed earlier run of this same step left of these commands goes first.
    fsutil.remove_temporaries_of(store.links_dir, set(wanted))
    fsutil.remove_temporaries_of(shims.folder, {shims.path(name).name for name in wanted})
    records = {name: command.link_record(entry_path) for name, command in wanted.items()}
    changed = _write_link_records(store, records, links)
    changed += [name for name in _write_shims(store, wanted, records, take_over) if name not in changed]
    changed += _drop_commands(store, dist, wanted, links)
    return changed


def _wanted_commands(store: Store, dist: str, current: Manifest | None) -> tuple[dict[str, Command], str]:
    """The commands the state's current entry provides (none when the dist has no state)."""
    state = store.read_state(dist)
    if state is None:
        return {}, ""
    if current is None or current.entry_name != state.current:
        current = store.manifest(dist, state.current)  # publish passes the one it just checked
    return {c.name: c for c in current.commands}, entry_relative_path(dist, state.current)


def _write_link_records(
    store: Store, records: dict[str, LinkRecord], links: Mapping[str, LinkRecord | ShimgenError]
) -> list[str]:
    """Step 1: every link record that differs, as one batch (on POSIX the shims are the records)."""
    link_records = store.links()
    if not link_records.separate:
        return []
    stale = {name: record for name, record in records.items() if links.get(name) != record}
    link_records.write(stale)
    return list(stale)


def _write_shims(
    store: Store, wanted: dict[str, Command], records: dict[str, LinkRecord], take_over: Collection[str]
) -> list[str]:
    """Step 2: every shim that is missing or stale (a launcher, or a POSIX symlink), as one batch."""
    if not wanted:
        return []
    shims = store.shims()
    fsutil.make_dirs(shims.folder)
    pairs = {name: (records[name], command.gui) for name, command in wanted.items()}
    prepared = shims.prepare_all(pairs, take_over=take_over, sync=not fsutil.DEFER_FILE_SYNC)
    if prepared:
        commit_batch(
            prepared, lambda name, temporary: shims.commit(name, temporary, store.trash_dir), shims.folder
        )
    return list(prepared)


def _drop_commands(
    store: Store, dist: str, wanted: dict[str, Command], links: Mapping[str, LinkRecord | ShimgenError]
) -> list[str]:
    """Step 3: the dist's commands its state no longer has lose their shim, then their link record."""
    dropped = []
    kept_links = [store.links().path(name) for name in wanted]
    for name, existing in links.items():
        if not isinstance(existing, LinkRecord) or name in wanted:
            continue
        owner = store.owner(existing)
        if owner is None or owner[0] != dist:
            continue
        if any(_same_file(store.links().path(name), kept) for kept in kept_links):
            continue  # a command renamed only in case, on a case-insensitive filesystem: one file
        store.shims().remove(name, store.trash_dir)
        store.links().remove(name)
        dropped.append(name)
    return dropped


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
