"""Whole-process costs of living beside uv and pip: start-up, a sync that finds nothing to do, and
what ``shimgen run`` adds around an installer.

A POSIX venv with ``dists`` distributions (one in six with a console script), installed by uv and
adopted by one ``shimgen sync``. Then, interleaved, each round in a rotating order:

- ``python -c pass`` (the floor any Python tool pays) and ``shimgen --version``;
- ``pip list`` (pip installed in the venv) and a ``shimgen sync`` that changes nothing;
- ``true`` and ``shimgen run -- true``: what wrapping an installer call adds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers.wheels import build_wheel  # noqa: E402

from benchmarks.interleave import byte_compile_shimgen, environment, in_turn  # noqa: E402

SHIMGEN = Path(sys.executable).with_name("shimgen")
UV = Path(sys.executable).with_name("uv")

HEADER = ["command", "median ms", "min-max ms", "compared with", "ratio", "runs"]
PAIRS = {  # command -> what it is compared with
    "python -c 'import click'": "python -c pass",  # the floor of any click command line
    "shimgen --version": "python -c pass",
    "shimgen sync (nothing to do)": "pip list",
    "shimgen run -- true": "true",
}


def measure(rounds: int, dists: int) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory(prefix="shimgen-bench-startup-") as scratch:
        venv = _environment(Path(scratch), dists)
        python = venv / "bin" / "python"
        true = shutil.which("true") or "/bin/true"
        commands = {
            "python -c pass": [str(python), "-c", "pass"],
            "python -c 'import click'": [sys.executable, "-c", "import click"],
            "shimgen --version": [str(SHIMGEN), "--version"],
            "pip list": [str(python), "-m", "pip", "list", "--disable-pip-version-check"],
            "shimgen sync (nothing to do)": [str(SHIMGEN), "sync", "--prefix", str(venv)],
            "true": [true],
            "shimgen run -- true": [str(SHIMGEN), "run", "--prefix", str(venv), "--", true],
        }
        byte_compile_shimgen()
        environ = environment()
        timings: dict[str, list[float]] = {name: [] for name in commands}
        names = list(commands)
        for round_number in range(rounds + 1):
            for name in in_turn(names, round_number):
                started = time.perf_counter()
                subprocess.run(
                    commands[name],
                    check=True,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    env=environ,
                )
                if round_number:  # the first round warms caches: not counted
                    timings[name].append(time.perf_counter() - started)
        return timings


def _environment(scratch: Path, dists: int) -> Path:
    """A venv with pip and ``dists`` small distributions installed by uv, then adopted."""
    venv = scratch / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    wheels = scratch / "wheels"
    wheels.mkdir()
    paths = []
    for index in range(dists):
        name = f"dist{index:03d}"
        files = {f"{name}/module{n}.py": b"VALUE = 1\n" * 20 for n in range(12)}
        files[f"{name}/__init__.py"] = b"def main():\n    pass\n"
        scripts = f"[console_scripts]\n{name}-cli = {name}:main\n" if index % 6 == 0 else None
        paths.append(build_wheel(wheels, name, "1.0", files, entry_points=scripts))
    env = {**os.environ, "UV_CACHE_DIR": str(scratch / "uv-cache"), "UV_NO_CONFIG": "1"}
    install = [str(UV), "pip", "install", "--python", str(venv / "bin" / "python"), "--offline", "--no-deps"]
    subprocess.run([*install, *map(str, paths)], check=True, env=env, capture_output=True)
    subprocess.run([str(SHIMGEN), "sync", "--prefix", str(venv)], check=True, capture_output=True)
    return venv


def rows(timings: dict[str, list[float]], fmt_ms, summarize) -> list[list[str]]:  # type: ignore[no-untyped-def]
    import statistics

    table = []
    for name, samples in timings.items():
        median, low, high = summarize(samples)
        reference = PAIRS.get(name)
        ratio = f"{median / statistics.median(timings[reference]):.2f}x" if reference else ""
        table.append(
            [name, fmt_ms(median), f"{fmt_ms(low)}-{fmt_ms(high)}", reference or "", ratio, str(len(samples))]
        )
    return table


def run_overhead(timings: dict[str, list[float]]) -> float:
    """What ``shimgen run`` adds around a command: the median of paired differences, in seconds."""
    import statistics

    return statistics.median(a - b for a, b in zip(timings["shimgen run -- true"], timings["true"]))
