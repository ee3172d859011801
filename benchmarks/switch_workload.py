"""Switch latency, measured where it runs: natively, or inside Windows CPython under Wine.

Run as a script (``python switch_workload.py DIR LAYOUT PAYLOAD ROUNDS``) it prints
one JSON object of raw timings in seconds. Each round, interleaved:

- ``switch``: ``Store.publish`` of a new version of one command (write the entry
  with fsync, swap the dist state and the link record): what an upgrade costs;
- ``plain copy``: ``shutil.copyfile`` of the same new binary over the old one,
  which is what pip and installer do (and what fails while the old one runs);
- ``rollback``: switching back to the previous entry (no payload to write).

Only the standard library and shimgen are imported, so Windows CPython can
run this file with shimgen's source on its path.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

from shimgen import stub_bytes
from shimgen.entry import Command, EntryFile
from shimgen.store import Store


def program(path: Path, size: int, seed: int, windows: bool) -> Path:
    """A distinct program of about ``size`` bytes (a real PE file for the Windows layout)."""
    head = stub_bytes("x64") if windows else b"#!/bin/sh\nexit 0\n"
    filler = (seed.to_bytes(4, "little") + os.urandom(60)) * max(0, (size - len(head)) // 64)
    path.write_bytes(head + filler)
    return path


def measure(root: Path, layout: str, payload: int, rounds: int) -> dict[str, list[float]]:
    windows = layout == "windows"
    prefix, sources, plain = root / "env", root / "sources", root / "plain"
    for folder in (prefix, sources, plain):
        folder.mkdir(parents=True)
    store = Store(prefix)
    name = "tool.exe" if windows else "tool"
    arch = "x64" if windows else None
    timings: dict[str, list[float]] = {"switch": [], "plain copy": [], "rollback": []}
    versions = [program(sources / f"{i}-{name}", payload, i, windows) for i in range(rounds + 1)]
    store.publish(
        "tool", "0", [EntryFile(name, versions[0], True)], [Command("tool", name)], kind=layout, arch=arch
    )
    shutil.copyfile(versions[0], plain / name)
    for i in range(1, rounds + 1):
        files = [EntryFile(name, versions[i], True)]
        started = time.perf_counter()
        store.publish("tool", str(i), files, [Command("tool", name)])
        timings["switch"].append(time.perf_counter() - started)
        started = time.perf_counter()
        shutil.copyfile(versions[i], plain / name)
        timings["plain copy"].append(time.perf_counter() - started)
        started = time.perf_counter()
        store.rollback("tool")
        timings["rollback"].append(time.perf_counter() - started)
        store.rollback("tool")  # back to version i, untimed
        if i % 4 == 0:
            store.gc()  # keep the store small, as a user's would be
    return timings


if __name__ == "__main__":
    directory, layout, payload, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    print(json.dumps(measure(Path(directory), layout, payload, rounds)))
