"""Payload scale: a wheel carrying one large native program, installed and adopted, against a plain copy.

Each round, interleaved, in fresh POSIX prefixes:

- ``shimgen install``: the program goes from the wheel into a new store entry (written, flushed);
- ``pypa/installer``: the program goes from the wheel into ``bin`` (written, not flushed);
- ``shimgen adopt``: an environment pypa/installer made is adopted. The program is hard-linked
  into the store (the same volume, so no byte is copied), hashed for the manifest, and a
  symlink takes over its name. Setting up that environment is not timed;
- ``plain copy``: ``shutil.copyfile`` of the program over itself, which is what pip does to
  ``Scripts\\tool.exe`` on an upgrade (and what fails while it runs).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from shimgen.adopt import adopt
from shimgen.install import install_wheel
from shimgen.store import Store

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.helpers.wheels import build_wheel  # noqa: E402

from benchmarks.install_workload import settle, with_installer  # noqa: E402

ELF_MAGIC = b"\x7fELF"  # adopt takes native programs only; the rest is incompressible filler


def make_wheel(folder: Path, size: int) -> Path:
    program = ELF_MAGIC + os.urandom(size - len(ELF_MAGIC))
    files = {"big/__init__.py": b"", "big-1.0.data/scripts/bigtool": program}
    return build_wheel(folder, "big", "1.0", files, entry_points="")


def measure(size: int, rounds: int) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {
        "shimgen install": [],
        "pypa/installer": [],
        "shimgen adopt": [],
        "plain copy": [],
    }
    with tempfile.TemporaryDirectory(prefix="shimgen-bench-") as scratch:
        root = Path(scratch)
        wheel = make_wheel(root, size)
        for round_number in range(rounds):
            prefix = root / f"{round_number}-shimgen"
            (prefix / "bin").mkdir(parents=True)
            (prefix / "bin" / "python").symlink_to(sys.executable)  # an environment has its Python
            settle()
            started = time.perf_counter()
            install_wheel(Store(prefix), wheel)
            timings["shimgen install"].append(time.perf_counter() - started)
            shutil.rmtree(prefix)

            prefix = root / f"{round_number}-installer"
            prefix.mkdir()
            settle()
            started = time.perf_counter()
            with_installer(wheel, prefix, windows=False)
            timings["pypa/installer"].append(time.perf_counter() - started)

            program = prefix / "bin" / "bigtool"
            settle()
            started = time.perf_counter()
            shutil.copyfile(program, program.with_name("bigtool.new"))
            os.replace(program.with_name("bigtool.new"), program)
            timings["plain copy"].append(time.perf_counter() - started)

            settle()
            started = time.perf_counter()
            report = adopt(Store(prefix))
            timings["shimgen adopt"].append(time.perf_counter() - started)
            assert program.is_symlink() and report.adoptions, "adopt did not take the program"
            shutil.rmtree(prefix)
    return timings
