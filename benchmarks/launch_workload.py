"""Launch overhead under Wine (x64), and the size of launchers.

    python -m benchmarks.launch_workload [ROUNDS]   # prints both tables and the goal check

Times are taken from inside Wine by ``benchmarks/programs/timer.c`` (CreateProcessW, wait,
QueryPerformanceCounter): Wine's own start-up is paid once by the timer and is in no figure.
Two groups, each one timer run with its commands interleaved (the order rotates every round):

- native: ``noop.exe`` (a program that only exits) run directly, and through a shimgen launcher;
  then each Python launcher (shimgen's with a script, distlib's ``t64.exe``, setuptools'
  ``cli-64.exe``) with ``noop.exe`` as its "interpreter": the launchers' own cost, without
  Python's start-up and its noise (a Python start varies by more than a process start costs);
- Python: a no-op entry point script run by the real Windows CPython (embeddable 3.13) directly,
  through shimgen's launcher, distlib's ``t64.exe`` and setuptools' ``cli-64.exe``.

Every variant runs the same code: the same ``noop.exe``, or the same entry point script text
(shimgen's, which follows distlib's conventions) importing the same module.

A launcher adds one process start, so the floor of its overhead is starting and reaping one empty
process: the median of ``noop.exe`` run directly. One CPU is kept busy while the timer runs (see
:func:`cpu_kept_busy`: an idle virtual CPU woke up late at random and swamped every figure).
A launcher's added time is the median over rounds of (launcher run - direct run of the same
round): paired, so drifts of the machine cancel.
"""

from __future__ import annotations

import io
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROGRAMS = Path(__file__).resolve().parent / "programs"
sys.path[:0] = [str(ROOT), str(ROOT / "launcher_stubs")]

import distlib  # noqa: E402
from tests.wine.helpers import (  # noqa: E402
    Wine,
    compile_program,
    ensure_windows_python,
    make_wine,
    pip_download,
    windows_path,
)

from shimgen import EntryPoint, LinkRecord, write_launcher  # noqa: E402
from shimgen.fsutil import atomic_write  # noqa: E402
from shimgen.scripts import entry_point_script  # noqa: E402

# Row labels; each launcher is paired with the direct run of the same program in the same group.
NOOP = "noop.exe, run directly"
NOOP_SHIMGEN = "noop.exe via shimgen launcher"
NOOP_SHIMGEN_SCRIPT = "noop.exe as interpreter, via shimgen launcher (target + script)"
NOOP_DISTLIB = "noop.exe as interpreter, via distlib t64.exe"
NOOP_SETUPTOOLS = "noop.exe as interpreter, via setuptools cli-64.exe"
PYTHON = "python.exe script.py, run directly"
PYTHON_SHIMGEN = "entry point via shimgen launcher"
PYTHON_DISTLIB = "entry point via distlib t64.exe"
PYTHON_SETUPTOOLS = "entry point via setuptools cli-64.exe"
BASELINE = {
    NOOP_SHIMGEN: NOOP,
    NOOP_SHIMGEN_SCRIPT: NOOP,
    NOOP_DISTLIB: NOOP,
    NOOP_SETUPTOOLS: NOOP,
    PYTHON_SHIMGEN: PYTHON,
    PYTHON_DISTLIB: PYTHON,
    PYTHON_SETUPTOOLS: PYTHON,
}
# shimgen's launcher against the others, each pair run in the same group.
HEAD_TO_HEAD = [
    (NOOP_SHIMGEN_SCRIPT, NOOP_DISTLIB),
    (NOOP_SHIMGEN_SCRIPT, NOOP_SETUPTOOLS),
    (PYTHON_SHIMGEN, PYTHON_DISTLIB),
    (PYTHON_SHIMGEN, PYTHON_SETUPTOOLS),
]
# The setuptools whose launchers are measured: pinned (the newest when this was written) and read
# from its wheel, so every machine compares against the same bytes, whatever setuptools it has.
SETUPTOOLS = "setuptools==84.2.1"
KIB = 1024


