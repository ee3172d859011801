"""Uninstalling a wheel-installed distribution, and the rules that keep its RECORD true after
``shimgen remove``."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from shimgen import fsutil
from shimgen.environment import (
    find_installed,
    scheme_for,
)
from shimgen.errors import ShimgenError
from shimgen.install.journal import Journal, Plan, finish, prefix_relative, recover
from shimgen.paths import normalize_dist
from shimgen.pe import Arch
from shimgen.record import rewritten_record
from shimgen.store import POSIX, WINDOWS, Layout, Store, version_of


def uninstall(store: Store, dist: str) -> tuple[str, str]:
    """Remove an installed distribution: its files, its commands; its store entries are left for GC.

    Returns the distribution and the version removed. Committed in an install journal before
    the first file goes (shimgen.install.journal), so an uninstall that stops halfway is finished
    by running it again, ``shimgen sync`` or ``shimgen doctor --fix``, never left as a
    half-deleted distribution that sync would give its commands back to.
    """
    dist = normalize_dist(dist)
    journal = Journal(store, dist)
    if journal.path.exists():
        with store.locked():
            settled = recover(store, journal.path)  # an earlier install or uninstall of it stopped
        if settled.finished is not None and settled.uninstalled:
            return dist, settled.finished  # that was this uninstall, interrupted: now it is done
    layout = (
        store.layout()
        if store.initialized
        else Layout(WINDOWS if (store.prefix / "Scripts").is_dir() else POSIX, Arch.X64)
    )
    scheme = scheme_for(store.prefix, layout)
    installed = find_installed(scheme, dist)
    if installed is None:
        raise ShimgenError(
            f"{dist} is not installed in this environment", path=scheme.lib, hint="see 'pip list'"
        )
    if not (installed.dist_info / "RECORD").is_file():
        raise ShimgenError(
            f"{dist} {installed.version} has no RECORD, so its files are unknown; nothing was removed",
            path=installed.dist_info,
            hint="reinstall it ('shimgen install WHEEL'), then uninstall it",
        )
    files = installed.files  # confined before anything changes
    prefix = store.prefix
    plan = Plan(
        dist,
        installed.version,
        None,
        None,
        obsolete=[prefix_relative(prefix, p) for p in files if store.root not in p.parents],
        obsolete_dist_infos=[prefix_relative(prefix, installed.dist_info)],
    )
    with store.locked(create=True):
        journal.commit(plan)  # launchers another dist owns now stay (finish skips present launchers)
        finish(store, journal, plan)
    return dist, installed.version


def forget_commands(store: Store, dist: str) -> None:
    """After ``shimgen remove``: drop the removed commands' files from the dist's RECORD, if installed.

    Otherwise a later ``pip uninstall`` would delete whatever is at those paths
    then: another distribution's launcher for the same command. The other rows
    are kept as they are (nothing is re-hashed, so a file changed or lost since
    does not stop this, nor gets a new hash).
    """
    scheme = scheme_for(store.prefix, store.layout())
    installed = find_installed(scheme, normalize_dist(dist))
    if installed is None or not installed.record.is_file():
        return
    folder = store.shims().folder

    def keep(path: Path) -> bool:
        return store.root not in path.parents and not (path.parent == folder and not os.path.lexists(path))

    rows = list(zip(installed.files, installed.rows))
    text = rewritten_record(scheme.lib, installed.record, rows, keep=keep, shims={})
    if [row for _, row in rows] != [row for row in csv.reader(io.StringIO(text)) if row]:
        fsutil.atomic_write(installed.record, text.encode())


def refuse_mixed_rollback(store: Store, dist: str, to: str | None) -> None:
    """A wheel-installed dist rolled back by its commands alone would run old scripts on new libraries."""
    state = store.read_state(dist) if store.initialized else None
    if state is None or (to is None and len(state.generations) < 2):
        return  # Store.rollback explains what is wrong
    wanted = version_of(to if to is not None else state.generations[1])
    installed = find_installed(scheme_for(store.prefix, store.layout()), dist)
    if installed is not None and installed.version != wanted:
        raise ShimgenError(
            f"{dist} {installed.version} is installed from a wheel: rolling back only its commands "
            f"to {wanted} would leave its library files at {installed.version}",
            path=installed.dist_info,
            hint=f"install the {dist} {wanted} wheel instead (shimgen install WHEEL)",
        )


def remove_commands(store: Store, dist: str) -> list[str]:
    """``shimgen remove``: drop the dist's commands, and then its RECORD's claim on them, under one lock."""
    with store.locked():
        commands = store.remove(dist)
        forget_commands(store, dist)  # a wheel-installed dist's RECORD no longer claims them
    return commands
