"""Doctor's checks of each distribution in the store: its state, its entries, its commands.

A distribution that site-packages judged (shimgen.doctor.site) is skipped here:
its own repair fixes its commands, and a finding per command would repeat it.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass, field

from shimgen import fsutil
from shimgen.doctor.findings import Finding
from shimgen.entry import Command, Manifest, entry_relative_path, verify_entry
from shimgen.errors import NewerFormat, ShimgenError
from shimgen.linkrecord import LinkRecord
from shimgen.shims import ShimState
from shimgen.store import DistState, Store


@dataclass
class View:
    """What the checks share: the link records as read once, and what they have learned so far."""

    store: Store
    links: dict[str, LinkRecord | ShimgenError]
    wanted: dict[str, str] = field(default_factory=dict)  # command key -> the dist that provides it
    interpreters: dict[str, list[str]] = field(default_factory=dict)  # a Python entry points need -> commands
    applied: set[str] = field(default_factory=set)  # dists whose commands a fix already re-applied

    def claim(self, dist: str) -> None:
        """Keep a broken dist's commands off the orphan list: fixing the dist fixes them."""
        for name, record in self.links.items():
            owner = self.store.owner(record) if isinstance(record, LinkRecord) else None
            if owner is not None and owner[0] == dist:
                self.wanted[self.store.command_key(name)] = dist

    def apply(self, dist: str) -> Callable[[], object]:
        """A fix that re-applies ``dist``'s state, once however many findings ask for it."""

        def run() -> object:
            if dist in self.applied:
                return None
            self.applied.add(dist)
            return self.store.apply_state(dist)

        return run


def check_dist(view: View, dist: str) -> list[Finding]:
    """One distribution, in order: its state file, its current entry, its kept entries, its commands."""
    store = view.store
    try:
        state = store.read_state(dist)
    except ShimgenError as error:
        view.claim(dist)
        return [_unreadable_state(store, dist, view.links, error)]
    if state is None:
        return []
    findings = _pending(store, state)
    manifest, problems = verify_entry(store.entry_dir(dist, state.current), deep=True)
    if manifest is None or problems:
        view.claim(dist)
        return [*findings, _damaged_current(store, state, problems)]
    findings += _damaged_kept(store, state)
    for command in manifest.commands:
        findings += _check_command(view, state, manifest, command)
    return findings


def _pending(store: Store, state: DistState) -> list[Finding]:
    if not state.pending:
        return []
    return [
        Finding(
            "interrupted",
            store.state_path(state.dist),
            f"a {state.pending} of {state.dist} was interrupted",
            f"finish it: switch {state.dist}'s commands to {state.current}",
            action=functools.partial(store.finish, state),
        )
    ]


def _damaged_current(store: Store, state: DistState, problems: list[str]) -> Finding:
    return Finding(
        "damaged-entry",
        store.entry_dir(state.dist, state.current),
        f"current entry of {state.dist} is damaged: {'; '.join(problems)}",
        None,
        hint=_damaged_entry_hint(state),
    )


def _damaged_kept(store: Store, state: DistState) -> list[Finding]:
    found = []
    for kept in state.generations[1:]:
        kept_dir = store.entry_dir(state.dist, kept)
        if verify_entry(kept_dir, deep=True)[1]:
            found.append(
                Finding(
                    "damaged-kept-entry",
                    kept_dir,
                    f"entry kept for rolling back {state.dist} is damaged or missing",
                    f"drop {kept} from {state.dist}'s rollback list",
                    action=_drop_generation(store, state.dist, kept),
                )
            )
    return found


def _check_command(view: View, state: DistState, manifest: Manifest, command: Command) -> list[Finding]:
    """A command's link record runs the current entry, and its shim is shimgen's and right."""
    store, dist, shims = view.store, state.dist, view.store.shims()
    view.wanted[store.command_key(command.name)] = dist
    if command.interpreter is not None:
        view.interpreters.setdefault(command.interpreter, []).append(command.name)
    record = command.link_record(entry_relative_path(dist, state.current))
    existing = view.links.get(command.name)
    found = []
    if existing != record and store.links().separate:  # on POSIX the shim is the record: checked below
        what = "missing" if existing is None else "pointing to another entry"
        if isinstance(existing, ShimgenError):
            what = f"invalid ({existing.message})"
        found.append(
            Finding(
                "link-record",
                store.links().path(command.name),
                f"link record of {command.name} ({dist}) is {what}",
                f"rewrite it to run {dist} {manifest.version}",
                action=view.apply(dist),
            )
        )
    shim_state = shims.state(command.name, record, command.gui)
    if shim_state is ShimState.FOREIGN:
        found.append(
            Finding(
                "foreign-shim",
                shims.path(command.name),
                f"a file shimgen did not make is where the shim of {command.name} ({dist}) belongs",
                None,
                hint="another installer put it there; remove it, then 'shimgen doctor --fix'",
            )
        )
    elif shim_state is not ShimState.OK:
        found.append(
            Finding(
                "shim",
                shims.path(command.name),
                f"shim of {command.name} ({dist}) is {shim_state.value}",
                "write the shim",
                action=view.apply(dist),
            )
        )
    return found


def _damaged_entry_hint(state: DistState) -> str:
    """What repairs a damaged current entry: a wheel-installed dist, its wheel (rollback refuses those)."""
    dist, version = state.dist, state.current.rsplit("-", 1)[0]
    if state.installed:
        return (
            f"install the same wheel again (shimgen install {dist}-{version}-*.whl, or uv pip install "
            f"--reinstall {dist}=={version}, or pip install --force-reinstall {dist}=={version})"
        )
    return f"publish {dist} again ('shimgen link'), or 'shimgen rollback {dist}' to the previous version"


def _unreadable_state(
    store: Store, dist: str, links: dict[str, LinkRecord | ShimgenError], error: ShimgenError
) -> Finding:
    """An unreadable state file can be rebuilt from the link records that point into the dist's store."""
    entries = {
        owner[1]
        for record in links.values()
        if isinstance(record, LinkRecord) and (owner := store.owner(record)) and owner[0] == dist
    }
    path = store.state_path(dist)
    if isinstance(error, NewerFormat):
        return Finding("dist-state", path, error.message, None, hint=error.hint)
    if len(entries) > 1:
        return Finding("dist-state", path, error.message, None, hint="commands point to several entries")
    entry = next(iter(entries), None)

    def rebuild() -> None:
        if entry is None:
            fsutil.remove_file(path)
        else:
            store.write_state(DistState(dist, (entry,)))
            store.apply_state(dist)

    fix = (
        f"rebuild it from the link records (current: {entry})" if entry else "delete it (no command uses it)"
    )
    return Finding("dist-state", path, error.message, fix, action=rebuild)


def _drop_generation(store: Store, dist: str, entry: str) -> Callable[[], None]:
    def run() -> None:
        state = store.read_state(dist)
        if state is not None and entry in state.generations[1:]:
            kept = tuple(g for g in state.generations if g != entry)
            store.write_state(dataclasses.replace(state, generations=kept))

    return run
