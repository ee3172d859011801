"""Real Linux programs for other machines and C libraries, compiled by the pinned zig (ziglang).

What shimgen reads from an environment's Python (its ELF header, its loader) is tested on real
programs: an i386, armhf, soft-float ARM, aarch64, or musl build of an empty ``main``, made the way
a C compiler makes any of them. zig caches what it builds: after the first run this is offline.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def linux_program(folder: Path, target: str, *flags: str) -> Path:
    """An empty C program built for zig's ``target`` (``x86-linux-gnu``, ``arm-linux-gnueabihf``...)."""
    source = folder / "main.c"
    source.write_text("int main(void) { return 0; }\n")
    program = folder / f"program-{target}{''.join(flags)}"
    subprocess.run(
        [sys.executable, "-m", "ziglang", "cc", "-target", target, *flags, "-o", str(program), str(source)],
        check=True,
        capture_output=True,
        timeout=900,  # the first build for a target compiles its C library
    )
    return program
