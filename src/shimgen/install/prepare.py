"""Installing wheels the CLI is given: every wheel checked in full before the first is written."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from shimgen.environment import (
    platform_layout,
)
from shimgen.errors import ShimgenError
from shimgen.install.installation import Installation, InstallResult
from shimgen.store import WINDOWS, Store
from shimgen.tags import check_wheel_fits, environment_machines, environment_python
from shimgen.wheelfile import WheelFile

Progress = Callable[[int], None]


def install_wheel(
    store: Store,
    wheel: Path | WheelFile,
    *,
    platform: str | None = None,
    progress: Progress | None = None,
) -> InstallResult:
    """Install or upgrade one wheel; the environment's running tools are never touched.

    Everything is checked before the first file is written: the wheel against
    its RECORD, its tags against the environment, every file's destination,
    and its commands against the environment (see :func:`prepare_install`).
    ``wheel`` is a path, or a :class:`WheelFile` the caller opened.
    ``progress`` is called with the bytes read: :func:`progress_total` for an
    unverified wheel, half of it for a verified one.
    """
    if isinstance(wheel, WheelFile):
        return prepare_install(store, wheel, platform=platform, progress=progress).run(progress)
    with WheelFile(wheel) as opened:
        return prepare_install(store, opened, platform=platform, progress=progress).run(progress)


def progress_total(wheel: WheelFile) -> int:
    """What :func:`install_wheel` reports progress against: every byte is read to verify, then to install."""
    return 2 * wheel.uncompressed_size


def check_fits(store: Store, wheel: WheelFile, platform: str | None = None) -> None:
    """Refuse a wheel built for another OS, architecture or Python than the environment's (see tags)."""
    kind, arch = platform_layout(platform)
    layout = store.planned_layout(kind, arch)
    check_wheel_fits(
        wheel.path.name,
        wheel.python_tag,
        wheel.abi_tag,
        wheel.platform,
        windows_arch=layout.arch if layout.kind == WINDOWS else None,
        version=environment_python(store.prefix),
        machines=None if layout.kind == WINDOWS else environment_machines(store.prefix),
    )


@dataclass
class PreparedInstall:
    """A wheel checked in full against an environment, ready to install: nothing written yet."""

    wheel: WheelFile
    installation: Installation
    library: list[tuple[str, Path]]  # (member, checked destination) of the files for site-packages etc.

    def run(self, progress: Progress | None = None) -> InstallResult:
        """Write the library files, then publish and make RECORD true (see Installation.finalize)."""
        wheel, installation = self.wheel, self.installation
        installation.planned_folders = {destination.parent for _, destination in self.library}
        with installation:
            for member, destination in self.library:
                data = wheel.read(member)
                installation.write_to(destination, data, executable=_is_executable(wheel, member))
                if progress:
                    progress(len(data))
            return installation.finalize(wheel.version, wheel.dist_info)


def prepare_install(
    store: Store, wheel: WheelFile, *, platform: str | None = None, progress: Progress | None = None
) -> PreparedInstall:
    """Check everything about installing ``wheel`` into ``store``'s environment; write nothing.

    The CLI prepares every wheel it is given before it installs the first.
    """
    check_fits(store, wheel, platform)
    installation = Installation(store, wheel.dist, platform=platform)
    library: list[tuple[str, Path]] = []
    for member in wheel.members:
        if member.startswith(f"{wheel.data_dir}/"):
            key, _, path = member[len(wheel.data_dir) + 1 :].partition("/")
            installation.scheme.folder(key, wheel.dist)  # an unknown .data folder fails here, early
        elif member == f"{wheel.dist_info}/RECORD" or member.endswith((".jws", ".p7s")):
            if progress:
                progress(wheel.info(member).file_size)  # verified, not installed: RECORD is rewritten
            continue
        else:
            key, path = ("purelib" if wheel.root_is_purelib else "platlib"), member
        destination = installation.destination(key, path)
        if destination is None:  # a script: into the store entry
            data = wheel.read(member)
            installation.write_file(key, path, data)  # only collected: nothing is written yet
            if progress:
                progress(len(data))
        else:
            library.append((member, destination))
    # Every member is checked against RECORD before anything is written: the scripts as they
    # were read above (they are held whole, for the store entry), the rest here.
    wheel.verify(progress)
    for point in wheel.entry_points():
        installation.add_entry_point(point)
    installation.check(wheel.version)
    return PreparedInstall(wheel, installation, library)


def _is_executable(wheel: WheelFile, member: str) -> bool:
    return bool((wheel.info(member).external_attr >> 16) & 0o111)


def prepare_installs(
    store: Store, wheels: list[WheelFile], *, platform: str | None = None, progress: Progress | None = None
) -> list[PreparedInstall]:
    """Check every wheel in full, and the wheels against each other, before the first is installed.

    One wheel per distribution, no command given by two of them (as the
    environment's filesystem compares names), each wheel as :func:`prepare_install`
    checks it. An error about one of several wheels says which one.
    """
    _refuse_repeated_dists(wheels)
    prepared = []
    for wheel in wheels:
        with naming(wheel):
            prepared.append(prepare_install(store, wheel, platform=platform, progress=progress))
    _refuse_shared_commands(store, prepared)
    return prepared


@contextlib.contextmanager
def naming(wheel: WheelFile) -> Iterator[None]:
    """Errors about one of several wheels say which one."""
    try:
        yield
    except ShimgenError as error:
        if error.path is None or wheel.path.name not in f"{error.message} {error.path}":
            error.message = f"{wheel.path.name}: {error.message}"
        raise


def _refuse_repeated_dists(wheels: list[WheelFile]) -> None:
    seen: dict[str, WheelFile] = {}
    for wheel in wheels:
        if wheel.dist in seen:
            raise ShimgenError(
                f"{wheel.dist} is given twice ({seen[wheel.dist].path.name} and {wheel.path.name})",
                path=wheel.path,
                hint="give one wheel per distribution",
            )
        seen[wheel.dist] = wheel


def _refuse_shared_commands(store: Store, prepared: list[PreparedInstall]) -> None:
    """No two of the wheels may bring the same command (as the environment's filesystem compares names)."""
    owners: dict[str, PreparedInstall] = {}
    for ready in prepared:
        key = store.command_keys(ready.installation.layout)
        for command in ready.installation.commands():
            other = owners.setdefault(key(command.name), ready)
            if other is not ready:
                raise ShimgenError(
                    f"both {other.wheel.path.name} and {ready.wheel.path.name} provide the command "
                    f"{command.name!r}",
                    path=ready.wheel.path,
                    hint="install one of them",
                )
