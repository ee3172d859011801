"""Build-time generation: launchers for a project's entry points, for any Windows target, from any OS.

A build that cross-compiles a Windows wheel on Linux (or prepares a Windows
image) calls :func:`generate_launchers` with the entry points it already has,
or ``shimgen generate --from`` with a wheel, a ``pyproject.toml`` or an
``entry_points.txt``. In the standard layout each launcher is a byte copy of
one shipped stub, named after its command.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from shimgen.entrypoints import EntryPoint, check_unique, from_entry_points_txt, from_pyproject
from shimgen.errors import ShimgenError
from shimgen.launcher import write_launcher
from shimgen.paths import check_command_name
from shimgen.pe import Arch
from shimgen.wheelfile import WheelFile


def generate_launchers(
    entry_points: Iterable[EntryPoint] | Mapping[str, str],
    out_dir: str | os.PathLike[str],
    *,
    arch: Arch | str,
    gui: Iterable[str] = (),
    prefix: str | None = None,
) -> dict[str, Path]:
    """Write ``<out_dir>/NAME.exe`` for every entry point; return the paths by command name.

    ``entry_points`` is a list of :class:`EntryPoint` or a mapping of names to
    ``module:function`` (console scripts, except the names in ``gui``). Each
    launcher is written crash-safely; all names are checked before the first
    file is written. ``prefix`` makes launchers for a layout other than
    ``<prefix>/Scripts/NAME.exe`` (see ``shimgen generate --help``).
    """
    gui_names = set(gui)
    if isinstance(entry_points, Mapping):
        points = [EntryPoint.parse(n, v, gui=n in gui_names) for n, v in entry_points.items()]
    else:
        points = [EntryPoint(p.name, p.module, p.attr, p.gui or p.name in gui_names) for p in entry_points]
    points = check_unique(points, "the entry points given")
    unknown = gui_names - {p.name for p in points}
    if unknown:
        raise ShimgenError(f"gui names no entry point: {', '.join(sorted(unknown))}")
    for point in points:
        check_command_name(point.name)  # a launcher's name: Windows' rules
    folder = Path(out_dir)
    if not folder.is_dir():
        raise ShimgenError("output folder does not exist", path=folder, hint="create it first")
    arch = Arch(arch)
    written = {}
    for point in points:
        path = folder / f"{point.name}.exe"
        write_launcher(path, arch, point.gui, prefix=prefix)
        written[point.name] = path
    return written


def load_entry_points(path: Path) -> list[EntryPoint]:
    """Entry points from a wheel, a ``pyproject.toml`` or an ``entry_points.txt``, chosen by file name."""
    if path.suffix == ".whl":
        with WheelFile(path) as wheel:
            return wheel.entry_points()
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ShimgenError(f"cannot read entry points ({error.strerror})", path=path) from None
    if path.name == "pyproject.toml":
        return from_pyproject(data, source=str(path))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ShimgenError("entry points file is not UTF-8", path=path) from None
    return from_entry_points_txt(text, source=str(path))
