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

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from shimgen.errors import PathRefused, RecordError
from shimgen.paths import CONTROL_CHARACTER, check_command_name, check_relative_path

FORMAT_VERSION = 1
LINK_KIND = "shimgen-link"
CONFIG_KIND = "shimgen-launcher"
# The launcher reads at most this many bytes; a longer record is refused there.
MAX_RECORD_BYTES = 16383


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
        if CONTROL_CHARACTER.search(value):
            raise RecordError(f"control character in {key!r} of the {kind} record", path=source)
        fields[key] = value
    return fields


def format_record(kind: str, fields: dict[str, str | None]) -> bytes:
    """The canonical bytes of a record: header, then the present fields in order."""
    lines = [f"{kind} {FORMAT_VERSION}"]
    for key, value in fields.items():
        if value is None:
            continue
        if CONTROL_CHARACTER.search(value):
            raise RecordError(f"control character in {key!r}: {value!r}")
        lines.append(f"{key}={value}")
    data = ("\n".join(lines) + "\n").encode("utf-8")
    if len(data) > MAX_RECORD_BYTES:
        raise RecordError(
            f"{kind} record would be {len(data)} bytes, more than the launcher reads ({MAX_RECORD_BYTES})"
        )
    return data


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
        if self.prefix is not None and (not self.prefix or CONTROL_CHARACTER.search(self.prefix) is not None):
            raise RecordError(f"invalid launcher prefix {self.prefix!r}")

    def to_bytes(self) -> bytes:
        return format_record(CONFIG_KIND, {"command": self.command, "prefix": self.prefix})

    @classmethod
    def from_bytes(cls, data: bytes, *, source: str | os.PathLike[str] | None = None) -> LauncherConfig:
        fields = parse_record(data.split(b"\0", 1)[0], CONFIG_KIND, ("command", "prefix"), source=source)
        return cls(fields.get("command"), fields.get("prefix"))


__all__ = [
    "LauncherConfig",
    "LinkRecord",
    "format_record",
    "parse_record",
]
