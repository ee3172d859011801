"""Link records and launcher config sections: the two small texts a launcher reads.

Both are UTF-8 lines: a header ``<kind> 1``, then ``key=value`` lines. The
launcher (``launcher_stubs/launcher.c``) parses them with the same strict rules
as :func:`parse_record`, so a record shimgen accepts is a record the launcher
accepts, and a malformed one fails loudly in both.

Paths inside a link record are relative to the environment prefix and use
``/``. Shimgen only *writes* paths that pass :func:`check_relative_path`
(plain names, nothing Windows would reinterpret); the launcher independently
refuses any path that resolves outside the prefix, so a hand-edited or
hostile record cannot make it run a program elsewhere.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from shimgen.errors import PathRefused, RecordError

FORMAT_VERSION = 1
LINK_KIND = "shimgen-link"
CONFIG_KIND = "shimgen-launcher"
# The launcher reads at most this many bytes; a longer record is refused there.
MAX_RECORD_BYTES = 16383
# One path component; Windows and most POSIX filesystems allow 255, and a
# launcher name still needs room for ".exe".
MAX_NAME_LENGTH = 200

# Names Windows maps to devices in every folder, with or without an extension.
_DEVICE_NAME = re.compile(
    r"^(con|prn|aux|nul|conin\$|conout\$|(com|lpt)[0-9\u00b9\u00b2\u00b3])( *)(\..*)?$", re.I
)
_FORBIDDEN_CHARACTERS = re.compile(r'[\x00-\x1f<>:"\\|?*]')
_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f]")


def parse_record(
    data: bytes, kind: str, keys: tuple[str, ...], *, source: str | os.PathLike[str] | None = None
) -> dict[str, str]:
    """Parse a record of ``kind`` holding only ``keys``; raise RecordError otherwise."""
    if len(data) > MAX_RECORD_BYTES:
        raise RecordError(
            f"{kind} record too large ({len(data)} bytes, at most {MAX_RECORD_BYTES})", path=source
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise RecordError(f"{kind} record is not UTF-8 ({error.reason})", path=source) from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the usual final newline
    lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    if not lines:
        raise RecordError(f"empty {kind} record", path=source)
    header, *rest = lines
    if header != f"{kind} {FORMAT_VERSION}":
        if header.startswith(f"{kind} "):
            raise RecordError(
                f"{kind} record has format version {header[len(kind) + 1 :]!r}; "
                f"this shimgen reads {FORMAT_VERSION}",
                path=source,
                hint="it was written by a newer shimgen: upgrade shimgen",
            )
        raise RecordError(f"not a {kind} record (first line {header[:40]!r})", path=source)
    fields: dict[str, str] = {}
    for number, line in enumerate(rest, start=2):
        key, equals, value = line.partition("=")
        if not equals:
            raise RecordError(f"line {number} of the {kind} record has no '='", path=source)
        if key not in keys:
            raise RecordError(f"unknown key {key!r} on line {number} of the {kind} record", path=source)
        if key in fields:
            raise RecordError(f"key {key!r} given twice in the {kind} record", path=source)
        if _CONTROL_CHARACTER.search(value):
            raise RecordError(f"control character in {key!r} of the {kind} record", path=source)
        fields[key] = value
    return fields


def format_record(kind: str, fields: dict[str, str | None]) -> bytes:
    """The canonical bytes of a record: header, then the present fields in order."""
    lines = [f"{kind} {FORMAT_VERSION}"]
    for key, value in fields.items():
        if value is None:
            continue
        if _CONTROL_CHARACTER.search(value):
            raise RecordError(f"control character in {key!r}: {value!r}")
        lines.append(f"{key}={value}")
    data = ("\n".join(lines) + "\n").encode("utf-8")
    if len(data) > MAX_RECORD_BYTES:
        raise RecordError(
            f"{kind} record would be {len(data)} bytes, more than the launcher reads ({MAX_RECORD_BYTES})"
        )
    return data


def check_relative_path(path: str, *, windows: bool = True) -> str:
    """Return ``path`` if it is a plain relative path shimgen may write; raise PathRefused.

    Stricter than the launcher on purpose: besides staying inside the prefix, the
    path must mean the same thing on every Windows version (no device names, no
    names Windows would silently trim, no characters it reserves). ``windows=False``
    leaves out the Windows-only rules (device names, a trailing dot or space,
    ``<>"|?*``), for what only a POSIX layout holds: pip installs a distribution
    named ``con`` there, and so may shimgen. ``:`` is refused everywhere: the
    launcher reads it as a drive or a stream.
    """
    return _checked_relative_path(path, windows)


# A pure function of its arguments, and the same few thousand paths (entry files, link targets)
# are checked many times while one wheel with many commands is installed: remember the
# accepted ones. A refused path raises every time (exceptions are never cached).
@functools.lru_cache(maxsize=16384)
def _checked_relative_path(path: str, windows: bool) -> str:
    def refuse(why: str) -> PathRefused:
        return PathRefused(
            f"refused path {path!r}: {why}", hint="paths in link records are relative to the prefix"
        )

    if not path:
        raise refuse("empty")
    if path.startswith("/") or "\\" in path:
        raise refuse("not a relative path with '/' separators")
    for part in path.split("/"):
        if part in ("", ".", ".."):
            raise refuse("empty, '.' or '..' component")
        if len(part) > MAX_NAME_LENGTH:
            raise refuse(f"a component is {len(part)} characters long (at most {MAX_NAME_LENGTH})")
        if _CONTROL_CHARACTER.search(part):
            raise refuse(f"control character in {part!r}")
        if ":" in part:  # a drive or a stream to the launcher, whatever the layout
            raise refuse(f"reserved character in {part!r}")
        if not windows:
            continue
        if _FORBIDDEN_CHARACTERS.search(part):
            raise refuse(f"reserved character in {part!r} (Windows)")
        if part[-1] in ". ":
            raise refuse(f"{part!r} ends in a dot or space, which Windows drops")
        if _DEVICE_NAME.match(part):
            raise refuse(f"{part!r} is a Windows device name")
    return path


@dataclass(frozen=True)
class LinkRecord:
    """Which file a command runs: ``target``, and for Python entry points the ``script`` it is given.

    Both are relative to the environment prefix, with ``/`` separators.
    """

    target: str
    script: str | None = None

    def __post_init__(self) -> None:
        check_relative_path(self.target, windows=False)
        if self.script is not None:
            check_relative_path(self.script, windows=False)

    def to_bytes(self) -> bytes:
        return format_record(LINK_KIND, {"target": self.target, "script": self.script})

    @classmethod
    def from_bytes(cls, data: bytes, *, source: str | os.PathLike[str] | None = None) -> LinkRecord:
        fields = parse_record(data, LINK_KIND, ("target", "script"), source=source)
        if "target" not in fields:
            raise RecordError("link record has no target", path=source)
        try:
            return cls(fields["target"], fields.get("script"))
        except PathRefused as error:
            raise RecordError(error.message, path=source, hint=error.hint) from None

    def paths(self, prefix: Path) -> tuple[Path, Path | None]:
        """The absolute target and script inside ``prefix``."""
        return resolve_in_prefix(prefix, self.target), (
            None if self.script is None else resolve_in_prefix(prefix, self.script)
        )


def resolve_in_prefix(prefix: Path, relative: str) -> Path:
    """``prefix`` joined with a checked relative path."""
    return Path(prefix, *PurePosixPath(check_relative_path(relative, windows=False)).parts)


@dataclass(frozen=True)
class LauncherConfig:
    """The optional ``.shimcfg`` section of a launcher made for a non-standard layout.

    ``command`` overrides the name taken from the launcher's file name; ``prefix``
    is the environment prefix, absolute or relative to the launcher's folder
    (the standard layout is ``..``: ``<prefix>/Scripts/NAME.exe``).
    """

    command: str | None = None
    prefix: str | None = None

    def __post_init__(self) -> None:
        if self.command is not None:
            check_command_name(self.command)
        if self.prefix is not None and (
            not self.prefix or _CONTROL_CHARACTER.search(self.prefix) is not None
        ):
            raise RecordError(f"invalid launcher prefix {self.prefix!r}")

    def to_bytes(self) -> bytes:
        return format_record(CONFIG_KIND, {"command": self.command, "prefix": self.prefix})

    @classmethod
    def from_bytes(cls, data: bytes, *, source: str | os.PathLike[str] | None = None) -> LauncherConfig:
        fields = parse_record(data.split(b"\0", 1)[0], CONFIG_KIND, ("command", "prefix"), source=source)
        return cls(fields.get("command"), fields.get("prefix"))


def check_command_name(name: str, *, windows: bool = True) -> str:
    """Return ``name`` if it can be a command (a launcher file name); raise PathRefused.

    ``windows=False``: for a POSIX layout, without the Windows-only rules (see check_relative_path).
    """
    if "/" in name:
        raise PathRefused(f"invalid command name {name!r}: contains a path separator")
    if name.startswith("."):
        # Hidden on POSIX, and shimgen's own temporary names start with a dot.
        raise PathRefused(f"invalid command name {name!r}: starts with a dot")
    try:
        check_relative_path(name, windows=windows)
    except PathRefused as error:
        raise PathRefused(f"invalid command name {name!r}: {error.message.split(': ', 1)[1]}") from None
    return name
