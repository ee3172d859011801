"""``shimgen doctor``: check every shim, link record and store entry, and say what would fix it.

Checking changes nothing, and it holds the writer lock so that it never sees
a change half-done. Each finding names the path, what is wrong and what
``--fix`` would do, or why it cannot be fixed automatically (a tampered current
entry cannot be repaired, only re-published; a file written by a newer
shimgen is never rewritten). Fixing reuses
the store's own idempotent steps (``Store.apply_state``), so doctor finishes
exactly what an interrupted operation would have done.

Garbage (entries nothing needs, the trash, crash leftovers) is reported too,
but it is not a problem: ``shimgen gc`` removes it.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Callable

from shimgen import fsutil
from shimgen.doctor_site import check_site, interrupted_installs
from shimgen.entry import entry_relative_path, verify_entry
from shimgen.errors import ShimgenError
from shimgen.findings import GARBAGE, NOTE, PROBLEM, Finding
from shimgen.launcher import identify
from shimgen.linkrecord import LinkRecord
from shimgen.pe import Arch
from shimgen.shims import ShimState
from shimgen.store import POSIX, WINDOWS, DistState, Layout, NewerFormat, Store, make_shims

__all__ = ["GARBAGE", "NOTE", "PROBLEM", "Finding", "doctor"]


def doctor(store: Store, *, fix: bool = False) -> list[Finding]:
    """Diagnose ``store``; with ``fix``, repair what can be repaired and diagnose again.

    Returns the findings of the first pass, with ``fixed`` set on those that are
    gone afterwards, plus any problem the second pass still sees.
    """
    if not store.root.is_dir():
        return []  # not a shimgen environment: nothing to check, and nothing to create
    with store.locked():
        findings = _diagnose(store)
        if not fix:
            return findings
        for finding in findings:
            if finding.action is not None and (finding.severity == PROBLEM or finding.kind == "leftover"):
                try:
                    finding.action()
                except ShimgenError as error:
                    finding.hint = f"fix failed: {error}".replace("\n", " ")
        after = _diagnose(store)
    remaining = {(f.kind, f.path) for f in after if f.severity == PROBLEM}
    for finding in findings:
        finding.fixed = finding.severity == PROBLEM and (finding.kind, finding.path) not in remaining
    known = {(f.kind, f.path) for f in findings}
    return findings + [f for f in after if f.severity == PROBLEM and (f.kind, f.path) not in known]


def _diagnose(store: Store) -> list[Finding]:
    if not store.root.is_dir():
        return []
    interrupted = interrupted_installs(store)
    if not store.config_path.exists() and not store.dist_names() and not store.read_links():
        return interrupted  # set up was interrupted before anything was published: only that to settle
    try:
        shims = store.shims()
    except ShimgenError as error:
        return [_config_finding(store, error)]
    contradicted = _contradicted_config(store)
    if contradicted is not None:
        return [*interrupted, contradicted]  # every other check would judge by the wrong layout
    findings: list[Finding] = []
    links = store.read_links()
    desired: dict[str, str] = {}  # command key -> dist that provides it
    interpreters: dict[str, list[str]] = {}  # the Pythons entry points need -> their commands
    applied: set[str] = set()

    def apply(dist: str) -> Callable[[], object]:
        def run() -> object:
            if dist not in applied:
                applied.add(dist)
                return store.apply_state(dist)
            return None

        return run

    def claim_links(dist: str) -> None:
        """Keep a broken dist's commands off the orphan list: fixing the dist fixes them."""
        for name, record in links.items():
            if isinstance(record, LinkRecord) and (store.owner(record) or ("",))[0] == dist:
                desired[store.command_key(name)] = dist

    site = check_site(store)
    findings.extend(interrupted + site.findings)
    for dist in sorted(site.claimed):
        claim_links(dist)  # judged against site-packages above, fixed by its own repair
    for dist in store.dist_names():
        if dist in site.claimed:
            continue
        try:
            state = store.read_state(dist)
        except ShimgenError as error:
            findings.append(_unreadable_state(store, dist, links, error))
            claim_links(dist)
            continue
        if state is None:
            continue
        if state.pending:
            findings.append(
                Finding(
                    "interrupted",
                    store.state_path(dist),
                    f"a {state.pending} of {dist} was interrupted",
                    f"finish it: switch {dist}'s commands to {state.current}",
                    action=functools.partial(store.finish, state),
                )
            )
        current_dir = store.entry_dir(dist, state.current)
        manifest, problems = verify_entry(current_dir, deep=True)
        if manifest is None or problems:
            findings.append(
                Finding(
                    "damaged-entry",
                    current_dir,
                    f"current entry of {dist} is damaged: {'; '.join(problems)}",
                    None,
                    hint=_damaged_entry_hint(state),
                )
            )
            claim_links(dist)
            continue
        for kept in state.generations[1:]:
            kept_dir = store.entry_dir(dist, kept)
            if verify_entry(kept_dir, deep=True)[1]:
                findings.append(
                    Finding(
                        "damaged-kept-entry",
                        kept_dir,
                        f"entry kept for rolling back {dist} is damaged or missing",
                        f"drop {kept} from {dist}'s rollback list",
                        action=_drop_generation(store, dist, kept),
                    )
                )
        entry_path = entry_relative_path(dist, state.current)
        for command in manifest.commands:
            desired[store.command_key(command.name)] = dist
            if command.interpreter is not None:
                interpreters.setdefault(command.interpreter, []).append(command.name)
            record = command.link_record(entry_path)
            link_path = store.links_dir / command.name
            existing = links.get(command.name)
            if existing != record:
                what = (
                    "missing"
                    if existing is None
                    else f"invalid ({existing.message})"
                    if isinstance(existing, ShimgenError)
                    else "pointing to another entry"
                )
                findings.append(
                    Finding(
                        "link-record",
                        link_path,
                        f"link record of {command.name} ({dist}) is {what}",
                        f"rewrite it to run {dist} {manifest.version}",
                        action=apply(dist),
                    )
                )
            shim_state = shims.state(command.name, record, command.gui)
            if shim_state is ShimState.FOREIGN:
                findings.append(
                    Finding(
                        "foreign-shim",
                        shims.path(command.name),
                        f"a file shimgen did not make is where the shim of {command.name} ({dist}) belongs",
                        None,
                        hint="another installer put it there; remove it, then 'shimgen doctor --fix'",
                    )
                )
            elif shim_state is not ShimState.OK:
                findings.append(
                    Finding(
                        "shim",
                        shims.path(command.name),
                        f"shim of {command.name} ({dist}) is {shim_state.value}",
                        "write the shim",
                        action=apply(dist),
                    )
                )
    for interpreter, commands in sorted(interpreters.items()):
        if (store.prefix / interpreter).is_file():  # once per interpreter, not once per command
            continue
        named = ", ".join(sorted(commands)[:5]) + (", ..." if len(commands) > 5 else "")
        findings.append(
            Finding(
                "missing-interpreter",
                store.prefix / interpreter,
                f"the environment's Python is missing, so {len(commands)} command(s) cannot run ({named})",
                None,
                hint="recreate it (python -m venv on this folder), then run doctor again",
            )
        )
    for name, existing in links.items():
        if store.command_key(name) in desired:
            continue
        if isinstance(existing, LinkRecord) and store.owner(existing) is None:
            findings.append(
                Finding(
                    "unmanaged-link",
                    store.links_dir / name,
                    f"link record of {name} runs {existing.target}, outside the store: left alone",
                    None,
                    NOTE,
                )
            )
            continue
        why = (
            f"is invalid ({existing.message})"
            if isinstance(existing, ShimgenError)
            else "belongs to no installed distribution"
        )
        findings.append(
            Finding(
                "orphan-link",
                store.links_dir / name,
                f"link record of {name} {why}",
                "remove it and its shim",
                action=_remove_command(store, name),
            )
        )
    for name, path in shims.present().items():
        if store.command_key(name) not in desired and name not in links and path not in site.listed:
            findings.append(
                Finding(
                    "dangling-shim",
                    path,
                    f"shim of {name} has no link record",
                    "move it to the trash",
                    action=_remove_shim(store, name),
                )
            )
    findings.extend(_garbage(store, links))
    return findings


