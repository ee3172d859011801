"""Repairs for the states pip and uv leave a distribution's commands in, shared by sync and doctor.

Each repair reads what is left (site-packages, the store, link records) and
goes through the store's own steps, so it is as crash-safe as any publish,
and running it twice changes nothing the second time. None of them deletes a
command of a distribution that is still installed.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from shimgen import fsutil
from shimgen.entry import STORE_DIR, Command, EntryFile, verify_entry
from shimgen.entrypoints import EntryPoint, from_entry_points_txt
from shimgen.environment import Installed, Scheme, scheme_for
from shimgen.errors import ShimgenError
from shimgen.linkrecord import LinkRecord
from shimgen.scripts import entry_point_files
from shimgen.shims import ShimState
from shimgen.store import DistState, Store


@dataclass(frozen=True)
class Outcome:
    """What a repair did (``done``), or why it could not (``problem``, with what to do)."""

    dist: str
    done: str = ""
    problem: str = ""
    hint: str = ""


def drop_uninstalled(store: Store, dist: str) -> list[str]:
    """Remove the commands of a distribution pip or uv uninstalled; its entries become garbage for gc."""
    return store.remove(dist)


def restore_state(store: Store, installed: Installed) -> Outcome | None:
    """Give an installed distribution that lost its dist state (or its current entry) a working one.

    In order: a complete entry of the installed version that its link records
    name, else any complete entry of that version, else a new entry rebuilt from
    what can be trusted: its ``entry_points.txt`` and its programs still in the
    store, checked against the hashes its RECORD gives them. None when there is
    nothing of it in the store and no command of it is missing.
    """
    dist = installed.dist
    entry = _entry_to_keep(store, dist, installed.version)
    if entry is not None:
        state = store.read_state(dist) if store.state_path(dist).exists() else None
        generations = (entry, *(g for g in (state.generations if state else ()) if g != entry))
        store.write_state(DistState(dist, generations, installed=True))
        changed = store.apply_state(dist)
        return Outcome(dist, done=f"state rebuilt from entry {entry}" + _listed(changed))
    return rebuild_entry(store, installed)


def rebuild_entry(store: Store, installed: Installed) -> Outcome | None:
    """Publish a new entry from ``entry_points.txt`` and the programs whose bytes RECORD vouches for."""
    scheme = scheme_for(store.prefix, store.layout())
    wanted = _missing_commands(store, scheme, installed)
    if not wanted:
        return None
    points = [p for p in _entry_points(installed) if p.name in wanted]
    files, commands = entry_point_files(points, scheme)
    programs = _programs_still_in_store(store, scheme, installed, wanted - {p.name for p in points})
    for name, path in sorted(programs.items()):
        files.append(EntryFile(path.name, path, True, link=True))
        commands.append(Command(name, path.name))
    lost = sorted(wanted - {c.name for c in commands})
    if commands:
        store.publish(installed.dist, installed.version, files, commands, installed=True)
    done = f"entry rebuilt for {', '.join(sorted(c.name for c in commands))}" if commands else ""
    if not lost:
        return Outcome(installed.dist, done=done)
    return Outcome(
        installed.dist,
        done=done,
        problem=f"the program of {', '.join(lost)} is gone from the store",
        hint=f"reinstall {installed.dist} (uv pip install --reinstall {installed.dist}, or pip install "
        f"--force-reinstall {installed.dist}), then 'shimgen sync'",
    )


def _entry_to_keep(store: Store, dist: str, version: str) -> str | None:
    """A complete entry of ``version``: the one link records name, else the newest."""
    folder = store.store_dir / dist
    if not store.is_real_folder(folder):
        return None
    named = {
        owner[1]
        for record in store.read_links().values()
        if isinstance(record, LinkRecord) and (owner := store.owner(record)) and owner[0] == dist
    }
    complete = []
    for entry in folder.iterdir():
        if fsutil.is_temporary_name(entry.name):
            continue
        manifest, problems = verify_entry(entry, deep=False)
        if manifest is not None and not problems and manifest.version == version:
            complete.append(entry)
    if not complete:
        return None
    best = max(complete, key=lambda e: (e.name in named, e.stat().st_mtime))
    return best.name


def _missing_commands(store: Store, scheme: Scheme, installed: Installed) -> set[str]:
    """Commands whose shim the distribution's RECORD lists, that have no link record into a complete entry.

    A foreign file at a shim's place is left out: that is adopt's business, not a repair.
    """
    shims = store.shims()
    links = store.read_links()
    names = set()
    for path in installed.beyond_lib:
        name = command_of(path, scheme)
        if name is None:
            continue
        record = links.get(name)
        if isinstance(record, LinkRecord) and _entry_complete(store, record):
            continue
        if shims.state(name, None, False) is ShimState.FOREIGN:
            continue
        names.add(name)
    return names


def command_of(path: Path, scheme: Scheme) -> str | None:
    """The command whose shim ``path`` would be (``Scripts/NAME.exe``, ``bin/NAME``), or None."""
    if path.parent != scheme.scripts:
        return None
    if not scheme.windows:
        return path.name
    return path.name[:-4] if path.name.lower().endswith(".exe") and len(path.name) > 4 else None


def _entry_complete(store: Store, record: LinkRecord) -> bool:
    owner = store.owner(record)
    if owner is None:
        return False
    return not verify_entry(store.entry_dir(*owner), deep=False)[1]


def _entry_points(installed: Installed) -> list[EntryPoint]:
    path = installed.dist_info / "entry_points.txt"
    try:
        return from_entry_points_txt(path.read_text(encoding="utf-8"), source=str(path))
    except FileNotFoundError:
        return []
    except (OSError, ValueError, ShimgenError):
        return []  # unreadable: what it would give is reported as lost


def _programs_still_in_store(
    store: Store, scheme: Scheme, installed: Installed, names: Iterable[str]
) -> dict[str, Path]:
    """Native programs left in the store whose bytes match a hash an older shimgen's RECORD gave them.

    Such a RECORD listed the store's files with their hashes; an installer that
    deleted some (the manifest first) and stopped at the running program left
    the program itself, intact, which this finds again.
    """
    wanted = {f"{name}.exe" if scheme.windows else name: name for name in names}
    found: dict[str, Path] = {}
    for path, row in zip(installed.files, installed.rows):
        parts = path.relative_to(store.prefix).parts if store.prefix in path.parents else ()
        if tuple(parts[:2]) != STORE_DIR or len(parts) != 5 or parts[2] != installed.dist:
            continue
        name = wanted.get(parts[4])
        if name is None or name in found or len(row) < 3 or not row[1].startswith("sha256="):
            continue
        try:
            size, digest = fsutil.hash_file(path)
        except OSError:
            continue
        recorded = base64.urlsafe_b64encode(bytes.fromhex(digest)).rstrip(b"=").decode()
        if row[1] == f"sha256={recorded}" and row[2] == str(size):
            found[name] = path
    return found


def _listed(changed: list[str]) -> str:
    return f"; commands {', '.join(sorted(changed))} repaired" if changed else ""
