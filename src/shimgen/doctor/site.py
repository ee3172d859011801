"""What ``doctor`` checks against site-packages: the commands agree with what pip and uv installed.

Without these checks doctor judged the store alone, and its fixes could make
things worse: it rewrote the launchers of a distribution that uv had just
uninstalled, and removed, as orphans, the commands of one that was still
installed but had lost its dist state. Here each installed (or once installed)
distribution is judged first; the fixes are sync's own repairs (shimgen.repair),
and the store-level checks leave alone the commands of a distribution judged here.
"""

from __future__ import annotations

import contextlib
import functools
import os
from dataclasses import dataclass, field
from pathlib import Path

from shimgen import repair
from shimgen.adopt import records_to_repair, rewrite_record
from shimgen.doctor.findings import PROBLEM, Finding
from shimgen.entry import verify_entry
from shimgen.environment import (
    Installed,
    Scheme,
    all_installed,
    empty_dist_infos,
    find_installed,
    judged,
    scheme_for,
)
from shimgen.errors import ShimgenError
from shimgen.install import pending_installs, recover_install
from shimgen.linkrecord import LinkRecord
from shimgen.shims import ShimState
from shimgen.store import Store


@dataclass
class SiteCheck:
    findings: list[Finding] = field(default_factory=list)
    claimed: set[str] = field(default_factory=set)  # dists whose commands these findings cover
    listed: set[Path] = field(default_factory=set)  # files an installed dist's RECORD lists


def check_site(store: Store) -> SiteCheck:
    """Findings for the distributions shimgen manages, judged by what site-packages holds."""
    result = SiteCheck()
    for path in pending_installs(store):
        result.claimed.add(path.stem)  # its commands are the interrupted install's to settle
    scheme = scheme_for(store.prefix, store.layout())
    for folder in empty_dist_infos(scheme):
        result.findings.append(
            Finding(
                "empty-dist-info",
                folder,
                "an empty .dist-info folder (an installer stopped right after making it)",
                "delete it (so does 'shimgen sync')",
                action=functools.partial(_rmdir, folder),
            )
        )
    site = all_installed(scheme)
    installed = {dist: judged(versions) for dist, versions in site.items()}
    for _, versions in sorted(site.items()):
        if len(versions) > 1:
            result.findings.append(_two_versions(versions))
    for each in installed.values():
        result.listed.update(_beyond(each))  # a RECORD that leaves the environment: adopt reports it
    present = set(store.shims().present().values())
    with_launchers = {d for d, i in installed.items() if any(p in present for p in _beyond(i))}
    for dist in sorted(set(store.dist_names()) | _link_owners(store) | with_launchers):
        if dist in result.claimed:
            continue  # an interrupted install of it: finishing or undoing that settles it
        try:
            state = store.read_state(dist) if store.state_path(dist).exists() else None
        except ShimgenError:
            continue  # the store-level check reports an unreadable state
        found = installed.get(dist)
        finding = _judge(store, scheme, dist, state is not None, state.installed if state else None, found)
        if finding is not None:
            result.findings.append(finding)
            result.claimed.add(dist)
    missing = _posix_interpreter(store, scheme)
    if missing is not None:
        result.findings.append(missing)
    for found in records_to_repair(store, installed, skip=result.claimed):
        result.findings.append(
            Finding(
                "record-rule",
                found.record,
                f"the RECORD of {found.dist} {found.version} lets pip or uv delete what a running tool "
                "needs (it lists shimgen's own files, or not its launchers first)",
                "rewrite it by shimgen's rule",
                action=functools.partial(rewrite_record, store, scheme, found, dropped=set()),
            )
        )
    return result


def _two_versions(versions: list[Installed]) -> Finding:
    """pip, uv and shimgen would each pick one and leave the other's files behind: a person decides."""
    listed = ", ".join(f"{i.dist_info.name}{'' if i.record.is_file() else ' (no RECORD)'}" for i in versions)
    return Finding(
        "two-dist-infos",
        versions[0].dist_info.parent,
        f"{versions[0].dist} has more than one .dist-info: {listed}",
        None,
        hint=f"uninstall {versions[0].dist} until none is left (pip uninstall removes one at a time), "
        "then install it again",
    )


def interrupted_installs(store: Store) -> list[Finding]:
    """One finding per install (or uninstall) that stopped before it finished (shimgen.install.journal)."""
    return [_interrupted(store, path) for path in pending_installs(store)]


