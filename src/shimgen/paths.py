"""Every rule for a name that becomes a path, and the names of shimgen's own tree.

Names reach the filesystem from wheels, RECORDs, command lines and link records
that other tools wrote: distribution names and versions become store folders,
command names become launcher and link-record names, entry files become paths.
Each is checked here, once, before it is used, and refused rather than "cleaned
up" into something that might collide or escape. The rules only Windows needs
(device names, a trailing dot or space, ``<>"|?*``) apply where the layout is
Windows; the launcher (``launcher_stubs/launcher.c``) applies its own again.
"""

from __future__ import annotations

import functools
import re

from shimgen.errors import PathRefused

# The .shimgen tree of an environment (see docs/design.md, "The store"). Only shimgen.store
# joins these to a prefix; the launcher knows LINKS_DIR, and link records name STORE_DIR.
SHIMGEN_DIR = ".shimgen"
STORE_DIR = (SHIMGEN_DIR, "store")  # immutable entries: store/<dist>/<version>-<digest>/
LINKS_DIR = (SHIMGEN_DIR, "links")  # link records: what each command runs
DISTS_DIR, TRASH_DIR, INSTALLS_DIR = "dists", "trash", "installs"  # under SHIMGEN_DIR
CONFIG_NAME, LOCK_NAME, STASH_NAME = "config.json", "lock", "stash.json"
MANIFEST_NAME = ".shimgen-entry.json"  # in every entry
# An entry folder's name: a version token, "-", 16 hex digits of the digest. Nothing else is
# ever joined to the store path, so a state file cannot steer shimgen outside it.
ENTRY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+!_-]*-[0-9a-f]{16}$")


def version_of(entry_name: str) -> str:
    """The version an entry folder's name carries (``1.0-1a2b...`` -> ``1.0``)."""
    return entry_name.rsplit("-", 1)[0]


# One path component; Windows and most POSIX filesystems allow 255, and a
# launcher name still needs room for ".exe".
MAX_NAME_LENGTH = 200

# Names Windows maps to devices in every folder, with or without an extension.
_DEVICE_NAME = re.compile(
    r"^(con|prn|aux|nul|conin\$|conout\$|(com|lpt)[0-9\u00b9\u00b2\u00b3])( *)(\..*)?$", re.I
)
_FORBIDDEN_CHARACTERS = re.compile(r'[\x00-\x1f<>:"\\|?*]')
CONTROL_CHARACTER = re.compile(r"[\x00-\x1f]")


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
        problem = _component_problem(part, windows)
        if problem is not None:
            raise refuse(problem)
    return path


def _component_problem(part: str, windows: bool) -> str | None:
    """Why one component of a relative path is refused; None if it is fine."""
    if part in ("", ".", ".."):
        return "empty, '.' or '..' component"
    if len(part) > MAX_NAME_LENGTH:
        return f"a component is {len(part)} characters long (at most {MAX_NAME_LENGTH})"
    if CONTROL_CHARACTER.search(part):
        return f"control character in {part!r}"
    if ":" in part:  # a drive or a stream to the launcher, whatever the layout
        return f"reserved character in {part!r}"
    if not windows:
        return None
    if _FORBIDDEN_CHARACTERS.search(part):
        return f"reserved character in {part!r} (Windows)"
    if part[-1] in ". ":
        return f"{part!r} ends in a dot or space, which Windows drops"
    if _DEVICE_NAME.match(part):
        return f"{part!r} is a Windows device name"
    return None


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


# The core metadata's rule for a name: ASCII letters and digits, and ".-_" inside. packaging's
# (packaging.utils._validate_regex, as of 26.4), to the flags: without re.ASCII, IGNORECASE lets
# the Kelvin sign (U+212A) and the long s (U+017F) match [A-Z], and lower() turns them into "k"
# and "s" (packaging before 26 did so).
_DIST_NAME = re.compile(r"[a-z0-9]|[a-z0-9][a-z0-9._-]*[a-z0-9]", re.IGNORECASE | re.ASCII)
_SEPARATORS = re.compile(r"[-_.]+")
# PEP 440 versions and the legacy ones still found in the wild use no other characters.
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+!_-]*$")
MAX_TOKEN_LENGTH = 100


def normalize_dist(name: str) -> str:
    """The PEP 503 normalised form of distribution ``name``; raise PathRefused if it is not one.

    The same answer as ``packaging.utils.canonicalize_name(name, validate=True)`` (26.4; before
    26 it took Unicode look-alikes of ASCII letters), as tests/test_paths.py checks, plus a length
    limit and the folder rules, since the name becomes a store folder. Not a call to it:
    packaging.utils imports packaging.tags and logging, about 10 ms, and every sync normalises the
    name of every ``.dist-info`` in site-packages.
    """
    if len(name) > MAX_TOKEN_LENGTH or not _DIST_NAME.fullmatch(name):
        raise PathRefused(
            f"invalid distribution name {name!r}",
            hint="a distribution name is ASCII letters, digits and '.-_' inside (PEP 508), "
            f"at most {MAX_TOKEN_LENGTH} characters",
        )
    normalized = _SEPARATORS.sub("-", name).lower()
    _check_folder_name(normalized, f"distribution name {name!r}")
    return normalized


def check_version(version: str) -> str:
    """Return ``version`` if it is a version token usable in a folder name; raise PathRefused.

    Not only PEP 440 versions: a distribution pip installed before 24.1 may carry a legacy one
    (``1.14.0-unknown``, written ``1.14.0_unknown`` in its .dist-info's name). pip 24.1 and later
    ignore such a distribution without removing it; shimgen keeps its commands working, so a
    version here only has to be a safe folder name. Where pip insists on PEP 440, in a wheel's
    file name, shimgen does too (shimgen.wheelfile, through packaging).
    """
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