def _damaged_entry_hint(state: DistState) -> str:
    """What repairs a damaged current entry: a wheel-installed dist, its wheel (rollback refuses those)."""
    dist, version = state.dist, state.current.rsplit("-", 1)[0]
    if state.installed:
        return (
            f"install the same wheel again (shimgen install {dist}-{version}-*.whl, or uv pip install "
            f"--reinstall {dist}=={version}, or pip install --force-reinstall {dist}=={version})"
        )
    return f"publish {dist} again ('shimgen link'), or 'shimgen rollback {dist}' to the previous version"


def _config_finding(store: Store, error: ShimgenError) -> Finding:
    """A lost config can be rewritten from what the shims folder shows: launchers of one arch, or symlinks."""
    if isinstance(error, NewerFormat):
        return Finding("config", store.config_path, error.message, None, hint=error.hint)
    layout = _layout_shown(store)
    if layout is None:
        return Finding(
            "config", store.config_path, error.message, None, hint="set it up again with --platform/--arch"
        )
    return _rewrite_config(store, layout, error.message)


def _contradicted_config(store: Store) -> Finding | None:
    """config.json names one layout while the shims and the interpreter show the other.

    Trusted blindly, a POSIX environment marked "windows" got Scripts\\*.exe written beside its
    bin/ symlinks by doctor --fix, which then reported nothing left to do.
    """
    shown = _layout_shown(store)
    recorded = store.layout()
    if shown is None or shown.kind == recorded.kind:
        return None
    message = (
        f"config.json says {recorded.kind}, but the shims and the interpreter show a {shown.kind} environment"
    )
    return _rewrite_config(store, shown, message)