def setuptools_launcher(name: str) -> bytes | None:
    """setuptools' launcher ``name`` (e.g. ``cli-64.exe``) from its wheel, downloaded once into the
    test cache; read at run time, never copied into the repo."""
    wheel = next(pip_download(SETUPTOOLS, "--only-binary", ":all:").glob("*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        member = f"setuptools/{name}"
        return archive.read(member) if member in archive.namelist() else None


def distlib_launcher(name: str) -> bytes | None:
    """distlib's launcher ``name`` (e.g. ``t64.exe``) from the installed distlib."""
    path = Path(distlib.__file__).parent / name
    return path.read_bytes() if path.is_file() else None


# ---------------------------------------------------------------------------------------------------
# The environment: a Windows-layout prefix with shimgen's store and links, and its own Python.
# ---------------------------------------------------------------------------------------------------


@dataclass
class Layout:
    """The command lines of one benchmark prefix, as the timer runs them (Windows paths, quoted)."""

    native: dict[str, str]
    python: dict[str, str]


def _quoted(path: Path) -> str:
    return f'"{windows_path(path)}"'


def _link(prefix: Path, command: str, target: str, script: str | None = None) -> None:
    path = prefix / ".shimgen" / "links" / command
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, LinkRecord(target, script).to_bytes())


def script_launchers(
    prefix: Path, name: str, interpreter: str, body: bytes, labels: tuple[str, str, str]
) -> dict[str, str]:
    """An entry point script run by ``interpreter`` (relative to the prefix) three ways.

    shimgen: ``Scripts\\NAME.exe`` and a link record (target: the interpreter, script: the store
    file); distlib: its launcher, a shebang line, then a zip whose ``__main__.py`` is the script;
    setuptools: its launcher as is, beside ``NAME-script.py`` that starts with a shebang.
    Returns their command lines, keyed by ``labels`` (shimgen, distlib, setuptools).
    """
    scripts, entry = prefix / "Scripts", prefix / ".shimgen" / "store" / name / "1.0-test"
    entry.mkdir(parents=True)
    (entry / f"{name}-script.py").write_bytes(body)
    _link(prefix, name, interpreter, f".shimgen/store/{name}/1.0-test/{name}-script.py")
    write_launcher(scripts / f"{name}.exe", "x64")

    shebang = b"#!" + windows_path(prefix / interpreter).encode() + b"\n"
    t64, cli64 = distlib_launcher("t64.exe"), setuptools_launcher("cli-64.exe")
    if t64 is None or cli64 is None:
        raise RuntimeError("distlib's t64.exe or setuptools' cli-64.exe is missing")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("__main__.py", body)
    (scripts / f"{name}-distlib.exe").write_bytes(t64 + shebang + archive.getvalue())
    (scripts / f"{name}-setuptools.exe").write_bytes(cli64)
    (scripts / f"{name}-setuptools-script.py").write_bytes(shebang + body)
    return dict(
        zip(labels, (_quoted(scripts / f"{name}{kind}.exe") for kind in ("", "-distlib", "-setuptools")))
    )


def build_prefix(prefix: Path, noop_exe: Path, windows_python: Path) -> Layout:
    """Lay out every variant in ``prefix`` (no spaces in it: distlib's and setuptools' launchers
    both quote shebangs, but the benchmark should not depend on that); return their command lines."""
    scripts = prefix / "Scripts"
    # The environment's own Python, seeing <prefix>\Lib\site-packages (as in the Wine install tests).
    shutil.copytree(windows_python, scripts)
    (scripts / "python313._pth").write_text("python313.zip\n.\n..\\Lib\\site-packages\n")
    site = prefix / "Lib" / "site-packages"
    site.mkdir(parents=True)
    (site / "noopmod.py").write_text("def main():\n    pass\n")

    # Native: Scripts\noop.exe -> .shimgen/store/noop/1.0-test/noop.exe.
    noop = prefix / ".shimgen" / "store" / "noop" / "1.0-test" / "noop.exe"
    noop.parent.mkdir(parents=True)
    shutil.copyfile(noop_exe, noop)
    _link(prefix, "noop", ".shimgen/store/noop/1.0-test/noop.exe")
    write_launcher(scripts / "noop.exe", "x64")

    # One entry point script text for every variant (shimgen's, distlib's conventions).
    body = entry_point_script(EntryPoint.parse("noopy", "noopmod:main"), None)
    native = {NOOP: _quoted(noop), NOOP_SHIMGEN: _quoted(scripts / "noop.exe")}
    native |= script_launchers(
        prefix, "noopi", ".shimgen/store/noop/1.0-test/noop.exe", body,
        (NOOP_SHIMGEN_SCRIPT, NOOP_DISTLIB, NOOP_SETUPTOOLS),
    )  # fmt: skip
    script = prefix / ".shimgen" / "store" / "noopy" / "1.0-test" / "noopy-script.py"
    python = {PYTHON: f"{_quoted(scripts / 'python.exe')} {_quoted(script)}"}
    python |= script_launchers(
        prefix, "noopy", "Scripts/python.exe", body, (PYTHON_SHIMGEN, PYTHON_DISTLIB, PYTHON_SETUPTOOLS)
    )
    return Layout(native, python)


@contextmanager
def benchmark_prefix() -> Iterator[tuple[Wine, Path, Layout]]:
    """Wine (this cache's own prefix and wineserver), the timer, and a fresh benchmark prefix."""
    timer = compile_program(
        "timer.c", "timer.exe", libraries=["kernel32"], entry="timer_main", folder=PROGRAMS
    )
    noop = compile_program("noop.c", "noop.exe", libraries=["kernel32"], entry="noop_main", folder=PROGRAMS)
    windows_python = ensure_windows_python()
    wine = make_wine(linger=30)
    with tempfile.TemporaryDirectory(prefix="shimgen-launch-") as scratch:
        prefix = Path(scratch) / "env"
        yield wine, timer, build_prefix(prefix, noop, windows_python)


# ---------------------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------------------


def run_timer(wine: Wine, timer: Path, commands: dict[str, str], rounds: int) -> dict[str, list[float]]:
    """Run ``commands`` interleaved for ``rounds`` rounds (plus one untimed warm-up round).

    Returns seconds per run, in round order. Wine 8 fails about one process start in thousands
    (ERROR_INTERNAL_ERROR, launcher or not; see tests/wine/conftest.py): a round with a failed run
    is dropped for every command, so that samples stay paired; more than 1% of rounds failing is
    an error.
    """
    labels = list(commands)
    with tempfile.TemporaryDirectory(prefix="shimgen-timer-") as scratch:
        listfile = Path(scratch) / "commands.txt"
        listfile.write_text("".join(commands[label] + "\n" for label in labels), encoding="utf-8")
        result = wine.run(
            timer, str(rounds + 1), windows_path(listfile), timeout=60 + rounds * len(labels) * 5
        )
    samples: dict[int, dict[str, float]] = {}
    failed: set[int] = {0}  # round 0 is the warm-up
    for line in result.stdout.splitlines():
        fields = line.split()
        if len(fields) == 3:
            samples.setdefault(int(fields[0]), {})[labels[int(fields[1])]] = int(fields[2]) / 1e6
        elif len(fields) == 4 and fields[2] == "fail":
            failed.add(int(fields[0]))
        else:
            raise RuntimeError(f"timer: unexpected output {line!r}\n{result.stdout}{result.stderr}")
    complete = [r for r in range(rounds + 1) if r not in failed and len(samples.get(r, {})) == len(labels)]
    if result.returncode not in (0, 1) or len(complete) < rounds * 0.99:
        raise RuntimeError(
            f"timer failed (exit {result.returncode}, {rounds - len(complete)} of {rounds} rounds lost):\n"
            f"{result.stdout[-2000:]}{result.stderr[-2000:]}"
        )
    if len(complete) < rounds:
        print(
            f"launch benchmark: {rounds - len(complete)} round(s) dropped (a failed start)", file=sys.stderr
        )
    return {label: [samples[r][label] for r in complete] for label in labels}


@contextmanager
def cpu_kept_busy() -> Iterator[None]:
    """A busy loop in a child process while the timer runs.

    On the virtual machines this was measured on, a process start under Wine took either about
    8 ms or about 38 ms, at random (about half of them): something in waking an idle virtual CPU.
    With one CPU kept busy the slow mode vanished for every variant alike (noop.exe run directly:
    median 7.8 ms, 90th percentile 9.0 ms, against 38.1 and 44.4 ms without). The figures then
    measure the launchers, not the hypervisor; the busy loop is the same for every variant.
    """
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        spinner.kill()
        spinner.wait()


def measure(rounds: int) -> dict[str, list[float]]:
    """Seconds per run for every variant, keyed by row label; equal-length lists, paired by index
    within each group (native, Python)."""
    with benchmark_prefix() as (wine, timer, layout), cpu_kept_busy():
        return {
            **run_timer(wine, timer, layout.native, rounds),
            **run_timer(wine, timer, layout.python, rounds),
        }


def added(timings: dict[str, list[float]], label: str) -> list[float]:
    """A launcher's added time per round: its run minus the direct run of the same round."""
    return [a - b for a, b in zip(timings[label], timings[BASELINE[label]])]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}" if abs(seconds) < 0.1 else f"{seconds * 1000:.0f}"


