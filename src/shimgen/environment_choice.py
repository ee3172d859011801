"""Which environment a command acts on, chosen the way uv and pip users expect.

In order: ``--prefix``; the active virtual environment (``VIRTUAL_ENV``); the
project's environment, found from the current folder upward (uv's
``UV_PROJECT_ENVIRONMENT`` in a folder with a ``pyproject.toml``, else a
``.venv`` folder); the virtual environment shimgen itself runs in (as
``python -m pip`` acts on its own). Nothing else is guessed: when none of these
gives a folder, the caller gets every place that was tried.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from shimgen.errors import ShimgenError


class NoEnvironment(ShimgenError):
    """No environment was named and none was found: a usage error (exit code 2), not a failure."""


@dataclass(frozen=True)
class Choice:
    """The chosen environment and why it was chosen (for messages such as 'using .venv (project)')."""

    prefix: Path
    reason: str
    tried: tuple[str, ...] = field(default=(), compare=False)


class _ThisProcess:
    """The default of ``own_prefix``: the virtual environment this Python runs in, if any."""


THIS_PROCESS = _ThisProcess()


def choose_environment(
    prefix: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    own_prefix: Path | _ThisProcess | None = THIS_PROCESS,
) -> Choice:
    """The environment to act on; :class:`NoEnvironment` listing what was tried when there is none.

    ``environ``, ``cwd`` and ``own_prefix`` default to this process's (the
    parameters exist so the rules can be tested without changing them);
    ``own_prefix=None`` means shimgen runs in no virtual environment.
    """
    environ = os.environ if environ is None else environ
    cwd = Path.cwd() if cwd is None else cwd
    own: Path | None
    if isinstance(own_prefix, _ThisProcess):
        own = Path(sys.prefix) if sys.prefix != sys.base_prefix else None
    else:
        own = own_prefix
    tried: list[str] = []
    if prefix is not None:
        return Choice(_existing(prefix, "--prefix"), "--prefix")
    tried.append("--prefix (not given)")
    active = environ.get("VIRTUAL_ENV")
    if active:
        return Choice(_existing(Path(active), "VIRTUAL_ENV"), "VIRTUAL_ENV")
    tried.append("VIRTUAL_ENV (not set)")
    project = _project_environment(cwd, environ.get("UV_PROJECT_ENVIRONMENT"), tried)
    if project is not None:
        return Choice(project, "project", tuple(tried))
    if own is not None and (own / "pyvenv.cfg").is_file():
        return Choice(own, "shimgen's own environment", tuple(tried))
    tried.append("shimgen's own environment (shimgen is not installed in a virtual environment)")
    raise NoEnvironment(
        "no environment chosen; tried: " + "; ".join(tried),
        hint="pass --prefix DIR, activate a virtual environment, or run from a project with a .venv",
    )


def _project_environment(cwd: Path, uv_setting: str | None, tried: list[str]) -> Path | None:
    """The nearest project's environment, from ``cwd`` upward: uv's setting, else ``.venv``."""
    for folder in (cwd, *cwd.parents):
        if uv_setting and (folder / "pyproject.toml").is_file():
            candidate = Path(uv_setting) if os.path.isabs(uv_setting) else folder / uv_setting
            if _is_environment(candidate):
                return candidate
            tried.append(f"UV_PROJECT_ENVIRONMENT={uv_setting} for {folder} (no environment there)")
            return None
        if _is_environment(folder / ".venv"):
            return folder / ".venv"
    tried.append(f"a .venv in {cwd} or a folder above it (none)")
    return None


def _is_environment(folder: Path) -> bool:
    return (folder / "pyvenv.cfg").is_file()


def _existing(prefix: Path, source: str) -> Path:
    if not prefix.is_dir():
        raise ShimgenError(
            f"environment prefix is not an existing folder (from {source})",
            path=prefix,
            hint="check --prefix" if source == "--prefix" else f"check {source}, or pass --prefix DIR",
        )
    return prefix
