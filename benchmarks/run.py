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

from benchmarks import install_workload, switch_workload  # noqa: E402

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


def install_rows(quick: bool) -> list[list[str]]:
    """Install throughput: a wheel with N console_scripts, shimgen against plain installers."""
    sizes = [(10, 2), (100, 2)] if quick else [(10, 7), (100, 7), (1000, 3)]
    rows = []
    for windows in (False, True):
        where = "Linux, Windows layout" if windows else "Linux, POSIX venv"
        for entry_points, rounds in sizes:
            timings = install_workload.measure(entry_points, rounds, windows)
            reference = statistics.median(timings["pypa/installer"])
            for tool, samples in timings.items():
                median, low, high = summarize(samples)
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
    return rows


def _native(layout: str, payload: int, rounds: int) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory(prefix="shimgen-bench-") as scratch:
        return switch_workload.measure(Path(scratch), layout, payload, rounds)


def _wine(layout: str, payload: int, rounds: int) -> dict[str, list[float]]:
    from tests.wine.conftest import ensure_windows_python, make_windows_shimgen, make_wine, windows_path

    shimgen = make_windows_shimgen(make_wine(linger=30), ensure_windows_python())
    code = (ROOT / "benchmarks" / "switch_workload.py").read_text()
    with tempfile.TemporaryDirectory(prefix="shimgen-bench-") as scratch:
        result = shimgen.python_code(code, windows_path(Path(scratch)), layout, str(payload), str(rounds))
    if result.returncode != 0:
        raise SystemExit(f"the Windows CPython workload failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def machine() -> str:
    wine = subprocess.run(["wine", "--version"], capture_output=True, text=True).stdout.strip() or "no wine"
    return (
        f"{os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, {wine}, Windows CPython 3.13.0 (embeddable)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, to check the benchmark runs")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="also write the table here (default: RESULTS.md unless --quick)",
    )
    args = parser.parse_args()
    header = ["where", "operation", "payload", "median ms", "min-max ms", "vs plain copy", "runs"]
    rows = switch_rows(args.quick)
    lines = [
        "# shimgen benchmarks",
        "",
        f"Machine: {machine()}.",
        "",
        "## Switching one command",
        "",
        "A switch publishes a new store entry (written and fsynced) and swaps the link record;",
        "a rollback only swaps. The plain copy is what pip does to Scripts\\\\tool.exe (no fsync),",
        "and it is exactly the step that fails while the old tool is running.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(row) + " |" for row in rows),
        "",
    ]
    install_header = [
        "where",
        "installer",
        "entry points",
        "median ms",
        "min-max ms",
        "ms per entry point",
        "vs pypa/installer",
        "runs",
    ]
    lines += [
        "## Installing a wheel with N console_scripts",
        "",
        "shimgen fsyncs every file it writes (entry files, link records) and renames it into place;",
        "pypa/installer and distlib write in place without fsync. Same wheel, fresh prefix, interleaved.",
        "",
        "| " + " | ".join(install_header) + " |",
        "|" + "---|" * len(install_header),
        *("| " + " | ".join(row) + " |" for row in install_rows(args.quick)),
        "",
    ]
    text = "\n".join(lines)
    print(text)
    out = args.out or (None if args.quick else ROOT / "benchmarks" / "RESULTS.md")
    if out is not None:
        out.write_text(text)


if __name__ == "__main__":
    main()
