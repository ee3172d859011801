"""shimgen: launchers that keep Windows environments upgradable while their tools run.

A launcher in ``Scripts`` never contains the tool it starts: it reads a small link
record and starts the current entry of a versioned store, so an installer replaces
the record, never a running executable. See README.md for the layout and formats.
"""

from shimgen.entrypoints import EntryPoint, load_entry_points
from shimgen.errors import ShimgenError
from shimgen.generate import generate_launchers
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
