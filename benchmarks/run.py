"""Run shimgen's benchmarks and print one Markdown table (also written to benchmarks/RESULTS.md).

    ./dev bench            full run
    ./dev bench --quick    tiny sizes: proves the benchmark still works (the test suite runs this)

Every figure is a median over repeated runs with its min-max, and every
comparison is a ratio of two things measured in the same run, interleaved.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import (  # noqa: E402
    install_workload,
    launch_workload,
    payload_workload,
    process_workload,
    startup_workload,
    switch_workload,
)

KIB, MIB = 1024, 1024 * 1024


def summarize(samples: list[float]) -> tuple[float, float, float]:
    return statistics.median(samples), min(samples), max(samples)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}" if seconds < 0.1 else f"{seconds * 1000:.0f}"


def size_label(size: int) -> str:
    return f"{size // MIB} MiB" if size >= MIB else f"{size // KIB} KiB"


def switch_rows(quick: bool) -> list[list[str]]:
    """Switch latency natively (both layouts) and inside Windows CPython under Wine."""
    plans = [(64 * KIB, 5 if quick else 40), (30 * MIB, 2 if quick else 8)]
    if quick:
        plans = [(64 * KIB, 3), (1 * MIB, 2)]
    rows = []
    for where, layout, runner in (
        ("Linux, POSIX layout", "posix", _native),
        ("Linux, Windows layout", "windows", _native),
        ("Wine, Windows CPython", "windows", _wine),
    ):
        for payload, rounds in plans:
            timings = runner(layout, payload, rounds)
            copy = summarize(timings["plain copy"])[0]
            for operation in ("switch", "rollback", "plain copy"):
                median, low, high = summarize(timings[operation])
                label = {
                    "switch": "switch to a new version",
                    "rollback": "roll back (switch only)",
                    "plain copy": "plain copy over the old file",
                }[operation]
                rows.append(
                    [
                        where,
                        label,
                        size_label(payload),
                        ms(median),
                        f"{ms(low)}-{ms(high)}",
                        f"{median / copy:.2f}x",
                        str(rounds),
                    ]
                )
    return rows


INSTALL_SIZES = {True: [(10, 2), (100, 2)], False: [(10, 7), (100, 7), (1000, 5)]}


def install_rows(quick: bool) -> tuple[list[list[str]], list[list[str]]]:
    """Install throughput (a wheel with N console_scripts), and how each tool's cost grows with N."""
    rows, growth = [], []
    for windows in (False, True):
        where = "Linux, Windows layout" if windows else "Linux, POSIX venv"
        medians: dict[str, dict[int, float]] = {}
        for entry_points, rounds in INSTALL_SIZES[quick]:
            timings = install_workload.measure(entry_points, rounds, windows)
            reference = statistics.median(timings["pypa/installer"])
            for tool, samples in timings.items():
                median, low, high = summarize(samples)
                medians.setdefault(tool, {})[entry_points] = median
                rows.append(
                    [
                        where,
                        tool,
                        str(entry_points),
                        ms(median),
                        f"{ms(low)}-{ms(high)}",
                        f"{median / entry_points * 1000:.2f}",
                        f"{median / reference:.2f}x",
                        str(rounds),
                    ]
                )
        sizes = [n for n, _ in INSTALL_SIZES[quick]]
        for tool, by_size in medians.items():
            # Marginal cost per added entry point between consecutive sizes: flat means linear.
            steps = [(by_size[b] - by_size[a]) / (b - a) * 1000 for a, b in zip(sizes, sizes[1:])]
            growth.append([where, tool, *(f"{step:.2f}" for step in steps)])
    return rows, growth


