"""Which commands a distribution may have here: names the filesystem keeps apart, none another
distribution owns, none blocked by a file shimgen did not make, never the environment's own."""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING

from shimgen.defaults import WINDOWS
from shimgen.entry import Command
from shimgen.errors import ShimgenError
from shimgen.linkrecord import LinkRecord
from shimgen.paths import check_command_name, is_environment_file
from shimgen.shims import ShimState, foreign_shim_error
from shimgen.store.layout import Layout

if TYPE_CHECKING:
    from shimgen.store.reader import StoreReader as Store


def command_keys(store: Store, layout: Layout | None = None) -> Callable[[str], str]:
    """:meth:`command_key` decided once, for loops over a thousand commands.

    ``layout`` is the one about to be used, for a prefix not set up yet.
    """
    if layout is None and store.initialized:
        layout = store.layout()
    windows = layout.kind == WINDOWS if layout is not None else os.name == "nt"
    return str.lower if windows else str


def check_commands_free(
    store: Store, dist: str, commands: Sequence[Command], layout: Layout, take_over: Collection[str] = ()
) -> None:
    """Refuse, before writing anything, a command owned by another dist or blocked by a foreign file."""
    links = store.read_links()
    key = command_keys(store, layout)
    by_key = {key(name): record for name, record in links.items()}
    shims = store.shims_for(layout)
    for command in commands:
        check_command_name(command.name, windows=layout.kind == WINDOWS)
        if is_environment_file(shims.path(command.name).name):
            raise ShimgenError(
                f"command {command.name!r} would replace {shims.path(command.name).name}, "
                "the environment's own interpreter or activation script",
                path=shims.path(command.name),
                hint="no distribution may provide this command in an environment; nothing was changed",
            )
        record = by_key.get(key(command.name))
        owner = store.owner(record) if isinstance(record, LinkRecord) else None
        if isinstance(record, LinkRecord) and owner is None:
            raise ShimgenError(
                f"command {command.name!r} has a link record that points outside shimgen's store",
                path=store.links().path(command.name),
                hint="it was written by hand or by another tool; remove it and its launcher first",
            )
        if owner and owner[0] != dist:
            other = store.read_state(owner[0])
            if other is not None and other.current == owner[1]:
                raise ShimgenError(
                    f"command {command.name!r} belongs to {owner[0]}",
                    path=store.links().path(command.name),
                    hint=f"uninstall it first (shimgen uninstall {owner[0]}), "
                    f"or drop only its commands (shimgen remove {owner[0]})",
                )
        if (
            shims.state(command.name, None, command.gui) is ShimState.FOREIGN
            and command.name not in take_over
        ):
            raise foreign_shim_error(shims.path(command.name))
