"""Real Linux programs for other machines and C libraries, compiled by the pinned zig (ziglang).

What shimgen reads from an environment's Python (its ELF class, machine and flags, and its
program interpreter, the loader of its C library) is tested on real programs: an i386, armhf,
soft-float ARM, aarch64, x86_64 glibc or musl build of a small ``main``, compiled and linked by
a real toolchain.

They are linked without the C library, against a stub shared library, with the loader the
target's C library names given as the interpreter. Building a target's C library is what a
first build costs: about 40 s per target (131 s for static musl) on this project's machine,
some six minutes on every clean CI machine, for header fields that are the same either way.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# The program interpreter each target's C library installs and its toolchains (gcc, clang,
# zig cc) write into every dynamically linked program: what a Python built there carries.
LOADERS = {
    "x86_64-linux-gnu": "/lib64/ld-linux-x86-64.so.2",
    "x86-linux-gnu": "/lib/ld-linux.so.2",
    "aarch64-linux-gnu": "/lib/ld-linux-aarch64.so.1",
    "arm-linux-gnueabihf": "/lib/ld-linux-armhf.so.3",
    "arm-linux-gnueabi": "/lib/ld-linux.so.3",
    "x86_64-linux-musl": "/lib/ld-musl-x86_64.so.1",
}


def linux_program(folder: Path, target: str, *, static: bool = False) -> Path:
    """A program built for zig's ``target`` (``x86-linux-gnu``, ``arm-linux-gnueabihf``...):
    dynamically linked, with :data:`LOADERS`'s loader as its interpreter, or ``static`` (none)."""
    folder.mkdir(parents=True, exist_ok=True)
    program = folder / f"program-{target}{'-static' if static else ''}"
    (folder / "main.c").write_text("int helper(void);\nint main(void) { return helper(); }\n")
    (folder / "helper.c").write_text("int helper(void) { return 0; }\n")
    if static:
        _zig_cc(target, "-static", "-o", program, folder / "main.c", folder / "helper.c")
        return program
    library = folder / f"libhelper-{target}.so"
    _zig_cc(target, "-shared", "-o", library, folder / "helper.c")
    _zig_cc(
        target,
        f"-Wl,--dynamic-linker={LOADERS[target]}",
        "-Wl,--allow-shlib-undefined",  # the stub library's own needs (ARM's unwinder) stay unresolved
        "-o",
        program,
        folder / "main.c",
        library,
    )
    return program


def _zig_cc(target: str, *arguments: str | Path) -> None:
    """``zig cc`` without the C library or its start files: ``main`` is the entry point."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "ziglang",
            "cc",
            "-target",
            target,
            "-nostdlib",
            "-Wl,-e,main",
            *map(str, arguments),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
