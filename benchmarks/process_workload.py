"""Whole-process install: what a user waits for, shimgen beside pypa/installer and uv.

Each run is one process installing one wheel into a fresh prefix, start-up included:

- ``shimgen install WHEEL --prefix P`` (``--platform win_amd64`` for the Windows layout);
- ``python -m installer --prefix P WHEEL`` (its defaults, which byte-compile the library: what a
  user of it waits for). For the Windows layout, a short script runs pypa/installer's
  ``SchemeDictionaryDestination`` with ``script_kind="win-amd64"``, its launchers (distlib's);
- ``uv pip install --prefix P --offline --no-index --no-deps WHEEL`` with its cache warm (a
  cache filled before the runs) and cold (an empty cache per run). POSIX only: uv writes the
  launchers of the OS it runs on, and there is no way to ask Linux uv for Windows ones.

The wheels: one with N console_scripts for N = 1, 10, 100, 1000 (ten small modules), and one
with a 30 MiB native program in ``.data/scripts`` (an ELF file; a ``.exe`` for the Windows layout).
Tools run interleaved, the order rotating every round, the filesystem flushed (untimed) before
each run, so no tool pays for another's writes. A POSIX prefix holds ``bin/python`` (a symlink
to this interpreter) and ``lib``; the Windows one ``Scripts``.
"""

from __future__ import annotations

import functools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers.wheels import build_wheel  # noqa: E402

from benchmarks.interleave import byte_compile_shimgen, environment, in_turn  # noqa: E402

BIN = Path(sys.executable).parent
SHIMGEN = BIN / "shimgen"
UV = BIN / "uv"
PAYLOAD_SIZE = 30 * 1024 * 1024

# pypa/installer into a Windows layout, as a whole process: installer has no command-line switch
# for another OS's script kind, so this is the smallest program that asks for one.
_INSTALLER_WINDOWS = """
import sys
from installer import install
from installer.destinations import SchemeDictionaryDestination
from installer.sources import WheelFile
prefix, wheel = sys.argv[1], sys.argv[2]
site = prefix + "/Lib/site-packages"
scheme = {"purelib": site, "platlib": site, "scripts": prefix + "/Scripts",
          "headers": prefix + "/Include", "data": prefix}
destination = SchemeDictionaryDestination(scheme, prefix + "/Scripts/python.exe", "win-amd64",
                                          bytecode_optimization_levels=(0, 1))
with WheelFile.open(wheel) as source:
    install(source, destination, {"INSTALLER": b"installer"})
"""

Command = Callable[[Path, Path], list[str]]  # (wheel, prefix) -> argv


def tools(windows: bool, uv_cache: Path) -> dict[str, Command]:
    """The commands compared for one layout, by the name their rows carry."""

    def shimgen(wheel: Path, prefix: Path) -> list[str]:
        platform = ["--platform", "win_amd64"] if windows else []
        return [str(SHIMGEN), "install", "--prefix", str(prefix), *platform, str(wheel)]

    def installer(wheel: Path, prefix: Path) -> list[str]:
        if windows:
            return [sys.executable, "-c", _INSTALLER_WINDOWS, str(prefix), str(wheel)]
        return [sys.executable, "-m", "installer", "--prefix", str(prefix), str(wheel)]

    def uv(cache: Callable[[Path], Path]) -> Command:
        def command(wheel: Path, prefix: Path) -> list[str]:
            options = ["--offline", "--no-index", "--no-deps", "--cache-dir", str(cache(prefix))]
            return [
                str(UV),
                "pip",
                "install",
                "--python",
                sys.executable,
                *options,
                "--prefix",
                str(prefix),
                str(wheel),
            ]

        return command

    if windows:
        return {"shimgen install": shimgen, "pypa/installer": installer}
    return {
        "shimgen install": shimgen,
        "python -m installer": installer,
        "uv pip install (warm cache)": uv(lambda prefix: uv_cache),
        "uv pip install (cold cache)": uv(lambda prefix: prefix.with_name(prefix.name + "-uv-cache")),
    }


def entry_point_wheel(folder: Path, entry_points: int) -> Path:
    files = {f"bench/mod{i}.py": f"def main():\n    return {i}\n".encode() for i in range(10)}
    files["bench/__init__.py"] = b""
    points = "".join(f"cmd{i} = bench.mod{i % 10}:main\n" for i in range(entry_points))
    return build_wheel(
        folder, f"bench{entry_points}", "1.0", files, entry_points="[console_scripts]\n" + points
    )


def payload_wheel(folder: Path, size: int = PAYLOAD_SIZE, windows: bool = False) -> Path:
    """A wheel whose one command is a large native program, padded with random bytes (nothing
    compresses them): an ELF file, or for the Windows layout a Windows program (distlib's x64
    stub), since only a program is a command there."""
    if windows:
        import distlib

        head = (Path(distlib.__file__).parent / "t64.exe").read_bytes()
        name = "bigtool.exe"
    else:
        head, name = b"\x7fELF", "bigtool"
    program = head + os.urandom(size - len(head))
    files = {"bigtool/__init__.py": b"", f"bigtool-1.0.data/scripts/{name}": program}
    return build_wheel(folder, "bigtool", "1.0", files)