def launch_table(timings: dict[str, list[float]]) -> list[list[str]]:
    """Rows: variant, median ms, min-max ms, added ms (paired median), added / floor, runs."""
    floor = statistics.median(timings[NOOP])
    rows = []
    for label, samples in timings.items():
        extra = statistics.median(added(timings, label)) if label in BASELINE else None
        rows.append(
            [
                label,
                _ms(statistics.median(samples)),
                f"{_ms(min(samples))}-{_ms(max(samples))}",
                "-" if extra is None else _ms(extra),
                "1.00 (the floor)" if label == NOOP else "-" if extra is None else f"{extra / floor:.2f}",
                str(len(samples)),
            ]
        )
    return rows


LAUNCH_HEADER = ["variant", "median ms", "min-max ms", "added ms (paired median)", "added / floor", "runs"]


def head_to_head(timings: dict[str, list[float]], a: str, b: str) -> tuple[float, float, float]:
    """``a`` against ``b`` run in the same rounds: the median of (a - b) and its 95% interval.

    The interval is a bootstrap of the paired differences (fixed seed, so a table is reproducible
    from its samples): launchers can differ by less than the noise of one run, and a median alone
    would then pick a "winner" by chance.
    """
    differences = [x - y for x, y in zip(timings[a], timings[b])]
    draw = random.Random(0)
    medians = sorted(statistics.median(draw.choices(differences, k=len(differences))) for _ in range(1000))
    return statistics.median(differences), medians[25], medians[974]