def _interrupted(store: Store, path: Path) -> Finding:
    committed = '"phase": "committed"' in path.read_text(encoding="utf-8", errors="replace")
    what = (
        "finish it (it was past its commit point)" if committed else "roll it back (delete its temporaries)"
    )
    return Finding(
        "interrupted-install",
        path,
        f"an install of {path.stem} was interrupted",
        what,
        hint="running the same install again settles it too",
        action=functools.partial(recover_install, store, path),
    )


def _judge(
    store: Store, scheme: Scheme, dist: str, has_state: bool, marked: bool | None, found: Installed | None
) -> Finding | None:
    path = store.state_path(dist)
    if found is None:
        if has_state and marked:
            return Finding(
                "uninstalled",
                path,
                f"{dist} is no longer installed (pip or uv removed it), but its commands are still here",
                "remove its commands (as 'shimgen sync' does)",
                action=lambda: repair.drop_uninstalled(store, dist),
            )
        return None
    if found.unfinished:
        return Finding(
            "unfinished-install",
            found.dist_info,
            f"{dist} {found.version} was not installed completely: {found.unfinished}",
            None,
            hint=repair.unfinished_hint(found),
        )
    what = _what_is_off(store, dist, found.version) if has_state else "has no dist state"
    if what is None:
        return _unfinished_adoption(store, dist, found)
    return Finding(
        "installed-version",
        path,
        f"{dist} {found.version} is installed but {what}",
        f"rebuild its commands for {found.version} (as 'shimgen sync' does)",
        action=lambda: repair.restore_state(store, found),
    )


def _posix_interpreter(store: Store, scheme: Scheme) -> Finding | None:
    """On POSIX the entry points name bin/python in their first line: it must be there.

    (On Windows the link records name it, and the store-level check looks.)
    """
    python = store.prefix / scheme.interpreter
    if scheme.windows or os.path.lexists(python):
        return None
    dists = sorted(d for d in store.dist_names() if _installed_state(store, d))
    if not dists:
        return None
    named = ", ".join(dists[:5]) + (", ..." if len(dists) > 5 else "")
    return Finding(
        "missing-interpreter",
        python,
        f"the environment's Python is missing, so the Python commands of {len(dists)} distribution(s) "
        f"cannot run ({named})",
        None,
        hint="recreate it (python -m venv on this folder, or uv venv), then run doctor again",
    )


def _installed_state(store: Store, dist: str) -> bool:
    try:
        state = store.read_state(dist)
    except ShimgenError:
        return False  # the store-level check reports an unreadable state
    return state is not None and bool(state.installed)


def _unfinished_adoption(store: Store, dist: str, found: Installed) -> Finding | None:
    """Commands whose shim is still the installer's file, though the store holds them: an adoption
    stopped between its publish and its launchers. The files are the distribution's own (its RECORD
    lists them), so they are taken over as adopt takes them; "remove it" would delete its program."""
    state = store.read_state(dist)
    if state is None:
        return None
    shims = store.shims()
    owned = set(_beyond(found))
    names = [
        command.name
        for command in store.manifest(dist, state.current).commands
        if shims.state(command.name, None, command.gui) is ShimState.FOREIGN
        and shims.path(command.name) in owned
    ]
    if not names:
        return None
    return Finding(
        "unfinished-adoption",
        shims.path(names[0]),
        f"{dist}: {', '.join(names)} still run the installer's files, though the store holds them "
        "(an adoption was interrupted)",
        "put their launchers in place and rewrite its RECORD (as 'shimgen adopt' does)",
        action=functools.partial(_finish_adoption, store, dist, names),
    )


def _finish_adoption(store: Store, dist: str, names: list[str]) -> None:
    store.apply_state(dist, names)
    scheme = scheme_for(store.prefix, store.layout())
    found = find_installed(scheme, dist)
    if found is not None:
        rewrite_record(store, scheme, found, dropped=set())


def _what_is_off(store: Store, dist: str, version: str) -> str | None:
    """Why the commands of installed ``dist`` do not run ``version``, or None when they do."""
    state = store.read_state(dist)
    if state is None:
        return "has no dist state"
    manifest, problems = verify_entry(store.entry_dir(dist, state.current), deep=False)
    if manifest is None or problems:
        return "has a damaged current entry (files are missing from it)"
    if manifest.version != version:
        return f"its commands run {manifest.version} (the installer stopped before writing {version}'s)"
    return None


def _beyond(installed: Installed) -> list[Path]:
    try:
        return installed.beyond_lib
    except ShimgenError:
        return []


def _link_owners(store: Store) -> set[str]:
    return {
        owner[0]
        for record in store.read_links().values()
        if isinstance(record, LinkRecord) and (owner := store.owner(record))
    }


__all__ = ["PROBLEM", "SiteCheck", "check_site"]


def _rmdir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # something appeared in it since: left alone
        os.rmdir(folder)