def payload_rows(quick: bool) -> list[list[str]]:
    """A large native program: installed from a wheel, adopted, against pypa/installer and a plain copy."""
    size, rounds = (1 * MIB, 2) if quick else (30 * MIB, 7)
    timings = payload_workload.measure(size, rounds)
    copy = statistics.median(timings["plain copy"])
    rows = []
    for operation, samples in timings.items():
        median, low, high = summarize(samples)
        rows.append(
            [
                operation,
                size_label(size),
                ms(median),
                f"{ms(low)}-{ms(high)}",
                f"{median / copy:.2f}x",
                str(rounds),
            ]
        )
    return rows


def _native(layout: str, payload: int, rounds: int) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory(prefix="shimgen-bench-") as scratch:
        return switch_workload.measure(Path(scratch), layout, payload, rounds)


def _wine(layout: str, payload: int, rounds: int) -> dict[str, list[float]]:
    from tests.wine.helpers import ensure_windows_python, make_windows_shimgen, make_wine, windows_path

    shimgen = make_windows_shimgen(make_wine(linger=30), ensure_windows_python())
    code = (ROOT / "benchmarks" / "switch_workload.py").read_text()
    with tempfile.TemporaryDirectory(prefix="shimgen-bench-") as scratch:
        result = shimgen.python_code(code, windows_path(Path(scratch)), layout, str(payload), str(rounds))
    if result.returncode != 0:
        raise SystemExit(f"the Windows CPython workload failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def machine() -> str:
    from importlib.metadata import version

    wine = subprocess.run(["wine", "--version"], capture_output=True, text=True).stdout.strip() or "no wine"
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in _read("/proc/cpuinfo").splitlines()
            if "model name" in line
        ),
        platform.machine(),
    )
    return (
        f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, {wine}, Windows CPython 3.13.0 (embeddable). "
        f"Compared: pypa/installer {version('installer')}, distlib {version('distlib')}, "
        f"{launch_workload.SETUPTOOLS.replace('==', ' ')} (its launchers)"
    )


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(r) + " |" for r in rows),
    ]


def launch_section(quick: bool) -> list[str]:
    timings = launch_workload.measure(5 if quick else 200)
    return [
        "## Launch overhead (Wine, x64)",
        "",
        "Timed inside Wine by benchmarks/programs/timer.c (CreateProcessW + wait, QueryPerformanceCounter),",
        "variants interleaved, the order rotating every round. A launcher's added time is the median over",
        "rounds of (launcher run - direct run of the same program in the same round). The floor is",
        "starting and reaping one empty process: noop.exe run directly. A busy loop keeps one CPU awake",
        "meanwhile: on this virtual machine a process start otherwise took 8 or 38 ms at random (an idle",
        "virtual CPU waking late), for every variant alike.",
        "",
        *table(launch_workload.LAUNCH_HEADER, launch_workload.launch_table(timings)),
        "",
        *(f"- {line}" for line in launch_workload.goal(timings)),
        "",
        "## Launcher size",
        "",
        *table(launch_workload.SIZE_HEADER, launch_workload.size_rows()),
        "",
    ]


def install_section(quick: bool) -> list[str]:
    rows, growth = install_rows(quick)
    sizes = [n for n, _ in INSTALL_SIZES[quick]]
    header = ["where", "installer", "entry points", "median ms", "min-max ms", "ms per entry point",
              "vs pypa/installer", "runs"]  # fmt: skip
    growth_header = [
        "where",
        "installer",
        *(f"ms per added entry point, {a} to {b}" for a, b in zip(sizes, sizes[1:])),
    ]
    return [
        "## Installing a wheel with N console_scripts",
        "",
        "Same wheel, a fresh prefix each time, the tools interleaved (order rotating, the filesystem",
        "flushed before each run). shimgen writes three things per command (the entry script in the",
        "store, the link record, the launcher or symlink) and makes them durable before they go live:",
        "one syncfs(2) per batch on Linux. pypa/installer and distlib write one script per command in",
        "place and never flush. The last row is not an installer: the bare file operations shimgen's",
        "design needs (each file under a temporary name, one flush per batch, renamed in), with none",
        "of its checks, manifest or RECORD: the floor the design sets.",
        "",
        *table(header, rows),
        "",
        "How cost grows with N (flat across a row means linear):",
        "",
        *table(growth_header, growth),
        "",
    ]


