"""Which of a wheel's scripts go into the store entry, and which go to ``Scripts`` as pip puts them.

In a POSIX layout every file of ``<name>.data/scripts/`` is a command, so all of them go into
the store entry. In a Windows layout only a Windows program (``.exe``) can be a command; a
wheel's other scripts (``.bat``, ``.cmd``, ``.ps1``, a ``#!python`` script) are files pip
copies into ``Scripts``. When the wheel has programs there as well, those files stay beside
the programs in the store entry, because a program looks for its DLLs and data in its own
folder. When it has none, they go to ``Scripts``, where pip puts them (their bytes as the
wheel has them: a ``#!python`` line stays, which the ``py`` launcher reads), written and
recorded like a library file; without this they would have nowhere to go, as an entry needs
a command.

Nothing is locked by running such a file (cmd, PowerShell and Python read them; only
programs and DLLs are mapped), so writing them in place holds the invariant (tests/wine/
test_install_wine.py upgrades a batch file while cmd runs it). A loose script
never replaces a file of the environment itself (``activate.bat``) or one another
distribution installed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from shimgen.entry import EntryFile
from shimgen.environment import Installed, Scheme
from shimgen.errors import PathRefused
from shimgen.paths import is_environment_file


def split_scripts(scripts: Sequence[EntryFile], scheme: Scheme) -> tuple[list[EntryFile], list[EntryFile]]:
    """The scripts for the store entry, and those for ``Scripts`` (see the module's docstring)."""
    if not scheme.windows or any(_is_program(file) for file in scripts):
        return list(scripts), []
    return [], list(scripts)


def _is_program(file: EntryFile) -> bool:
    return "/" not in file.path and file.path.lower().endswith(".exe")


def loose_destinations(
    scripts: Sequence[EntryFile], scheme: Scheme, dist: str, earlier: Sequence[Installed]
) -> list[tuple[Path, EntryFile]]:
    """Where each loose script goes, refusing a file that is not ``dist``'s to replace.

    An earlier version's own file (its RECORD lists it) is replaced, as pip replaces it;
    anything else already there, and the environment's own files, are refused.
    """
    owned = {path for previous in earlier for path in previous.files}
    placed = []
    for file in scripts:
        destination = scheme.scripts.joinpath(*PurePosixPath(file.path).parts)
        if is_environment_file(destination.name):
            raise PathRefused(
                f"wheel script {file.path!r} would replace the environment's own {destination.name}",
                path=destination,
                hint=f"{dist} cannot be installed here; nothing changed",
            )
        if os.path.lexists(destination) and destination not in owned:
            raise PathRefused(
                f"wheel script {file.path!r} would replace a file {dist} did not install",
                path=destination,
                hint="move that file away (or uninstall what installed it), then install again; "
                "nothing changed",
            )
        placed.append((destination, file))
    return placed
