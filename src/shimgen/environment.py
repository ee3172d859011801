"""The environment as pip sees it: where a wheel's parts go, what is installed, what RECORD names.

Read-only. RECORD paths are confined here, once, for every caller: a RECORD is
text another tool wrote, and nothing is ever deleted or rewritten through a
path that leaves the environment.
"""

from __future__ import annotations

import csv
import functools
import io
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from shimgen.errors import PathRefused, ShimgenError, quoted
from shimgen.paths import is_environment_file as is_environment_file
from shimgen.paths import normalize_dist
from shimgen.pe import Arch
from shimgen.store import WINDOWS, Layout
from shimgen.tags import pyvenv_version

PLATFORMS = {"win_amd64": Arch.X64, "win32": Arch.X86, "win_arm64": Arch.ARM64}


@dataclass(frozen=True)
class Scheme:
    """Where each part of a wheel goes in one environment (the install scheme), and its Python."""

    prefix: Path
    lib: Path  # purelib and platlib: one site-packages in a virtual environment
    scripts: Path
    headers: Path
    windows: bool

    @property
    def interpreter(self) -> str:
        return "Scripts/python.exe" if self.windows else "bin/python"

    @property
    def gui_interpreter(self) -> str:
        return "Scripts/pythonw.exe" if self.windows else "bin/python"

    def folder(self, key: str, dist: str) -> Path:
        """The folder for a ``<name>.data/<key>/`` subtree."""
        if key in ("purelib", "platlib"):
            return self.lib
        if key == "scripts":
            return self.scripts
        if key == "headers":
            return self.headers / dist
        if key == "data":
            return self.prefix
        raise ShimgenError(f"wheel has an unknown .data folder {key!r}")


def scheme_for(prefix: Path, layout: Layout) -> Scheme:
    if layout.kind == WINDOWS:
        return Scheme(prefix, prefix / "Lib" / "site-packages", prefix / "Scripts", prefix / "Include", True)
    version = _posix_python_version(prefix)
    return Scheme(
        prefix,
        prefix / "lib" / f"python{version}" / "site-packages",
        prefix / "bin",
        prefix / "include" / "site" / f"python{version}",
        False,
    )


def _posix_python_version(prefix: Path) -> str:
    """X.Y of the environment's Python: from pyvenv.cfg, else its lib folder, else the running Python."""
    version = pyvenv_version(prefix)
    if version is not None:
        return f"{version[0]}.{version[1]}"
    found = sorted((prefix / "lib").glob("python3.*")) if (prefix / "lib").is_dir() else []
    if len(found) == 1:
        return found[0].name[len("python") :]
    return f"{sys.version_info[0]}.{sys.version_info[1]}"


def platform_layout(platform: str | None) -> tuple[str | None, str | None]:
    """``--platform win_amd64`` and friends as (layout, arch); None lets the store decide."""
    if platform is None:
        return None, None
    if platform not in PLATFORMS:
        raise ShimgenError(f"unknown platform {platform!r}", hint=f"use one of {', '.join(PLATFORMS)}")
    return WINDOWS, PLATFORMS[platform].value


@dataclass
class Installed:
    """A distribution found in site-packages: its dist-info folder and its RECORD.

    RECORD's paths are confined when first asked for, so reading every
    distribution of an environment (``sync`` after each pip install) costs a
    parse, not a check of every row.
    """

    dist: str
    version: str
    dist_info: Path
    installer: str
    rows: list[list[str]] = field(repr=False)  # RECORD's rows as written, in its order
    scheme: Scheme = field(repr=False)

    @property
    def record(self) -> Path:
        return self.dist_info / "RECORD"

    @property
    def rows_complete(self) -> bool:
        """Every row has RECORD's three fields (uv refuses a RECORD whose last line was cut short)."""
        return all(len(row) == 3 for row in self.rows)

    @property
    def unfinished(self) -> str | None:
        """Why this looks like an install that stopped halfway, or None.

        pip writes RECORD last; uv copies the wheel's own RECORD in first and moves
        ``NAME-VERSION.data/`` out of site-packages as it finishes.
        """
        if not self.record.is_file():
            return "its .dist-info has no RECORD"
        data = self.dist_info.name[: -len(".dist-info")] + ".data/"
        if any(row[0].startswith(data) for row in self.rows):
            return f"its RECORD still lists {data}, which an installer moves away as it finishes"
        if not self.rows_complete:
            return "its RECORD is cut short in the middle of a line"
        listed = {row[0] for row in self.rows}
        if not {f"{self.dist_info.name}/METADATA", f"{self.dist_info.name}/RECORD"} <= listed:
            return "its RECORD is cut short (it does not list METADATA and itself)"  # uv writes it in place
        return None

    @functools.cached_property
    def files(self) -> list[Path]:
        """Every path RECORD names, one per row in its order; PathRefused if one leaves the environment."""
        return [_confined(self.scheme, row[0], self.record) for row in self.rows]

    @functools.cached_property
    def beyond_lib(self) -> list[Path]:
        """The paths RECORD names outside site-packages (commands in Scripts or bin, data), confined.

        Only a row with ``..``, a root or a drive can leave site-packages by its text.
        """
        return [
            _confined(self.scheme, row[0], self.record)
            for row in self.rows
            if ".." in row[0] or row[0].startswith(("/", "\\")) or ":" in row[0]
        ]


