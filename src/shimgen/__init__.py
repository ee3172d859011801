"""shimgen: launchers that keep Windows environments upgradable while their tools run.

A launcher in ``Scripts`` never contains the tool it starts: it reads a small link
record and starts the current entry of a versioned store, so an installer replaces
the record, never a running executable. See README.md for the layout and formats.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shimgen.entrypoints import EntryPoint
    from shimgen.errors import ShimgenError
    from shimgen.generate import generate_launchers, load_entry_points
    from shimgen.launcher import (
        FileKind,
        LauncherInfo,
        identify,
        launcher_bytes,
        resolve_launcher,
        stub_bytes,
        write_launcher,
    )
    from shimgen.linkrecord import LauncherConfig, LinkRecord
    from shimgen.pe import Arch

# The public names, imported on first use (PEP 562): ``shimgen --version`` and every wrapped
# installer call would otherwise pay for pefile and the rest on each start.
_HOMES = {
    "EntryPoint": "entrypoints",
    "load_entry_points": "generate",
    "ShimgenError": "errors",
    "generate_launchers": "generate",
    "FileKind": "launcher",
    "LauncherInfo": "launcher",
    "identify": "launcher",
    "launcher_bytes": "launcher",
    "resolve_launcher": "launcher",
    "stub_bytes": "launcher",
    "write_launcher": "launcher",
    "LauncherConfig": "linkrecord",
    "LinkRecord": "linkrecord",
    "Arch": "pe",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'shimgen' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"shimgen.{home}"), name)
    globals()[name] = value
    return value


__version__ = "0.1.0.dev0"

__all__ = [
    "Arch",
    "EntryPoint",
    "FileKind",
    "LauncherConfig",
    "LauncherInfo",
    "LinkRecord",
    "ShimgenError",
    "__version__",
    "generate_launchers",
    "identify",
    "launcher_bytes",
    "load_entry_points",
    "resolve_launcher",
    "stub_bytes",
    "write_launcher",
]
