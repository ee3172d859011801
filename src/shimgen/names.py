"""Distribution names and versions, made safe to use as folder names in the store.

A store path is ``.shimgen/store/<dist>/<version>-<digest>``. Both parts come
from wheels, command lines and metadata written by other tools, so they are
checked here before they ever reach the filesystem: a name that is not a valid
distribution name, or a version that is not a plain token, is refused rather
than "cleaned up" into something that might collide or escape.
"""

from __future__ import annotations

import re

from shimgen.errors import PathRefused
from shimgen.linkrecord import check_relative_path

# PEP 508 names: letters, digits, and ".-_" inside.
_DIST_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
# PEP 440 versions and the legacy ones still found in the wild use no other characters.
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+!_-]*$")
MAX_TOKEN_LENGTH = 100


def normalize_dist(name: str) -> str:
    """The PEP 503 normalised form of distribution ``name``; raise PathRefused if it is not one."""
    if len(name) > MAX_TOKEN_LENGTH or not _DIST_NAME.match(name):
        raise PathRefused(
            f"invalid distribution name {name!r}",
            hint="a distribution name is letters, digits and '.-_' inside (PEP 508), "
            f"at most {MAX_TOKEN_LENGTH} characters",
        )
    normalized = re.sub(r"[-_.]+", "-", name).lower()
    _check_folder_name(normalized, f"distribution name {name!r}")
    return normalized


def check_version(version: str) -> str:
    """Return ``version`` if it is a plain version token usable in a folder name; raise PathRefused."""
    if len(version) > MAX_TOKEN_LENGTH or not _VERSION.match(version):
        raise PathRefused(
            f"invalid version {version!r}",
            hint="a version is letters, digits and '.+!_-' (PEP 440), "
            f"starting with a letter or digit, at most {MAX_TOKEN_LENGTH} characters",
        )
    _check_folder_name(version, f"version {version!r}")
    return version


def _check_folder_name(name: str, what: str) -> None:
    try:
        check_relative_path(name, windows=False)  # the Windows rules: at publish, for Windows layouts
    except PathRefused as error:
        raise PathRefused(f"invalid {what}: {error.message.split(': ', 1)[1]}") from None


# What a virtual environment's own Scripts (bin) folder holds, by venv, virtualenv and uv: the
# interpreters, the DLLs a copied Python needs, and the activation scripts.
_ENVIRONMENT_FILE = re.compile(
    r"(?i)^(pythonw?(\d+(\.\d+)?t?)?(\.exe)?|python\d*t?\.dll|vcruntime\d+(_\d+)?\.dll"
    r"|activate(\..*|_this\.py)?|deactivate(\.bat)?|pydoc(\.bat)?)$"
)


def is_environment_file(name: str) -> bool:
    """Whether a file named ``name`` in Scripts (or bin) belongs to the environment itself, never to
    a distribution: ``python.exe``, ``pythonw.exe``, ``python3.13``, ``python313.dll``, ``activate``,
    ``Activate.ps1``, ``deactivate.bat``. Whatever a RECORD says, shimgen never adopts or
    replaces these: moving the interpreter into the store would leave the environment dead."""
    return bool(_ENVIRONMENT_FILE.match(name))
