"""Install throughput: one wheel with N console_scripts, through shimgen and through plain installers.

Each round installs the same wheel into a fresh prefix three ways, interleaved (the order
rotating, the filesystem flushed before each timed run):
``shimgen install`` (store entry, launchers or symlinks, true RECORD), pypa/installer's
``SchemeDictionaryDestination`` (what ``python -m installer`` does), and distlib's
``Wheel.install`` with its stock ``ScriptMaker``; a fourth row is the floor shimgen's design
sets (:func:`with_bare_file_operations`).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from shimgen.install import install_wheel
from shimgen.store import Store

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.helpers.wheels import build_wheel  # noqa: E402

from benchmarks.interleave import in_turn  # noqa: E402


def make_wheel(folder: Path, entry_points: int) -> Path:
    files = {f"bench/mod{i}.py": f"def main():\n    return {i}\n".encode() for i in range(10)}
    files["bench/__init__.py"] = b""
    points = "".join(f"cmd{i} = bench.mod{i % 10}:main\n" for i in range(entry_points))
    return build_wheel(folder, "bench", "1.0", files, entry_points="[console_scripts]\n" + points)


def _scheme(prefix: Path, windows: bool) -> dict[str, str]:
    python = f"python{sys.version_info[0]}.{sys.version_info[1]}"  # where shimgen looks in a POSIX prefix
    site = prefix / ("Lib/site-packages" if windows else f"lib/{python}/site-packages")
    scripts = prefix / ("Scripts" if windows else "bin")
    return {
        "prefix": str(prefix),
        "purelib": str(site),
        "platlib": str(site),
        "scripts": str(scripts),
        "headers": str(prefix / "include"),
        "data": str(prefix),
    }


def with_shimgen(wheel: Path, prefix: Path, windows: bool) -> None:
    install_wheel(Store(prefix), wheel, platform="win_amd64" if windows else None)


def with_installer(wheel: Path, prefix: Path, windows: bool) -> None:
    from installer import install
    from installer.destinations import SchemeDictionaryDestination
    from installer.sources import WheelFile

    scheme = {k: v for k, v in _scheme(prefix, windows).items() if k != "prefix"}
    python = str(prefix / ("Scripts/python.exe" if windows else "bin/python"))
    destination = SchemeDictionaryDestination(scheme, python, "win-amd64" if windows else "posix")
    with WheelFile.open(wheel) as source:
        install(source, destination, {"INSTALLER": b"installer\n"})


def with_distlib(wheel: Path, prefix: Path, windows: bool) -> None:
    from distlib.scripts import ScriptMaker
    from distlib.wheel import Wheel

    paths = _scheme(prefix, windows)
    Path(paths["scripts"]).mkdir(parents=True, exist_ok=True)
    Wheel(str(wheel)).install(paths, ScriptMaker(None, None))


def with_bare_file_operations(wheel: Path, prefix: Path, windows: bool) -> None:
    """Not an installer: the file operations shimgen's design needs for this wheel, in a bare loop.

    Each library file and, per command, the entry script, the link record and the launcher
    (an 8 KiB copy) or symlink: written under a temporary name, flushed once per batch
    (syncfs), renamed in. No checks, no RECORD, no manifest: its row is the floor the design
    itself sets, so the gap between it and ``shimgen install`` is shimgen's code, and the gap
    between it and pypa/installer is the design (three durable files per command, not one).
    """
    import zipfile

    from shimgen import fsutil, stub_bytes
    from shimgen.entrypoints import from_entry_points_txt

    with zipfile.ZipFile(wheel) as archive:
        library = {n: archive.read(n) for n in archive.namelist() if not n.endswith("/")}
    listing = next(data for name, data in library.items() if name.endswith("entry_points.txt"))
    points = [point.name for point in from_entry_points_txt(listing.decode())]
    site = Path(_scheme(prefix, windows)["purelib"])
    store, links = prefix / ".shimgen" / "store" / "bench" / "1.0", prefix / ".shimgen" / "links"
    scripts = prefix / ("Scripts" if windows else "bin")
    for folder in (store, links, scripts):
        folder.mkdir(parents=True, exist_ok=True)

    defer = fsutil.DEFER_FILE_SYNC

    def batch(files: dict[Path, bytes | str]) -> None:
        temporaries = {}
        for path, data in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(data, str):  # a symlink
                temporary = path.with_name(f".{path.name}.tmp")
                os.symlink(data, temporary)
            else:
                temporary = fsutil.write_temporary(path.parent, path.name, data, sync=not defer)
            temporaries[path] = temporary
        if defer:
            fsutil.sync_filesystem(prefix)
        for path, temporary in temporaries.items():
            os.replace(temporary, path)

    batch({site / name: data for name, data in library.items()})
    batch({store / name: b"#!/usr/bin/python\nimport sys\n" for name in points})
    batch({links / name: f"shimgen-link 1\ntarget=x/{name}\n".encode() for name in points})
    launcher = stub_bytes("x64")
    batch({scripts / (f"{n}.exe" if windows else n): launcher if windows else f"../x/{n}" for n in points})


TOOLS = {
    "shimgen install": with_shimgen,
    "pypa/installer": with_installer,
    "distlib Wheel.install": with_distlib,
    "bare file operations of shimgen's design": with_bare_file_operations,
}


def settle() -> None:
    """Flush what earlier runs left dirty (untimed), so no tool pays for another's writes.

    shimgen's one syncfs(2) per batch would otherwise also write back the files
    the previous tool wrote, and the deletes of the previous round.
    """
    if hasattr(os, "sync"):
        os.sync()


def measure(entry_points: int, rounds: int, windows: bool) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {name: [] for name in TOOLS}
    tools = list(TOOLS.items())
    with tempfile.TemporaryDirectory(prefix="shimgen-bench-") as scratch:
        root = Path(scratch)
        wheel = make_wheel(root, entry_points)
        for round_number in range(rounds):
            for name, tool in in_turn(tools, round_number):
                prefix = root / f"{round_number}-{name.split()[0].replace('/', '-')}"
                prefix.mkdir()
                if windows:
                    (prefix / "Scripts").mkdir()
                else:  # a POSIX environment has its Python (shimgen refuses entry points without one)
                    (prefix / "bin").mkdir()
                    (prefix / "bin" / "python").symlink_to(sys.executable)
                settle()
                started = time.perf_counter()
                tool(wheel, prefix, windows)
                timings[name].append(time.perf_counter() - started)
        # Prefixes are deleted together at the end: deleting thousands of files between runs left
        # the disk busy (and, with online discard, slow) during the next tool's run.
    return timings
