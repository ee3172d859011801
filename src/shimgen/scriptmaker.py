"""A distlib ``ScriptMaker`` that puts scripts into shimgen's store and makes launchers for them.

For build tools that already drive distlib: ``maker.make("tool = pkg.cli:main")``
(and ``make("script-file")`` for a file in ``source_dir``) collect the entry
points and scripts of one distribution version; :meth:`ShimgenScriptMaker.finish`
publishes them as one store entry, points the commands at it, and makes the
distribution's RECORD true::

    maker = ShimgenScriptMaker("venv", "tool", "1.0")
    Wheel("tool-1.0-py3-none-any.whl").install(paths, maker)
    maker.finish()

Two facts of ``distlib.wheel.Wheel.install`` shape this: it leaves entry-point
launchers out of RECORD (``finish`` adds them, and the store files behind
them), and it copies ``.exe`` files from ``<name>.data/scripts/`` itself,
bypassing the maker. ``finish`` takes such freshly copied programs into the
store too, but an upgrade that has to overwrite a running one fails inside
distlib before shimgen is asked: use ``shimgen install`` (or the
pypa/installer destination) for wheels that carry Windows programs.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from distlib.scripts import ScriptMaker
from distlib.util import get_export_entry

from shimgen import fsutil
from shimgen.entrypoints import EntryPoint
from shimgen.environment import Installed, find_installed
from shimgen.errors import ShimgenError
from shimgen.install import Installation, InstallResult
from shimgen.store import DEFAULT_LOCK_TIMEOUT, Store


class ShimgenScriptMaker(ScriptMaker):  # type: ignore[misc]
    """Collects what a ScriptMaker would write; :meth:`finish` publishes it into the store."""

    def __init__(
        self,
        prefix: str | os.PathLike[str],
        distribution: str,
        version: str,
        *,
        platform: str | None = None,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    ) -> None:
        super().__init__(source_dir=None, target_dir=None, add_launchers=False)
        self.version = version
        self.installation = Installation(
            Store(prefix, lock_timeout=lock_timeout), distribution, platform=platform
        )

    def make(self, specification: str, options: dict[str, object] | None = None) -> list[str]:
        """Collect one entry point (``name = module:attr``) or one script file.

        Returns no file names: nothing is written until :meth:`finish` (distlib
        would otherwise try to chmod files that do not exist yet).
        """
        entry = get_export_entry(specification)
        if entry is None:
            if self.source_dir is None:
                raise ShimgenError(f"script {specification!r} given, but the maker has no source_dir")
            source = Path(self.source_dir, specification)
            try:
                data = source.read_bytes()
            except OSError as error:
                raise ShimgenError(f"cannot read script ({error.strerror})", path=source) from None
            self.installation.write_file("scripts", source.name, data)
            return []
        if entry.suffix is None:
            raise ShimgenError(f"entry point {specification!r} names no function (module:function)")
        gui = bool(options and options.get("gui"))
        point = EntryPoint.parse(entry.name, f"{entry.prefix}:{entry.suffix}", gui=gui)
        self.installation.add_entry_point(point)
        return []

    def finish(self) -> InstallResult:
        """Publish the collected scripts as one store entry and rewrite RECORD to list what is there."""
        installation = self.installation
        scheme = installation.scheme
        installed = find_installed(scheme, installation.dist, self.version)
        if installed is None:
            raise ShimgenError(
                f"{installation.dist} {self.version} is not installed in {scheme.lib}",
                hint="call finish() after Wheel.install(paths, maker)",
            )
        with installation:
            self._take_copied_programs(installed)
            self._keep_library_files(installed)
            return installation.finalize(self.version, installed.dist_info.name)

    def _take_copied_programs(self, installed: Installed) -> None:
        """Programs distlib copied into Scripts itself (it bypasses makers for .exe): into the entry."""
        scheme = self.installation.scheme
        collected = {f.path for f in self.installation.scripts}
        for path in installed.files:
            copied_program = path.parent == scheme.scripts and path.name.lower().endswith(".exe")
            if copied_program and path.name not in collected and path.is_file():
                self.installation.write_file("scripts", path.name, path.read_bytes())
                fsutil.move_aside(path, self.installation.store.trash_dir)

    def _keep_library_files(self, installed: Installed) -> None:
        """What distlib wrote to site-packages stays listed in RECORD, with its hash."""
        scheme = self.installation.scheme
        record = installed.dist_info / "RECORD"
        rows = list(csv.reader(io.StringIO(record.read_text(encoding="utf-8")))) if record.is_file() else []
        for row in rows:
            if not row:
                continue
            path = Path(os.path.normpath(scheme.lib / row[0]))
            if path.is_file() and path.parent != scheme.scripts and path.name != "RECORD":
                self.installation.written.append(path)
