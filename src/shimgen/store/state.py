"""A distribution's state file: its generations (the current entry first), and what is pending.

``.shimgen/dists/<dist>.json``. Replacing it is the commit point of publish
and rollback; deleting it, of remove.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from shimgen.errors import NewerFormat, RecordError, ShimgenError
from shimgen.paths import ENTRY_NAME, normalize_dist
from shimgen.paths import version_of as version_of

FORMAT_VERSION = 1
ROLLBACK = "rollback"


@dataclass(frozen=True)
class DistState:
    """A distribution's generations: the current entry first, then the ones kept for rollback.

    ``pending`` names an operation whose state is committed but whose links may
    not all be switched yet. Only rollback needs it: it is the one operation
    that is not idempotent (a second rollback undoes the first), so re-running
    an interrupted rollback must finish it rather than start another.

    ``installed`` is true for a distribution installed in site-packages (by
    ``install`` or ``adopt``): when pip or uv uninstall it, ``sync`` drops its
    commands. False for programs published with ``link``; None where an older
    shimgen wrote the file (``sync`` decides by what site-packages holds).
    """

    dist: str
    generations: tuple[str, ...]
    pending: str | None = None
    installed: bool | None = None

    @property
    def current(self) -> str:
        return self.generations[0]

    def to_bytes(self) -> bytes:
        body = {
            "format": FORMAT_VERSION,
            "dist": self.dist,
            "generations": list(self.generations),
            "pending": self.pending,
        }
        if self.installed is not None:
            body["installed"] = self.installed
        return (json.dumps(body, indent=1) + "\n").encode()

    @classmethod
    def from_bytes(cls, data: bytes, *, source: Path) -> DistState:
        try:
            body = json.loads(data)
            check_format(body, "dist state", source)
            generations = body["generations"]
            if not isinstance(generations, list) or not generations:
                raise ValueError("generations is not a non-empty list")
            for name in generations:
                if not isinstance(name, str) or not ENTRY_NAME.match(name):
                    raise ValueError(f"bad entry name {name!r}")
            pending = body.get("pending")
            if pending not in (None, ROLLBACK):
                raise ValueError(f"unknown pending operation {pending!r}")
            installed = body.get("installed")
            if installed not in (None, True, False):
                raise ValueError(f"installed is {installed!r}, not true or false")
            return cls(normalize_dist(body["dist"]), tuple(generations), pending, installed)
        except NewerFormat:
            raise
        except (ValueError, KeyError, TypeError, AttributeError, ShimgenError) as error:
            message = error.message if isinstance(error, ShimgenError) else str(error)
            raise RecordError(
                f"invalid dist state ({message})", path=source, hint="run 'shimgen doctor --fix'"
            ) from None


def check_format(body: object, what: str, source: Path) -> None:
    if not isinstance(body, dict):
        raise ValueError(f"{what} is not a JSON object")
    version = body.get("format")
    if isinstance(version, int) and version > FORMAT_VERSION:
        raise NewerFormat(
            f"{what} has format {version}; this shimgen reads {FORMAT_VERSION}",
            path=source,
            hint="it was written by a newer shimgen: upgrade shimgen",
        )
    if version != FORMAT_VERSION:
        raise ValueError(f"format {version!r}")
