"""Entry points (``console_scripts`` and ``gui_scripts``): read from wherever a build keeps them.

The same three sources packaging tools use: a wheel's ``entry_points.txt``,
a loose ``entry_points.txt``, and the ``[project.scripts]`` /
``[project.gui-scripts]`` tables of ``pyproject.toml``. The standard library reads
them: ``entry_points.txt`` is "INI format, as read by configparser" (the entry
points specification; pypa/installer reads it so too), ``pyproject.toml`` is
TOML, and a value is split as ``importlib.metadata`` splits it. Every name becomes
a file name (``Scripts\\NAME.exe``) and every value a Python import, so shimgen's
stricter checks come on top, here, before anything is generated from them.
"""

from __future__ import annotations

import configparser
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from shimgen.errors import PathRefused, ShimgenError
from shimgen.paths import check_command_name

GROUPS = {"console_scripts": False, "gui_scripts": True}


@dataclass(frozen=True)
class EntryPoint:
    """One command: ``name = module:attr``, console or GUI."""

    name: str
    module: str
    attr: str
    gui: bool = False

    @classmethod
    def parse(cls, name: str, value: str, *, gui: bool = False, source: str = "") -> EntryPoint:
        where = f" in {source}" if source else ""
        try:
            check_command_name(name.strip(), windows=False)
        except PathRefused as error:
            raise PathRefused(f"{error.message}{where}", hint="entry point names become file names") from None
        module, attr = _object_reference(value)
        if module is None or attr is None:
            raise ShimgenError(
                f"entry point {name.strip()!r}{where} is not 'module:function' ({value.strip()!r})",
                hint="write it as package.module:function",
            )
        return cls(name.strip(), module, attr, gui)

    @property
    def value(self) -> str:
        return f"{self.module}:{self.attr}"


# importlib.metadata.EntryPoint.pattern, the same in Python 3.9 to 3.13.
OBJECT_REFERENCE = re.compile(r"(?P<module>[\w.]+)\s*(:\s*(?P<attr>[\w.]+)\s*)?((?P<extras>\[.*\])\s*)?$")


def _object_reference(value: str) -> tuple[str | None, str | None]:
    """The module and attribute of an entry point's value, each a dotted Python name, or None.

    The value is split as the standard library splits it (``importlib.metadata.EntryPoint``'s
    pattern: spaces around the colon and a trailing ``[extras]`` allowed, as the entry points
    specification asks of readers; the extras, a leftover of setuptools, are ignored). The
    pattern is written out here, because importing importlib.metadata (and the email package
    it pulls in) costs every install several milliseconds for one regular expression;
    tests/test_entrypoints.py holds the answers equal to importlib.metadata's. Its pattern takes
    any word characters and dots; every part must also be a Python identifier, since it is
    written into a script as ``from module import attr``, and a command needs the attribute (pip
    refuses a value without one: "A callable suffix is required").
    """
    match = OBJECT_REFERENCE.match(value.strip())
    if match is None:
        return None, None
    module, attr = match.group("module"), match.group("attr")
    if not all(part.isidentifier() for part in module.split(".")):
        return None, None
    if attr is None or not all(part.isidentifier() for part in attr.split(".")):
        return module, None
    return module, attr


def check_unique(entry_points: Iterable[EntryPoint], source: str) -> list[EntryPoint]:
    """Refuse two commands whose launchers would be the same file on Windows."""
    seen: dict[str, EntryPoint] = {}
    result = []
    for entry_point in entry_points:
        key = entry_point.name.lower()
        if key in seen:
            raise ShimgenError(
                f"entry point {entry_point.name!r} is given twice in {source} "
                f"(Windows file names ignore case: {seen[key].name!r})"
            )
        seen[key] = entry_point
        result.append(entry_point)
    return result


def from_entry_points_txt(text: str, *, source: str = "entry_points.txt") -> list[EntryPoint]:
    """The console and GUI scripts of an ``entry_points.txt`` (other groups are ignored)."""
    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # names are case-sensitive
    try:
        parser.read_string(text, source=source)
    except configparser.Error as error:
        raise ShimgenError(f"cannot parse {source}: {error.message}".replace("\n", " ")) from None
    found: list[EntryPoint] = []
    for group, gui in GROUPS.items():
        if parser.has_section(group):
            for name, value in parser.items(group):
                found.append(EntryPoint.parse(name, value, gui=gui, source=source))
    return check_unique(found, source)


def from_pyproject(data: bytes, *, source: str = "pyproject.toml") -> list[EntryPoint]:
    """The ``[project.scripts]`` and ``[project.gui-scripts]`` of a ``pyproject.toml``."""
    if sys.version_info >= (3, 11):  # imported here: installing a wheel never reads TOML
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.9 and 3.10 only
        import tomli as tomllib

    try:
        project = tomllib.loads(data.decode("utf-8")).get("project", {})
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ShimgenError(f"cannot parse {source} ({error})") from None
    if not isinstance(project, dict):
        raise ShimgenError(f"[project] in {source} is not a table")
    dynamic = project.get("dynamic", [])
    if isinstance(dynamic, list) and {"scripts", "gui-scripts"} & set(dynamic):
        raise ShimgenError(
            f"the scripts in {source} are dynamic: only the build backend knows them",
            hint="build the wheel and generate from it instead",
        )
    found: list[EntryPoint] = []
    for table, gui in (("scripts", False), ("gui-scripts", True)):
        scripts = project.get(table, {})
        if not isinstance(scripts, Mapping) or not all(isinstance(v, str) for v in scripts.values()):
            raise ShimgenError(f"[project.{table}] in {source} must map names to 'module:function' strings")
        found.extend(EntryPoint.parse(name, value, gui=gui, source=source) for name, value in scripts.items())
    return check_unique(found, source)
