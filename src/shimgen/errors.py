"""The one exception type users see, shaped so every message is actionable."""

from __future__ import annotations

import os


class ShimgenError(Exception):
    """Something shimgen could not do.

    Carries what happened, the path it happened to and what to do about it, so
    the CLI can print one complete message and library callers can inspect the
    parts.
    """

    def __init__(self, message: str, *, path: os.PathLike[str] | str | None = None, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.path = None if path is None else os.fspath(path)
        self.hint = hint

    def __str__(self) -> str:
        text = self.message if self.path is None else f"{self.message}: {self.path}"
        return f"{text}\n  hint: {self.hint}" if self.hint else text


class RecordError(ShimgenError):
    """A link record or launcher config section that does not follow the format."""


class NewerFormat(RecordError):
    """A file written by a newer shimgen: never rewritten, never "repaired" by this one."""


class PathRefused(ShimgenError):
    """A path that could leave the environment, or that Windows would misread."""


def quoted(text: str) -> str:
    """``text`` in quotes as a user would type it: a Windows path keeps single backslashes (``repr``
    doubles them), and only control characters, which a terminal would act on, are escaped."""
    return "'" + "".join(c if c.isprintable() else repr(c)[1:-1] for c in text) + "'"
