"""What ``shimgen link`` publishes: native programs, one command each, and extra files beside them."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from shimgen import pe
from shimgen.defaults import WINDOWS
from shimgen.entry import Command, EntryFile
from shimgen.errors import ShimgenError
from shimgen.store.layout import Layout, read_head


def native_entry(
    programs: Sequence[Path], gui: Sequence[str] = (), extras: Sequence[Path] = (), *, layout: Layout
) -> tuple[list[EntryFile], list[Command]]:
    """Entry files and commands for native programs (``shimgen link``): one command per program.

    A command is named after its file (without ``.exe``); Windows programs built
    for the GUI subsystem get the GUI launcher unless told otherwise.
    """
    files: list[EntryFile] = []
    commands: list[Command] = []
    gui_names = set(gui)
    for program in programs:
        if not program.is_file():
            raise ShimgenError("no such file", path=program)
        name = (
            program.name[:-4]
            if program.name.lower().endswith(".exe") and len(program.name) > 4
            else program.name
        )
        is_gui = name in gui_names
        if layout.kind == WINDOWS and not is_gui:
            info = pe.read_pe_info(read_head(program))
            is_gui = bool(info and info.gui)
        gui_names.discard(name)
        files.append(EntryFile(program.name, program, executable=True))
        commands.append(Command(name, program.name, gui=is_gui))
    if gui_names:
        raise ShimgenError(f"--gui names no given program: {', '.join(sorted(gui_names))}")
    for extra in extras:
        if not extra.is_file():
            raise ShimgenError("no such file", path=extra)
        files.append(EntryFile(extra.name, extra, executable=os.access(extra, os.X_OK)))
    return files, commands
