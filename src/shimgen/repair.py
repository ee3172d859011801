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
from shimgen.entry import Command, EntryFile, verify_entry
from shimgen.entrypoints import EntryPoint, from_entry_points_txt
from shimgen.environment import Installed, Scheme, is_environment_file, scheme_for
from shimgen.errors import ShimgenError
from shimgen.linkrecord import LinkRecord
from shimgen.paths import STORE_DIR
from shimgen.scripts import entry_point_files
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
    """Give an installed distribution whose commands do not run its installed version a working state.

    Its dist state was lost, its current entry damaged, or its current entry is
    another version (the installer stopped before writing the new version's
    programs). In order: a complete entry of the installed version (the one its
    link records name, else the newest), else a new entry rebuilt from what can
    be trusted (see :func:`rebuild_entry`).
    """
    dist = installed.dist
    entry = _entry_to_keep(store, dist, installed.version)
    if entry is None:
        return rebuild_entry(store, installed)
    state = store.read_state(dist)
    generations = (entry, *(g for g in (state.generations if state else ()) if g != entry))
    store.write_state(DistState(dist, generations, installed=True))
    changed = store.apply_state(dist)
    return Outcome(dist, done=f"state rebuilt from entry {entry}" + _listed(changed))


def rebuild_entry(store: Store, installed: Installed) -> Outcome | None:
    """Publish the installed version's commands again, from what can be trusted.

    Python entry points come from its ``entry_points.txt``; programs from the
    store, where an older shimgen's RECORD vouches for their bytes. A command
    the distribution declares that neither gives is reported, with the
    reinstall that brings it back. A version that declares no command at all
    loses the commands an earlier version had.
    """
    scheme = scheme_for(store.prefix, store.layout())
    dist = installed.dist
    declared = declared_commands(scheme, installed)
    if not declared:
        if store.read_state(dist) is None:
            return None
        removed = store.remove(dist)  # none left where the installer deleted them (RECORD lists them)
        return Outcome(
            dist,
            done=f"{installed.version} has no commands"
            + (f": removed {', '.join(removed)}" if removed else ", and the installer removed the old ones"),
        )
    points = [p for p in declared_entry_points(installed) if p.name in declared]
    files, commands = entry_point_files(points, scheme)
    programs = _programs_still_in_store(store, scheme, installed, declared - {p.name for p in points})
    for name, path in sorted(programs.items()):
        files.append(EntryFile(path.name, path, True, link=True))
        commands.append(Command(name, path.name))
    lost = sorted(declared - {c.name for c in commands})
    if commands:
        store.publish(dist, installed.version, files, commands, installed=True)
    done = (
        f"{installed.version} entry rebuilt for {', '.join(sorted(c.name for c in commands))}"
        if commands
        else ""
    )
    if not lost:
        return Outcome(dist, done=done)
    return Outcome(
        dist,
        done=done,
        problem=f"{installed.version} is installed, but the program of {', '.join(lost)} is not "
        "(the installer stopped halfway, or deleted it)",
        hint=reinstall_hint(dist),
    )


def unfinished_hint(installed: Installed) -> str:
    """What to do about an install that stopped halfway: reinstall, unless no installer can read it."""
    if not installed.record.is_file() or not installed.rows_complete:
        return (
            f"without a whole RECORD no installer can uninstall it: delete the folder "
            f"{installed.dist_info}, then install {installed.dist} again and run 'shimgen sync'"
        )
    return reinstall_hint(installed.dist)


def reinstall_hint(dist: str) -> str:
    both = f"uv pip install --reinstall {dist}, or pip install --force-reinstall {dist}"
    return f"reinstall it ({both}), then 'shimgen sync'"


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


def declared_commands(scheme: Scheme, installed: Installed) -> set[str]:
    """The commands an installed distribution declares: shims its RECORD lists, and its entry points."""
    names = {name for path in installed.beyond_lib if (name := command_of(path, scheme)) is not None}
    return names | {point.name for point in declared_entry_points(installed)}


def command_of(path: Path, scheme: Scheme) -> str | None:
    """The command whose shim ``path`` would be (``Scripts/NAME.exe``, ``bin/NAME``), or None."""
    if path.parent != scheme.scripts or is_environment_file(path.name):
        return None
    if not scheme.windows:
        return path.name
    return path.name[:-4] if path.name.lower().endswith(".exe") and len(path.name) > 4 else None


def declared_entry_points(installed: Installed) -> list[EntryPoint]:
    """The console and GUI scripts of its ``entry_points.txt`` (none if it is missing or unreadable)."""
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
    return f"; commands {_names(changed)} repaired" if changed else ""


def _names(names: Iterable[str]) -> str:
    return ", ".join(sorted(names)) or "none"