def _layout_shown(store: Store) -> Layout | None:
    """The layout what is on disk shows: shimgen's launchers of one arch, or its symlinks, else the
    environment's interpreter (Scripts\\python.exe or bin/python)."""
    for candidate in (Layout(WINDOWS, arch) for arch in Arch):
        launchers = make_shims(store.prefix, candidate).present()
        if launchers and all(identify(p.read_bytes()).arch is candidate.arch for p in launchers.values()):
            return candidate
    if make_shims(store.prefix, Layout(POSIX)).present():
        return Layout(POSIX)
    windows_python = (store.prefix / "Scripts" / "python.exe").is_file()
    posix_python = os.path.lexists(store.prefix / "bin" / "python")
    if posix_python and not windows_python:
        return Layout(POSIX)
    return None  # a Windows interpreter alone does not tell the launchers' architecture


def _rewrite_config(store: Store, layout: Layout, message: str) -> Finding:
    def rewrite() -> None:
        fsutil.atomic_write(store.config_path, layout.to_bytes())
        store.forget_layout()

    described = layout.kind + (f" {layout.arch.value}" if layout.arch else "")
    return Finding(
        "config",
        store.config_path,
        message,
        f"rewrite it ({described}, as the environment shows)",
        action=rewrite,
    )


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


def _remove_command(store: Store, name: str) -> Callable[[], None]:
    def run() -> None:
        store.shims().remove(name, store.trash_dir)
        fsutil.remove_file(store.links_dir / name)

    return run


def _remove_shim(store: Store, name: str) -> Callable[[], None]:
    def run() -> None:
        store.shims().remove(name, store.trash_dir)

    return run


def _garbage(store: Store, links: dict[str, LinkRecord | ShimgenError]) -> list[Finding]:
    readable = _readable_states(store)
    unreadable = set(store.dist_names()) - {s.dist for s in readable}  # gc keeps all of theirs
    needed = {(s.dist, g) for s in readable for g in s.generations}
    needed |= {o for r in links.values() if isinstance(r, LinkRecord) and (o := store.owner(r))}
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
    for folder in (store.links_dir, store.dists_dir, store.shims().folder, store.installs_dir):
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


def _readable_states(store: Store) -> list[DistState]:
    states = []
    for name in store.dist_names():
        try:
            state = store.read_state(name)
        except ShimgenError:
            continue
        if state is not None:
            states.append(state)
    return states
