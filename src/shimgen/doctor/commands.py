"""Doctor's checks across commands: the interpreters entry points need, link records no
distribution owns, and shims without a link record."""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path

from shimgen.doctor.dists import View
from shimgen.doctor.findings import NOTE, Finding
from shimgen.errors import ShimgenError
from shimgen.linkrecord import LinkRecord
from shimgen.store import Store


def missing_interpreters(view: View) -> list[Finding]:
    """Each Python the entry points name, looked for once (not once per command)."""
    found = []
    for interpreter, commands in sorted(view.interpreters.items()):
        if (view.store.prefix / interpreter).is_file():
            continue
        named = ", ".join(sorted(commands)[:5]) + (", ..." if len(commands) > 5 else "")
        found.append(
            Finding(
                "missing-interpreter",
                view.store.prefix / interpreter,
                f"the environment's Python is missing, so {len(commands)} command(s) cannot run ({named})",
                None,
                hint="recreate it (python -m venv on this folder), then run doctor again",
            )
        )
    return found


def orphan_links(view: View) -> list[Finding]:
    """Link records no distribution's state wants: removed, or (outside the store) left alone."""
    store, found = view.store, []
    for name, existing in view.links.items():
        if store.command_key(name) in view.wanted:
            continue
        if isinstance(existing, LinkRecord) and store.owner(existing) is None:
            message = f"link record of {name} runs {existing.target}, outside the store: left alone"
            found.append(Finding("unmanaged-link", store.links().path(name), message, None, NOTE))
            continue
        why = "belongs to no installed distribution"
        if isinstance(existing, ShimgenError):
            why = f"is invalid ({existing.message})"
        found.append(
            Finding(
                "orphan-link",
                store.links().path(name),
                f"link record of {name} {why}",
                "remove it and its shim",
                action=_remove_command(store, name),
            )
        )
    return found


def dangling_shims(view: View, listed: Collection[Path]) -> list[Finding]:
    """Shims with no link record, unless an installed distribution's RECORD lists them (its repair's)."""
    store, found = view.store, []
    for name, path in store.shims().present().items():
        if store.command_key(name) in view.wanted or name in view.links or path in listed:
            continue
        found.append(
            Finding(
                "dangling-shim",
                path,
                f"shim of {name} has no link record",
                "move it to the trash",
                action=_remove_shim(store, name),
            )
        )
    return found


def _remove_command(store: Store, name: str) -> Callable[[], None]:
    def run() -> None:
        store.shims().remove(name, store.trash_dir)
        store.links().remove(name)

    return run


def _remove_shim(store: Store, name: str) -> Callable[[], None]:
    def run() -> None:
        store.shims().remove(name, store.trash_dir)

    return run