def judged(versions: list[Installed]) -> Installed:
    """The .dist-info a distribution is judged by when it has several: an unfinished one first (an
    installer stopped there, beside the old one), else the first."""
    return next((v for v in versions if v.unfinished), versions[0])


def empty_dist_infos(scheme: Scheme) -> list[Path]:
    """``.dist-info`` folders with nothing in them: an installer killed right after making one."""
    if not scheme.lib.is_dir():
        return []
    return sorted(f for f in scheme.lib.glob("*.dist-info") if f.is_dir() and not any(f.iterdir()))


def find_installed(scheme: Scheme, dist: str, version: str | None = None) -> Installed | None:
    """The installed ``dist`` (of ``version``, if given), or None."""
    found = [i for i in installed_versions(scheme, dist) if version is None or i.version == version]
    return found[0] if found else None


def installed_versions(scheme: Scheme, dist: str) -> list[Installed]:
    """Every .dist-info of ``dist`` in site-packages (more than one when an installer left old ones)."""
    return all_installed(scheme, only=dist).get(dist, [])


def all_installed(scheme: Scheme, *, only: str | None = None) -> dict[str, list[Installed]]:
    """Every distribution in site-packages by normalised name, each with its .dist-info folders.

    One listing of site-packages for all of them; ``only`` skips reading the others' RECORDs.
    """
    found: dict[str, list[Installed]] = {}
    if not scheme.lib.is_dir():
        return found
    for folder in sorted(scheme.lib.glob("*.dist-info")):
        name, _, version = folder.name[: -len(".dist-info")].rpartition("-")
        try:
            dist = normalize_dist(name)
        except ShimgenError:
            continue
        if only is not None and dist != only:
            continue
        if not any(folder.iterdir()):
            continue  # an empty folder an installer made and never filled: no distribution
        rows = []
        record = folder / "RECORD"
        if record.is_file():
            text = record.read_text(encoding="utf-8", errors="replace")
            rows = [row for row in csv.reader(io.StringIO(text)) if row]
        marker = folder / "INSTALLER"
        installer = marker.read_text("utf-8", errors="replace").strip() if marker.is_file() else ""
        found.setdefault(dist, []).append(Installed(dist, version, folder, installer, rows, scheme))
    return found


@functools.lru_cache(maxsize=4096)
def _realpath(folder: Path) -> str:
    """``os.path.realpath``, once per folder: a RECORD of 30,000 rows, or a wheel of as many
    files, names a few hundred folders.

    (Cached for the process: shimgen runs one command per process, and what it
    creates itself is never a link.)
    """
    return os.path.realpath(folder)


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder + os.sep)


def _dist_info_of(folder: str, dist: str) -> bool:
    """Whether ``folder`` (``name-version.dist-info``) is a metadata folder of ``dist``."""
    name = folder[: -len(".dist-info")].rpartition("-")[0]
    try:
        return normalize_dist(name) == dist
    except ShimgenError:
        return False


def _confined(scheme: Scheme, recorded: str, record: Path) -> Path:
    """A RECORD path resolved against site-packages; refused if it leaves the environment.

    Both by its text (``..``) and by where it really is: a folder on the way may be a
    symlink or junction that leads out of the prefix, and nothing is ever deleted
    through one (pip compares real paths the same way).
    """
    if "\0" in recorded:
        raise PathRefused(f"RECORD names an impossible path: {quoted(recorded)}", path=record)
    path = Path(os.path.normpath(scheme.lib / recorded.replace("\\", "/")))
    inside = str(scheme.prefix) + os.sep
    if (
        not str(path).startswith(inside)
        or path in (scheme.lib, scheme.prefix)
        or not _within(_realpath(path.parent), _realpath(scheme.prefix))
    ):
        raise PathRefused(
            f"RECORD names a file outside the environment: {quoted(recorded)}",
            path=record,
            hint="that RECORD was changed by hand or by another tool; fix or remove that row",
        )
    return path
