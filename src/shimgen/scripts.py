"""What a Python command becomes in a store entry: a script, and the interpreter that runs it.

The script follows distlib's conventions (import the object, call it, exit
with its result), and one script serves every entry point of an entry: the
name it was started by picks the entry point. Creating a file is most of what
an install costs (a new file took 0.6 ms on the disk this was measured on, a
new name for an existing one 0.02 ms), so a thousand commands must not mean a
thousand scripts.

- POSIX: :data:`DISPATCHER`, executable, names the environment's Python in its
  first line. Each command's symlink points at it, and a script started through
  a symlink is given the symlink's path as ``argv[0]``.
- Windows: the launcher runs the environment's ``python.exe`` (``pythonw.exe``
  for GUI scripts) on ``<command>-script.py``, whose name the script reads. The
  entry holds one file under every command's name (hard links, see
  shimgen.entry).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from shimgen.entry import Command, EntryFile
from shimgen.entrypoints import EntryPoint
from shimgen.environment import Scheme
from shimgen.errors import ShimgenError

# The POSIX entry's one script for all its entry points. A command name never starts with a dot
# (shimgen.paths), so no command's own file can take this name.
DISPATCHER = ".shimgen-commands.py"


def entry_point_files(points: Iterable[EntryPoint], scheme: Scheme) -> tuple[list[EntryFile], list[Command]]:
    """The store entry's files and commands for console and GUI entry points."""
    points = list(points)
    if not points:
        return [], []
    if not scheme.windows:
        shebang = posix_shebang(scheme.prefix / scheme.interpreter)
        dispatcher = EntryFile(DISPATCHER, dispatcher_script(points, shebang), True)
        return [dispatcher], [Command(point.name, DISPATCHER, point.gui) for point in points]
    script = dispatcher_script(points, None)  # one bytes object: the entry links its names (shimgen.entry)
    files: list[EntryFile] = []
    commands: list[Command] = []
    for point in points:
        name = f"{point.name}-script.pyw" if point.gui else f"{point.name}-script.py"
        interpreter = scheme.gui_interpreter if point.gui else scheme.interpreter
        files.append(EntryFile(name, script, False))
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


def dispatcher_script(points: Sequence[EntryPoint], shebang: str | None) -> bytes:
    """The script behind every command of an entry: argv[0]'s name picks the entry point.

    The name is the file name without ``-script.py`` (Windows), or the symlink's
    (POSIX). A name that is not a command (a symlink to it under another name,
    say) is followed along its symlinks to one that is; where the filesystem
    ignores case, a name that differs only in case still finds its command.
    """
    table = "".join(f"    {point.name!r}: ({point.module!r}, {point.attr!r}),\n" for point in points)
    return (
        (f"{shebang}\n" if shebang else "")
        + "# The commands of one store entry, written by shimgen. The name this file was started by\n"
        "# picks the entry point: bin/<command> is a symlink to it (POSIX), or Scripts\\<command>.exe\n"
        "# runs it as <command>-script.py (Windows).\n"
        "import os\n"
        "import re\n"
        "import sys\n"
        "\n"
        f"COMMANDS = {{\n{table}}}\n" + _DISPATCH
    ).encode()


_DISPATCH = r"""

def command_name(path):
    for _ in range(40):
        name = re.sub(r"-script\.pyw?$", "", os.path.basename(path))
        if name in COMMANDS:
            return name
        folded = [command for command in COMMANDS if command.lower() == name.lower()]
        if len(folded) == 1:
            return folded[0]
        if not os.path.islink(path):
            break
        path = os.path.join(os.path.dirname(path), os.readlink(path))
    sys.exit(
        f"{os.path.basename(sys.argv[0])}: not one of this file's commands ({', '.join(sorted(COMMANDS))}); "
        "start it through one of their names"
    )


if __name__ == "__main__":
    module, attr = COMMANDS[command_name(sys.argv[0])]
    target = __import__(module, fromlist=["__name__"])
    for part in attr.split("."):
        target = getattr(target, part)
    sys.argv[0] = re.sub(r"(-script\.pyw?|\.exe)?$", "", sys.argv[0])
    sys.exit(target())
"""