def goal(timings: dict[str, list[float]]) -> list[str]:
    """The issue's goal: shimgen's added time within 10% of the floor, and the smallest of all launchers.

    "Smallest" is judged head to head (paired, same rounds), as the added times of launchers of a
    Python entry point differ by less than Python's own start-up varies.
    """
    floor = statistics.median(timings[NOOP])
    native = statistics.median(added(timings, NOOP_SHIMGEN))
    within = "within" if native <= 1.10 * floor else "NOT within"
    lines = [
        f"shimgen added {_ms(native)} ms to a native program; the floor (one empty process) is "
        f"{_ms(floor)} ms: {native / floor:.2f}x, {within} 1.10x."
    ]
    for a, b in HEAD_TO_HEAD:
        difference, low, high = head_to_head(timings, a, b)
        verdict = "shimgen faster" if high < 0 else "shimgen slower" if low > 0 else "no difference resolved"
        lines.append(
            f"{a} vs {b.split(' via ')[-1]}: {_ms(difference)} ms per run (paired median; "
            f"95% interval {_ms(low)} to {_ms(high)}): {verdict}."
        )
    return lines


def launch_rows(rounds: int) -> list[list[str]]:
    """Measure, then the Markdown table rows (strings) of :func:`launch_table`."""
    return launch_table(measure(rounds))


# ---------------------------------------------------------------------------------------------------
# Size
# ---------------------------------------------------------------------------------------------------

# (arch, subsystem): file names of distlib's and setuptools' launchers.
OTHER_LAUNCHERS = {
    ("x86", "console"): ("t32.exe", "cli-32.exe"),
    ("x64", "console"): ("t64.exe", "cli-64.exe"),
    ("arm64", "console"): ("t64-arm.exe", "cli-arm64.exe"),
    ("x86", "gui"): ("w32.exe", "gui-32.exe"),
    ("x64", "gui"): ("w64.exe", "gui-64.exe"),
    ("arm64", "gui"): ("w64-arm.exe", "gui-arm64.exe"),
}
SIZE_HEADER = ["arch", "subsystem", "shimgen", "distlib", "setuptools", "shimgen <= 8 KiB"]


def _size(data: bytes | None, name: str) -> str:
    return "-" if data is None else f"{len(data)} B ({len(data) / KIB:.1f} KiB, {name})"


def size_rows() -> list[list[str]]:
    """Each shipped shimgen stub against distlib's and setuptools' launcher for the same target."""
    stubs = ROOT / "src" / "shimgen" / "stubs"
    rows = []
    for (arch, subsystem), (distlib_name, setuptools_name) in OTHER_LAUNCHERS.items():
        name = f"launcher-{arch}-{subsystem}.exe"
        stub = (stubs / name).read_bytes()
        rows.append(
            [
                arch,
                subsystem,
                _size(stub, name),
                _size(distlib_launcher(distlib_name), distlib_name),
                _size(setuptools_launcher(setuptools_name), setuptools_name),
                "yes" if len(stub) <= 8 * KIB else "NO",
            ]
        )
    return rows


def markdown(header: list[str], rows: list[list[str]]) -> str:
    return "\n".join(
        [
            "| " + " | ".join(header) + " |",
            "|" + "---|" * len(header),
            *("| " + " | ".join(r) + " |" for r in rows),
        ]
    )


if __name__ == "__main__":
    timings = measure(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
    print(markdown(LAUNCH_HEADER, launch_table(timings)))
    print()
    print("\n".join(goal(timings)))
    print()
    print(markdown(SIZE_HEADER, size_rows()))