def fresh_prefix(root: Path, name: str, windows: bool) -> Path:
    prefix = root / name
    if windows:
        (prefix / "Scripts").mkdir(parents=True)
    else:
        (prefix / "bin").mkdir(parents=True)
        (prefix / "bin" / "python").symlink_to(sys.executable)
    return prefix


def measure(wheel_maker: Callable[[Path], Path], rounds: int, windows: bool) -> dict[str, list[float]]:
    """Seconds per run for each tool, over ``rounds`` interleaved rounds (one untimed warm-up round)."""
    with tempfile.TemporaryDirectory(prefix="shimgen-bench-process-") as scratch:
        root = Path(scratch)
        wheels = root / "wheels"
        wheels.mkdir()
        wheel = wheel_maker(wheels)
        uv_cache = root / "uv-cache"
        commands = tools(windows, uv_cache)
        if not windows:  # fill the warm cache (untimed)
            _run(commands["uv pip install (warm cache)"](wheel, fresh_prefix(root, "warm-up", False)))
        environ = environment()
        timings: dict[str, list[float]] = {name: [] for name in commands}
        names = list(commands)
        for round_number in range(rounds + 1):
            for name in in_turn(names, round_number):
                prefix = fresh_prefix(root, f"{round_number}-{names.index(name)}", windows)
                if hasattr(os, "sync"):
                    os.sync()
                started = time.perf_counter()
                _run(commands[name](wheel, prefix), environ)
                if round_number:  # the first round warms the page cache and the interpreters
                    timings[name].append(time.perf_counter() - started)
        return timings


def have_uv() -> bool:
    return UV.exists() or shutil.which("uv") is not None


def _run(argv: list[str], environ: dict[str, str] | None = None) -> None:
    result = subprocess.run(argv, capture_output=True, env=environ)
    if result.returncode != 0:
        raise RuntimeError(
            f"{argv[:3]} failed ({result.returncode}): {result.stderr.decode(errors='replace')}"
        )


HEADER = ["where", "wheel", "tool", "median ms", "min-max ms", "vs installer", "runs"]
SIZES = {True: [1, 10], False: [1, 10, 100, 1000]}


def section(
    quick: bool, ms: Callable[[float], str], table: Callable[[list[str], list[list[str]]], list[str]]
) -> list[str]:
    """The rows of the whole-process table, the growth per added entry point, and the goals."""
    rounds = 2 if quick else 11  # this machine is noisy: fewer rounds let one slow run move a median
    byte_compile_shimgen()
    rows: list[list[str]] = []
    growth: list[list[str]] = []
    verdicts: list[str] = []
    for windows in (False, True):
        where = "Windows layout" if windows else "POSIX venv"
        reference = "pypa/installer" if windows else "python -m installer"
        goal = 1.0 if windows else 1.5
        medians: dict[str, dict[int, float]] = {}
        wheels = [(f"{n} entry points", n, _entry_points(n)) for n in SIZES[quick]]
        size = 1024 * 1024 if quick else PAYLOAD_SIZE  # quick: only proves the row still works
        wheels.append(
            (f"{size >> 20} MiB program", 0, functools.partial(payload_wheel, size=size, windows=windows))
        )
        for label, n, maker in wheels:
            timings = measure(maker, rounds, windows)
            base = statistics.median(timings[reference])
            for tool, samples in timings.items():
                median = statistics.median(samples)
                if n:
                    medians.setdefault(tool, {})[n] = median
                rows.append([where, label, tool, ms(median), f"{ms(min(samples))}-{ms(max(samples))}",
                             f"{median / base:.2f}x", str(len(samples))])  # fmt: skip
            ratio = statistics.median(timings["shimgen install"]) / base
            verdicts.append(
                f"{where}, {label}: shimgen {ratio:.2f}x {reference} (goal at most {goal:.1f}x: "
                f"{'met' if ratio <= goal else 'NOT met'})"
            )
        sizes = SIZES[quick]
        for tool, by_size in medians.items():
            steps = [(by_size[b] - by_size[a]) / (b - a) * 1000 for a, b in zip(sizes, sizes[1:])]
            growth.append([where, tool, *(f"{step:.3f}" for step in steps)])
    growth_header = [
        "where",
        "tool",
        *(f"ms per added entry point, {a} to {b}" for a, b in zip(sizes, sizes[1:])),
    ]
    return [*table(HEADER, rows), "", "Growth:", "", *table(growth_header, growth), "",
            *(f"- {line}" for line in verdicts)]  # fmt: skip


def _entry_points(n: int) -> Callable[[Path], Path]:
    return lambda folder: entry_point_wheel(folder, n)
