"""What a Linux program is built for, read from its ELF headers without running it.

pip judges a wheel by the Python that runs pip; shimgen judges it for an
environment's Python, which it does not run (the environment may be half made,
or its Python built for another machine). So the facts pip's tags need are read
from that Python's file: 32 or 64 bits, the machine, the ARM float ABI, and the
program interpreter (``PT_INTERP``): the loader of its C library, which says
glibc or musl and, read in turn, which version. packaging reads the same
headers for the running Python (``packaging._manylinux``, private, so not used).
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

EM_386, EM_ARM, EM_X86_64 = 3, 40, 62
_EF_ARM_ABIMASK, _EF_ARM_ABI_VER5, _EF_ARM_ABI_FLOAT_HARD = 0xFF000000, 0x05000000, 0x00000400
_PT_INTERP = 3
_MAX_HEADERS = 256  # program headers read; real programs have about a dozen
_MAX_INTERPRETER = 4096


@dataclass(frozen=True)
class ElfProgram:
    """An ELF program's own description of what runs it."""

    bits: int  # 32 or 64
    little_endian: bool
    machine: int  # e_machine
    flags: int  # e_flags
    interpreter: str | None  # its loader (PT_INTERP); None for a static program

    @property
    def arm_hard_float(self) -> bool:
        """A 32-bit ARM program of the hard-float EABI (``armhf``), the only ARM manylinux targets."""
        return (
            self.machine == EM_ARM
            and self.bits == 32
            and self.little_endian
            and self.flags & _EF_ARM_ABIMASK == _EF_ARM_ABI_VER5
            and self.flags & _EF_ARM_ABI_FLOAT_HARD == _EF_ARM_ABI_FLOAT_HARD
        )


def read_elf(path: Path) -> ElfProgram | None:
    """The ELF header and program interpreter of ``path`` (a link is followed); None if not ELF."""
    try:
        with open(path, "rb") as stream:
            ident = stream.read(16)
            if len(ident) < 16 or ident[:4] != b"\x7fELF" or ident[4] not in (1, 2) or ident[5] not in (1, 2):
                return None
            bits, order = (32 if ident[4] == 1 else 64), ("<" if ident[5] == 1 else ">")
            header = struct.Struct(order + ("HHIIIIIHHH" if bits == 32 else "HHIQQQIHHH"))
            fields = header.unpack(stream.read(header.size))
            machine, phoff, flags, phentsize, phnum = fields[1], fields[4], fields[6], fields[8], fields[9]
            interpreter = _interpreter(stream, order, bits, phoff, phentsize, min(phnum, _MAX_HEADERS))
    except (OSError, struct.error):
        return None
    return ElfProgram(bits, order == "<", machine, flags, interpreter)


def _interpreter(
    stream: BinaryIO, order: str, bits: int, phoff: int, phentsize: int, phnum: int
) -> str | None:
    """The path in the ``PT_INTERP`` program header, if there is one."""
    # p_type, then (32-bit) p_offset .. or (64-bit) p_flags, p_offset, p_vaddr, p_paddr, p_filesz
    layout = struct.Struct(order + ("IIIII" if bits == 32 else "IIQQQQ"))
    for index in range(phnum):
        stream.seek(phoff + index * phentsize)
        fields = layout.unpack(stream.read(layout.size))
        if fields[0] != _PT_INTERP:
            continue
        offset, size = (fields[1], fields[4]) if bits == 32 else (fields[2], fields[5])
        if size > _MAX_INTERPRETER:
            return None
        stream.seek(offset)
        return stream.read(size).split(b"\0", 1)[0].decode("utf-8", "replace") or None
    return None


@dataclass(frozen=True)
class Libc:
    """The C library a program is loaded with: ``glibc`` or ``musl``, and its version if known."""

    name: str
    version: tuple[int, int] | None

    def __str__(self) -> str:
        return (
            f"{self.name} {self.version[0]}.{self.version[1]}"
            if self.version
            else f"{self.name}, version unknown"
        )


def libc_of(program: ElfProgram) -> Libc | None:
    """The C library ``program`` is loaded with, by its loader's name; None for a static program.

    glibc's version is read from its loader's file (the banner ``ld.so --version`` prints, "...
    release version 2.36."), so nothing runs. musl keeps no such text: its loader is run with no
    arguments and prints its version, as packaging does for the running Python. A loader this
    machine does not have gives no version (see shimgen.tags for what that means).
    """
    loader = program.interpreter
    if loader is None:
        return None
    if "musl" in Path(loader).name:
        return Libc("musl", _musl_version(loader))
    return Libc("glibc", _glibc_version(Path(loader)))


_GLIBC_BANNER = re.compile(rb"release version (\d+)\.(\d+)")


def _glibc_version(loader: Path) -> tuple[int, int] | None:
    try:
        data = loader.read_bytes()
    except OSError:
        return None
    match = _GLIBC_BANNER.search(data)
    return (int(match[1]), int(match[2])) if match else None


def _musl_version(loader: str) -> tuple[int, int] | None:
    import subprocess  # only for a musl Python: glibc's version is read, not run

    try:
        result = subprocess.run([loader], capture_output=True, text=True, errors="replace", timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return parse_musl_version(result.stderr)


def parse_musl_version(output: str) -> tuple[int, int] | None:
    """The version in what musl's loader prints when run alone ("musl libc (x86_64)\\nVersion 1.2.4")."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    if len(lines) < 2 or not lines[0].startswith("musl"):
        return None
    match = re.match(r"Version (\d+)\.(\d+)", lines[1])
    return (int(match[1]), int(match[2])) if match else None
