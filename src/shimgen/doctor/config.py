"""The layout doctor judges everything else by: config.json, lost, unreadable, or contradicting what
the environment's shims and interpreter show (then rewritten by what they show)."""

from __future__ import annotations

import os

from shimgen import fsutil
from shimgen.doctor.findings import Finding
from shimgen.errors import NewerFormat, ShimgenError
from shimgen.launcher import identify
from shimgen.pe import Arch
from shimgen.store import POSIX, WINDOWS, Layout, Store, make_shims


def config_problem(store: Store) -> Finding | None:
    """A config.json that cannot be read, or contradicts the environment; None when it is sound."""
    try:
        store.layout()
    except ShimgenError as error:
        return _config_finding(store, error)
    return _contradicted_config(store)


def _config_finding(store: Store, error: ShimgenError) -> Finding:
    """A lost config can be rewritten from what the shims folder shows: launchers of one arch, or symlinks."""
    if isinstance(error, NewerFormat):
        return Finding("config", store.config_path, error.message, None, hint=error.hint)
    layout = _layout_shown(store)
    if layout is None:
        return Finding(
            "config", store.config_path, error.message, None, hint="set it up again with --platform/--arch"
        )
    return _rewrite_config(store, layout, error.message)


def _contradicted_config(store: Store) -> Finding | None:
    """config.json names one layout while the shims and the interpreter show the other.

    Trusted blindly, a POSIX environment marked "windows" got Scripts\\*.exe written beside its
    bin/ symlinks by doctor --fix, which then reported nothing left to do.
    """
    shown = _layout_shown(store)
    recorded = store.layout()
    if shown is None or shown.kind == recorded.kind:
        return None
    message = (
        f"config.json says {recorded.kind}, but the shims and the interpreter show a {shown.kind} environment"
    )
    return _rewrite_config(store, shown, message)


def _layout_shown(store: Store) -> Layout | None:
    """The layout what is on disk shows: shimgen's launchers of one arch, or its symlinks, else the
    environment's interpreter (Scripts\\python.exe or bin/python)."""
    for candidate in (Layout(WINDOWS, arch) for arch in Arch):
        launchers = make_shims(store.prefix, candidate).present()
        if launchers and all(identify(p.read_bytes()).arch is candidate.arch for p in launchers.values()):
            return candidate
    if make_shims(store.prefix, Layout(POSIX)).present():
        return Layout(POSIX)
    windows_python = (store.prefix / "Scripts" / "python.exe").is_file()
    posix_python = os.path.lexists(store.prefix / "bin" / "python")
    if posix_python and not windows_python:
        return Layout(POSIX)
    return None  # a Windows interpreter alone does not tell the launchers' architecture


def _rewrite_config(store: Store, layout: Layout, message: str) -> Finding:
    def rewrite() -> None:
        fsutil.atomic_write(store.config_path, layout.to_bytes())
        store.forget_layout()

    described = layout.kind + (f" {layout.arch.value}" if layout.arch else "")
    return Finding(
        "config",
        store.config_path,
        message,
        f"rewrite it ({described}, as the environment shows)",
        action=rewrite,
    )