def switch_section(quick: bool) -> list[str]:
    header = ["where", "operation", "payload", "median ms", "min-max ms", "vs plain copy", "runs"]
    return [
        "## Switching one command",
        "",
        "A switch publishes a new store entry (written and made durable) and swaps the link record;",
        "a rollback only swaps. The plain copy is what pip does to Scripts\\\\tool.exe (no fsync),",
        "and it is exactly the step that fails while the old tool is running.",
        "",
        *table(header, switch_rows(quick)),
        "",
        "## A large native program: install and adopt",
        "",
        "Linux, POSIX venv. shimgen install writes the program into a store entry and flushes it;",
        "adopt hard-links the program pypa/installer put in bin into the store (no byte copied), hashes",
        "it for the manifest and puts a symlink in its place. The plain copy is pip's upgrade step.",
        "",
        *table(
            ["operation", "payload", "median ms", "min-max ms", "vs plain copy", "runs"], payload_rows(quick)
        ),
        "",
    ]


def startup_section(quick: bool) -> list[str]:
    rounds, dists = (3, 12) if quick else (21, 120)
    timings = startup_workload.measure(rounds, dists)
    overhead = startup_workload.run_overhead(timings)
    return [
        "## Start-up, a sync with nothing to do, and shimgen run (whole processes)",
        "",
        f"Linux, a POSIX venv with {dists} distributions (one in six with a console script), installed by",
        "uv and adopted once. Each command is a whole process, timed from start to exit; the commands",
        "are interleaved, the order rotating each round, and the first round is not counted. Goals",
        "(issue 10): --version at most 4x python -c pass, a sync with nothing to do at most 0.5x pip list.",
        "",
        *table(startup_workload.HEADER, startup_workload.rows(timings, ms, summarize)),
        "",
        f"- shimgen run adds {ms(overhead)} ms around a command that does nothing (median of paired "
        "differences): a sync before (without gc) and after, the lock, and its own start-up.",
        "",
    ]


def process_section(quick: bool) -> list[str]:
    return [
        "## Installing, as a whole process (what a user waits for)",
        "",
        "One process installs one wheel into a fresh prefix, start-up included: `shimgen install`,",
        "`python -m installer` (its defaults: it byte-compiles the library) or, for the Windows",
        "layout, pypa/installer asked for Windows launchers, and Linux `uv pip install --offline",
        "--no-index --no-deps` with its cache warm and cold (POSIX only: uv writes the launchers of",
        "the OS it runs on). Interleaved, the order rotating, the filesystem flushed before each run,",
        "the first round not counted; shimgen byte-compiled, as an installed copy is. Goals (issue 14):",
        "at most 1.5x python -m installer in a POSIX venv, at most 1.0x pypa/installer in a Windows layout.",
        "",
        *process_workload.section(quick, ms, table),
        "",
    ]


SECTIONS = {
    "launch": launch_section,
    "install": install_section,
    "process": process_section,
    "switch": switch_section,
    "startup": startup_section,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, to check the benchmark runs")
    parser.add_argument(
        "--only", choices=sorted(SECTIONS), action="append", help="run only these sections (repeatable)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="also write the tables here (default: benchmarks/RESULTS.md for a full run of every section)",
    )
    args = parser.parse_args()
    lines = ["# shimgen benchmarks", "", f"Machine: {machine()}.", ""]
    for name, section in SECTIONS.items():
        if not args.only or name in args.only:
            lines += section(args.quick)
    text = "\n".join(lines)
    print(text)
    out = args.out or (None if args.quick or args.only else ROOT / "benchmarks" / "RESULTS.md")
    if out is not None:
        out.write_text(text)


if __name__ == "__main__":
    main()
