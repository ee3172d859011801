"""``shimgen adopt``: turn an environment made by pip, uv or installer into a shimgen one.

After adoption the *next* upgrade is safe. For every file in ``Scripts`` (or
``bin``) that an installed distribution owns, per its RECORD:

- a native program goes into the store (hard-linked, so nothing is copied and
  nothing is lost if adoption is interrupted) and gets a launcher;
- a foreign launcher (distlib's, setuptools', uv's; see shimgen.foreign) is
  decoded and replaced by a launcher that runs the same entry point from the
  store, with the environment's own Python;
- the distribution's RECORD is rewritten to list what is there now.

Files owned by nothing are left alone and listed. Adopting twice changes
nothing the second time, and a plan can be shown without changing anything.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath

from shimgen import fsutil, pe
from shimgen.entry import Command, EntryFile
from shimgen.entrypoints import EntryPoint
from shimgen.environment import (
    Installed,
    Scheme,
    all_installed,
    is_environment_file,
    platform_layout,
    scheme_for,
)
from shimgen.errors import ShimgenError, quoted
from shimgen.foreign import ForeignLauncher, decode
from shimgen.launcher import FileKind, identify
from shimgen.record import follows_rule, owned_shims, rewritten_record
from shimgen.scripts import entry_point_script
from shimgen.store import Store

_NATIVE_MAGIC = (b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe")  # ELF, Mach-O 64, fat Mach-O


@dataclass
class Adoption:
    """What adopting one distribution does."""

    installed: Installed
    files: list[EntryFile] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)
    replaced: list[Path] = field(default_factory=list)  # files in Scripts that launchers replace
    companions: list[Path] = field(default_factory=list)  # setuptools' NAME-script.py, no longer needed
    described: list[str] = field(default_factory=list)


@dataclass
class AdoptReport:
    adoptions: list[Adoption] = field(default_factory=list)
    unowned: list[Path] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    # Dists already in the store whose RECORD does not list what the store holds for them
    # (an adoption interrupted between its publish and its RECORD): rewritten again.
    repairs: list[Installed] = field(default_factory=list)


def plan(
    store: Store,
    *,
    platform: str | None = None,
    site: dict[str, list[Installed]] | None = None,
    check_records: bool = True,
) -> AdoptReport:
    """What :func:`adopt` would do; reads only.

    ``site`` is site-packages as the caller just read it (sync reads it once for every step);
    ``check_records=False`` leaves the RECORD rule to the caller (sync checks it last).
    """
    kind, arch = platform_layout(platform)
    scheme = scheme_for(store.prefix, store.planned_layout(kind, arch))
    report = AdoptReport()
    site = all_installed(scheme) if site is None else site
    owners = _owners(site, report)
    adoptions: dict[str, Adoption] = {}
    companions = set()
    owned: dict[str, list[Path]] = {}
    for path in _candidates(scheme):
        installed = owners.get(path)
        data = path.read_bytes()
        if _is_shimgen(data):
            continue
        if installed is None:
            report.unowned.append(path)
            continue
        adoption = adoptions.setdefault(installed.dist, Adoption(installed))
        owned.setdefault(installed.dist, []).append(path)
        try:
            if scheme.windows:
                _plan_windows(scheme, path, data, adoption, report)
                companions.update(adoption.companions)
            else:
                _plan_posix(path, data, adoption)
        except ShimgenError as error:  # one odd file (a name no command may have): skip it alone
            report.skipped.append((path, error.message))
    report.unowned = [p for p in report.unowned if p not in companions]
    report.adoptions = [a for a in adoptions.values() if a.commands]
    adopting = {a.installed.dist for a in report.adoptions}
    if check_records:
        report.repairs = records_to_repair(store, {d: v[0] for d, v in site.items()}, adopting)
    for adoption in report.adoptions:
        _take_siblings(adoption, owned[adoption.installed.dist])
    return report


def _candidates(scheme: Scheme) -> list[Path]:
    """The files in Scripts/bin that might be adopted, in name order.

    Never a symlink (shimgen's own POSIX shims, or the venv's python), a temporary,
    or the environment's own files (its interpreter, DLLs and activation scripts).
    """
    if not scheme.scripts.is_dir():
        return []
    return sorted(
        path
        for path in scheme.scripts.iterdir()
        if path.is_file()
        and not path.is_symlink()
        and not fsutil.is_temporary_name(path.name)
        and not is_environment_file(path.name)
    )


def _plan_posix(path: Path, data: bytes, adoption: Adoption) -> None:
    """A native program or an executable script is kept as it is (hard-linked into the entry).

    A script's first line names the environment's Python by its absolute path, which runs
    from the store as well. Anything else (a data file) only goes beside them.
    """
    if not (data.startswith(_NATIVE_MAGIC) or (data.startswith(b"#!") and os.access(path, os.X_OK))):
        return
    adoption.commands.append(Command(path.name, path.name))
    adoption.files.append(EntryFile(path.name, path, True, link=True))
    adoption.replaced.append(path)
    kind = "script" if data.startswith(b"#!") else "native program"
    adoption.described.append(f"{path.name}: {kind}")


def _take_siblings(adoption: Adoption, owned: list[Path]) -> None:
    """The dist's other files in Scripts (DLLs, data) go beside its programs in the entry.

    A tool that looks for its siblings next to itself must find them in the store. They stay
    where they are as well, still listed in RECORD.
    """
    taken = {*adoption.replaced, *adoption.companions}
    for path in sorted(owned):
        if path not in taken:
            adoption.files.append(EntryFile(path.name, path, os.access(path, os.X_OK), link=True))


def _plan_windows(scheme: Scheme, path: Path, data: bytes, adoption: Adoption, report: AdoptReport) -> None:
    if not path.name.lower().endswith(".exe"):
        return  # data files and setuptools' -script.py companions are handled with their launcher
    name = path.name[:-4]
    foreign = decode(path, data)
    if foreign is None:
        info = pe.read_pe_info(data[: 1 << 16])
        if info is None:
            report.skipped.append((path, "named .exe but not a Windows program"))
            return
        command = Command(name, path.name, info.gui)
        adoption.files.append(EntryFile(path.name, path, True, link=True))
        adoption.commands.append(command)
        adoption.replaced.append(path)
        adoption.described.append(f"{path.name}: native program")
        return
    if foreign.script_text is None:
        what = "a proxy for a Python interpreter" if foreign.kind == "uv" else "its script could not be read"
        report.skipped.append((path, f"{foreign.kind} launcher: {what}"))
        return
    other = _other_python(foreign, path, scheme)
    if other is not None:
        report.skipped.append((path, other))
        return
    script = f"{name}-script.pyw" if foreign.gui else f"{name}-script.py"
    interpreter = scheme.gui_interpreter if foreign.gui else scheme.interpreter
    command = Command(name, script, foreign.gui, interpreter)
    if foreign.module and foreign.attr:  # exactly a known template: shimgen's own script runs the same call
        point = EntryPoint.parse(name, f"{foreign.module}:{foreign.attr}", gui=foreign.gui)
        adoption.files.append(EntryFile(script, entry_point_script(point, None)))
    else:  # anything else runs as it is: adopting never changes what a command runs
        adoption.files.append(EntryFile(script, foreign.script_text.encode()))
    adoption.commands.append(command)
    adoption.replaced.append(path)
    if foreign.script is not None:
        adoption.companions.append(foreign.script)
    adoption.described.append(f"{path.name}: {foreign.describes}")


def _other_python(foreign: ForeignLauncher, launcher: Path, scheme: Scheme) -> str | None:
    """Why the launcher's Python is not this environment's own (then it is left alone), or None.

    The new launcher runs ``Scripts\\python.exe`` of this environment; a launcher
    pip made for a base Python (``C:\\Python311\\python.exe``) or another
    environment must not silently change interpreter, nor point at one that is
    not there.
    """
    own = scheme.prefix / scheme.interpreter
    if not own.is_file():
        return f"this environment has no {scheme.interpreter} for its launcher to run"
    text = (foreign.interpreter or "").strip().strip('"')
    if not text:
        return None  # no interpreter recorded: the launcher's own folder's Python, which is ours
    windows = PureWindowsPath(text)
    if windows.drive and os.name != "nt":
        # A Windows path seen from another OS cannot be looked at: judge it by its shape.
        if [p.lower() for p in windows.parts[-2:]] in (["scripts", "python.exe"], ["scripts", "pythonw.exe"]):
            return None
    else:
        candidate = Path(text) if windows.drive or text.startswith("/") else launcher.parent / text
        for ours in (own, scheme.prefix / scheme.gui_interpreter):
            # The same file, however spelled (case, junction, subst drive, 8.3 name).
            if os.path.normcase(os.path.abspath(candidate)) == os.path.normcase(os.path.abspath(ours)):
                return None
            with contextlib.suppress(OSError):
                if os.path.samefile(candidate, ours):
                    return None
    return f"it runs {quoted(text)}, not this environment's Python: left alone"


def _is_shimgen(data: bytes) -> bool:
    try:
        return identify(data).kind is FileKind.SHIMGEN_LAUNCHER
    except ShimgenError:
        return False


def _owners(site: dict[str, list[Installed]], report: AdoptReport) -> dict[Path, Installed]:
    """Which installed distribution owns each file outside site-packages, per RECORD.

    A RECORD that names a path outside the environment is not trusted at all:
    the distribution is named in the report and its files are owned by nothing.
    """
    owners: dict[Path, Installed] = {}
    for versions in site.values():
        for installed in versions:
            try:
                paths = installed.beyond_lib
            except ShimgenError as error:
                why = f"{error.message}; its files are treated as owned by nothing"
                report.skipped.append((installed.record, f"{installed.dist} {installed.version}: {why}"))
                continue
            for path in paths:
                owners.setdefault(path, installed)
    return owners


def records_to_repair(
    store: Store, installed: dict[str, Installed], skip: Collection[str] = ()
) -> list[Installed]:
    """Installed dists in the store whose RECORD does not follow the rule of shimgen.record.

    It misses a shim (an adoption interrupted before its RECORD), lists shimgen's
    own files (an older shimgen wrote it), or does not list the shims first. Only
    comparisons: nothing is hashed unless a RECORD is really rewritten, so
    running ``sync`` after every pip install stays cheap.
    """
    found = []
    for dist in store.dist_names() if store.initialized else []:
        candidate = installed.get(dist)
        if dist in skip or candidate is None or candidate.unfinished:
            continue  # an unfinished install's RECORD is the installer's to finish
        try:
            if not follows_rule(candidate.rows, owned_shims(store, dist), candidate.scheme.lib):
                found.append(candidate)
        except ShimgenError:
            continue  # doctor reports a damaged state or entry
    return found


def adopt(
    store: Store,
    *,
    dry_run: bool = False,
    platform: str | None = None,
    site: dict[str, list[Installed]] | None = None,
    check_records: bool = True,
) -> AdoptReport:
    """Adopt every owned program and foreign launcher in the environment (see the module docstring)."""
    report = plan(store, platform=platform, site=site, check_records=check_records)
    if dry_run:
        return report
    kind, arch = platform_layout(platform)
    scheme = scheme_for(store.prefix, store.planned_layout(kind, arch))
    with store.locked(create=True):
        for adoption in report.adoptions:
            installed = adoption.installed
            taken = [c.name for c in adoption.commands]
            store.publish(
                installed.dist,
                installed.version,
                adoption.files,
                adoption.commands,
                kind=kind,
                arch=arch,
                take_over=taken,
                installed=True,
            )
            for companion in adoption.companions:
                if companion.exists():
                    fsutil.move_aside(companion, store.trash_dir)
            rewrite_record(store, scheme, installed, dropped={*adoption.replaced, *adoption.companions})
        for installed in report.repairs:
            rewrite_record(store, scheme, installed, dropped=set())
    return report


def rewrite_record(store: Store, scheme: Scheme, installed: Installed, dropped: set[Path]) -> None:
    """RECORD by the rule: the dist's shims first, then its rows for files still there, minus what
    adoption replaced and shimgen's own files."""

    def keep(path: Path) -> bool:
        return path not in dropped and store.root not in path.parents and os.path.lexists(path)

    rows = zip(installed.files, installed.rows)
    shims = owned_shims(store, installed.dist)
    text = rewritten_record(scheme.lib, installed.record, rows, keep=keep, shims=shims)
    fsutil.atomic_write(installed.record, text.encode())
