"""The shims protocol: what the store asks of ``Scripts`` launchers and ``bin`` symlinks alike.

The store changes commands in two phases (prepare every new shim under a
temporary name, then commit them by renames), so the protocol is shaped the
same way: ``prepare_all`` writes temporaries and ``commit`` renames one into
place. Each layout has one implementation (shims.windows, shims.posix); the
store picks it once (store.layout.make_shims) and never asks which it got.
"""

from __future__ import annotations

import contextlib
import enum
import os
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Protocol

from shimgen.errors import ShimgenError
from shimgen.linkrecord import LinkRecord

Wanted = dict[str, tuple[LinkRecord, bool]]  # command -> (its link record, GUI)


class ShimState(enum.Enum):
    OK = "ok"
    MISSING = "missing"
    STALE = "stale"  # made by shimgen, but not what this command needs now
    FOREIGN = "foreign"  # not made by shimgen: never touched


class Shims(Protocol):
    """The shims of one environment's command folder."""

    @property
    def folder(self) -> Path:
        """``Scripts`` or ``bin``."""
        ...

    def path(self, command: str) -> Path:
        """Where the shim of ``command`` lives."""
        ...

    def shim_bytes(self, gui: bool) -> bytes | None:
        """The bytes RECORD hashes for a shim; None for a shim with no bytes of its own."""
        ...

    def state(self, command: str, record: LinkRecord | None, gui: bool) -> ShimState:
        """Whether the shim of ``command`` is what ``record`` needs (None: any shimgen shim is OK)."""
        ...

    def prepare_all(
        self, wanted: Wanted, *, take_over: Collection[str] = (), sync: bool = True
    ) -> dict[str, Path]:
        """New shims for the commands whose shims are not right, under temporary names (command -> path).

        A foreign file in the way is an error unless its command is in ``take_over``
        (adopt). The folder must exist. Nothing is left behind if this fails.
        ``sync=False`` leaves the flush to the caller (see fsutil.DEFER_FILE_SYNC).
        """
        ...

    def commit(self, command: str, temporary: Path, trash: Path) -> None:
        """Rename a prepared shim into place; the caller fsyncs the folder."""
        ...

    def remove(self, command: str, trash: Path) -> bool:
        """Take away the shim of ``command`` if shimgen made it; True if it did."""
        ...

    def present(self) -> dict[str, Path]:
        """Every shim shimgen made in the folder, by command name."""
        ...


@contextlib.contextmanager
def removed_on_error(temporaries: dict[str, Path]) -> Iterator[None]:
    """A batch that fails while being prepared leaves none of its temporaries behind."""
    try:
        yield
    except BaseException:
        for temporary in temporaries.values():
            with contextlib.suppress(OSError):
                os.unlink(temporary)
        raise


def foreign_shim_error(path: Path) -> ShimgenError:
    return ShimgenError(
        "a file shimgen did not make is in the way of a command's shim",
        path=path,
        hint="another installer put it there; remove that package's copy first "
        "(or let 'shimgen adopt' take it over), then retry",
    )
