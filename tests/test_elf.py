"""What a Linux program is built for, read from real ELF files: this Python's, and programs zig
builds for other machines and C libraries."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from shimgen.elf import EM_386, EM_ARM, EM_X86_64, Libc, libc_of, parse_musl_version, read_elf
from tests.helpers.programs import linux_program

linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads this Linux machine's C library"
)


@linux_only
def test_the_glibc_version_read_from_the_loader_is_the_one_this_python_runs_with() -> None:
    program = read_elf(Path(sys.executable))
    assert program is not None and program.interpreter is not None
    confstr = os.confstr("CS_GNU_LIBC_VERSION")  # "glibc 2.36": what packaging asks the running process
    if confstr is None:
        pytest.skip("not a glibc system")
    major, minor = confstr.split()[1].split(".")[:2]
    assert libc_of(program) == Libc("glibc", (int(major), int(minor)))


@pytest.mark.zig
@pytest.mark.parametrize(
    ("target", "static", "bits", "machine", "loader", "hard_float"),
    [
        ("x86_64-linux-gnu", False, 64, EM_X86_64, "/lib64/ld-linux-x86-64.so.2", False),
        ("x86-linux-gnu", False, 32, EM_386, "/lib/ld-linux.so.2", False),
        ("aarch64-linux-gnu", False, 64, 183, "/lib/ld-linux-aarch64.so.1", False),
        ("arm-linux-gnueabihf", False, 32, EM_ARM, "/lib/ld-linux-armhf.so.3", True),
        ("arm-linux-gnueabi", False, 32, EM_ARM, "/lib/ld-linux.so.3", False),
        ("x86_64-linux-musl", False, 64, EM_X86_64, "/lib/ld-musl-x86_64.so.1", False),
        ("x86_64-linux-musl", True, 64, EM_X86_64, None, False),  # static: no loader
    ],
)
def test_elf_headers_of_programs_for_other_machines(
    tmp_path: Path,
    target: str,
    static: bool,
    bits: int,
    machine: int,
    loader: str | None,
    hard_float: bool,
) -> None:
    program = read_elf(linux_program(tmp_path, target, static=static))
    assert program is not None
    assert (program.bits, program.machine, program.interpreter) == (bits, machine, loader)
    assert program.little_endian
    assert program.arm_hard_float is hard_float  # manylinux's armv7l wheels need the hard-float ABI
    libc = libc_of(program)
    if loader is None:
        assert libc is None
    else:
        assert libc is not None and libc.name == ("musl" if "musl" in loader else "glibc")
        # The version is read from the loader, if this machine has it (i386 glibc comes with wine32).
        assert (libc.version is not None) == Path(loader).exists()


def test_files_that_are_not_elf_programs(tmp_path: Path) -> None:
    script = tmp_path / "python"
    script.write_bytes(b"#!/bin/sh\n")
    truncated = tmp_path / "truncated"
    truncated.write_bytes(b"\x7fELF\x02\x01\x01" + b"\0" * 20)
    for path in (script, truncated, tmp_path / "missing", tmp_path):
        assert read_elf(path) is None


def test_musl_version_from_what_its_loader_prints() -> None:
    assert parse_musl_version("musl libc (x86_64)\nVersion 1.2.4\nDynamic Program Loader\n") == (1, 2)
    assert parse_musl_version("musl libc (aarch64)\nVersion 1.1.24\n") == (1, 1)
    assert parse_musl_version("ld.so (GNU libc) stable release version 2.36.\n") is None
    assert parse_musl_version("") is None
