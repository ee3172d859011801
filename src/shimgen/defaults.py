"""Values the command line needs to describe itself, in a module that imports nothing.

``shimgen --help`` or ``--version``, and every command's option parsing, read
these before any work starts, so they must not pull in the store or pefile
(a wrapped ``uv`` call pays shimgen's start-up each time).
"""

from enum import Enum

DEFAULT_LOCK_TIMEOUT = 60.0
DEFAULT_KEEP = 1


class LayoutKind(str, Enum):
    """The two kinds of environment: Windows launchers in Scripts, or POSIX symlinks in bin.

    (Not a wheel's platform tag, such as ``win_amd64``: that one says which CPU and OS.)
    """

    WINDOWS = "windows"
    POSIX = "posix"

    def __str__(self) -> str:
        return self.value


WINDOWS, POSIX = LayoutKind.WINDOWS, LayoutKind.POSIX
ARCHES = ("x86", "x64", "arm64")  # shimgen.pe.Arch's values (a test keeps them equal)
PLATFORM_TAGS = ("win_amd64", "win32", "win_arm64")  # shimgen.environment.PLATFORMS' keys (likewise)
