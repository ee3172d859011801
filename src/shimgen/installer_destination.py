"""A pypa/installer destination (``pip install shimgen[installer]``).

``installer.install(source, destination, additional_metadata)`` is the API
behind ``python -m installer``, and what poetry and pdm build on. With this
destination, the wheel's scripts and entry points go into shimgen's store and
get launchers (or symlinks), library files go to site-packages, and RECORD is
written true by shimgen::

    from installer import install
    from installer.sources import WheelFile
    from shimgen.installer_destination import ShimgenDestination

    with WheelFile.open("tool-1.0-py3-none-any.whl") as source:
        with ShimgenDestination("venv", source.distribution) as destination:
            install(source, destination, {})

The destination holds the environment's writer lock from the first file to
``finalize_installation`` (or to the end of the ``with`` block).
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterable
from typing import BinaryIO

from installer.destinations import WheelDestination
from installer.records import Hash, RecordEntry

from shimgen.entrypoints import EntryPoint
from shimgen.install import Installation, InstallResult
from shimgen.store import DEFAULT_LOCK_TIMEOUT, Store


class ShimgenDestination(WheelDestination):
    """Install into the environment at ``prefix``; ``platform`` as for ``shimgen install --platform``."""

    def __init__(
        self,
        prefix: str | os.PathLike[str],
        distribution: str,
        *,
        platform: str | None = None,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    ) -> None:
        self.installation = Installation(
            Store(prefix, lock_timeout=lock_timeout), distribution, platform=platform
        )
        self.result: InstallResult | None = None
        self._locked = False

    def __enter__(self) -> ShimgenDestination:
        self._lock()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._unlock()

    def _lock(self) -> None:
        if not self._locked:
            self.installation.__enter__()
            self._locked = True

    def _unlock(self) -> None:
        if self._locked:
            self._locked = False
            self.installation.__exit__(None, None, None)

    def write_script(self, name: str, module: str, attr: str, section: str) -> RecordEntry:
        self._lock()
        self.installation.add_entry_point(EntryPoint.parse(name, f"{module}:{attr}", gui=section == "gui"))
        # Provisional: the store entry's paths are known only once it is published;
        # finalize_installation writes the true RECORD.
        return RecordEntry(name, None, None)

    def write_file(
        self, scheme: str, path: str | os.PathLike[str], stream: BinaryIO, is_executable: bool
    ) -> RecordEntry:
        self._lock()
        data = stream.read()
        relative = os.fspath(path).replace("\\", "/")
        self.installation.write_file(scheme, relative, data, executable=is_executable)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        return RecordEntry(relative, Hash("sha256", digest), len(data))

    def finalize_installation(
        self, scheme: str, record_file_path: str, records: Iterable[tuple[str, RecordEntry]]
    ) -> None:
        self._lock()
        try:
            dist_info = record_file_path.replace("\\", "/").rpartition("/")[0]
            version = dist_info[: -len(".dist-info")].rpartition("-")[2]
            self.result = self.installation.finalize(version, dist_info)
        finally:
            self._unlock()
