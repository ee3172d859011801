"""What sits in ``Scripts`` (Windows) or ``bin`` (POSIX) for each command, and how it changes.

Two implementations of one protocol (shims.base.Shims): launchers that read a
link record (shims.windows) and symlinks into the store (shims.posix). Either
way a shim shimgen did not make (a real program pip put there, say) is
*foreign*: shimgen never overwrites it unless told to adopt it.
"""

from shimgen.shims.base import Shims, ShimState, Wanted, foreign_shim_error
from shimgen.shims.posix import PosixShims
from shimgen.shims.windows import WindowsShims

__all__ = ["PosixShims", "ShimState", "Shims", "Wanted", "WindowsShims", "foreign_shim_error"]
