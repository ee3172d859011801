"""What a Python command becomes in a store entry: a script, and the interpreter that runs it.

The script text follows distlib's conventions (import the object, call it,
exit with its result). On Windows the launcher runs the environment's
``python.exe`` (``pythonw.exe`` for GUI scripts) with the script; on POSIX the
script is executable and names the environment's Python in its first line.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from shimgen.entry import Command, EntryFile
from shimgen.entrypoints import EntryPoint
from shimgen.environment import Scheme
from shimgen.errors import ShimgenError


def entry_point_files(points: Iterable[EntryPoint], scheme: Scheme) -> tuple[list[EntryFile], list[Command]]:
    """The store entry's files and commands for console and GUI entry points."""
    files: list[EntryFile] = []
    commands: list[Command] = []
    points = list(points)
    shebang = None if scheme.windows or not points else posix_shebang(scheme.prefix / scheme.interpreter)
    for point in points:
        if scheme.windows:
            name = f"{point.name}-script.pyw" if point.gui else f"{point.name}-script.py"
            interpreter: str | None = scheme.gui_interpreter if point.gui else scheme.interpreter
            files.append(EntryFile(name, entry_point_script(point, None), False))
        else:
            name, interpreter = point.name, None
            files.append(EntryFile(name, entry_point_script(point, shebang), True))
        commands.append(Command(point.name, name, point.gui, interpreter))
    return files, commands


def posix_shebang(python: Path) -> str:
    """A first line that makes the kernel run ``python`` on the file, whatever its path.

    The kernel splits a ``#!`` line at the first space and limits its length,
    so a Python under such a path is reached through /bin/sh: the second line
    is an ``exec`` to sh and a string literal to Python. The path is in single
    quotes there, so sh expands nothing in it (a folder named ``$(...)`` is just
    a name); a backslash or line break, which Python would read as escapes, is refused.
    """
    text = str(python)
    if not any(c.isspace() for c in text) and len(text) < 120:
        return f"#!{text}"
    if any(c in text for c in ("\\", "\n", "\r")):
        raise ShimgenError(
            "the environment's path holds a backslash or line break, "
            "which a POSIX entry-point script cannot name safely",
            path=python,
            hint="use an environment whose path has neither",
        )
    quoted = text.replace("'", "'\"'\"'")  # for sh: end the quote, a quoted ', quote again
    return "#!/bin/sh\n" + f"'''exec' '{quoted}' \"$0\" \"$@\"\n" + "' '''"


def entry_point_script(point: EntryPoint, shebang: str | None) -> bytes:
    """The Python file a launcher runs for an entry point (the same conventions as distlib's)."""
    head = point.attr.split(".", 1)[0]
    lines = [shebang] if shebang else []
    lines += [
        f"# The {point.name!r} entry point, written by shimgen.",
        "import re",
        "import sys",
        "",
        f"from {point.module} import {head}",
        "",
        'if __name__ == "__main__":',
        r'    sys.argv[0] = re.sub(r"(-script\.pyw?|\.exe)?$", "", sys.argv[0])',
        f"    sys.exit({point.attr}())",
        "",
    ]
    return "\n".join(lines).encode()
