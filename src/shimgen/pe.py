"""Reading and extending PE files (Windows executables) with pefile.

Only what shimgen needs: which machine and subsystem an executable targets (a
native GUI tool must get a GUI launcher of the same architecture), its sections
and manifest, and adding one data section to a launcher stub. Works the same
on every OS, so launchers can be generated for Windows from Linux or macOS.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from shimgen.errors import ShimgenError

if TYPE_CHECKING:
    import pefile


class Arch(str, Enum):
    """The Windows architectures shimgen ships launchers for."""

    X86 = "x86"
    X64 = "x64"
    ARM64 = "arm64"

    def __str__(self) -> str:
        return self.value


MACHINE_ARCH = {0x014C: Arch.X86, 0x8664: Arch.X64, 0xAA64: Arch.ARM64}
SUBSYSTEM_GUI = 2
SUBSYSTEM_CONSOLE = 3
_SECTION_HEADER = struct.Struct("<8sIIIIIIHHI")
_READ_ONLY_DATA = 0x40000040  # IMAGE_SCN_CNT_INITIALIZED_DATA | IMAGE_SCN_MEM_READ
_RT_MANIFEST = 24


@dataclass(frozen=True)
class PEInfo:
    """What shimgen needs to know about an executable."""

    machine: int
    arch: Arch | None  # None for machines shimgen has no launcher for
    subsystem: int
    sections: tuple[str, ...]

    @property
    def gui(self) -> bool:
        return self.subsystem == SUBSYSTEM_GUI


def is_pe(data: bytes) -> bool:
    """Cheap test: an MZ header pointing at a PE signature."""
    if len(data) < 0x40 or data[:2] != b"MZ":
        return False
    (offset,) = struct.unpack_from("<I", data, 0x3C)
    return offset + 4 <= len(data) and data[offset : offset + 4] == b"PE\0\0"


def _parse(data: bytes) -> pefile.PE:
    import pefile  # ~20 ms: only for commands that read or patch PE files

    try:
        return pefile.PE(data=data, fast_load=True)
    except pefile.PEFormatError as error:
        raise ShimgenError(f"not a valid Windows executable ({error.value})") from None


def read_pe_info(data: bytes) -> PEInfo | None:
    """Machine, subsystem and sections of a PE file, or None if ``data`` is not one."""
    if not is_pe(data):
        return None
    pe = _parse(data)
    machine = pe.FILE_HEADER.Machine
    return PEInfo(
        machine=machine,
        arch=MACHINE_ARCH.get(machine),
        subsystem=pe.OPTIONAL_HEADER.Subsystem,
        sections=tuple(s.Name.rstrip(b"\0").decode("ascii", "replace") for s in pe.sections),
    )


def read_section(data: bytes, name: str) -> bytes | None:
    """The raw bytes of section ``name`` (trimmed to its virtual size), or None."""
    pe = _parse(data)
    for section in pe.sections:
        if section.Name.rstrip(b"\0") == name.encode("ascii"):
            raw: bytes = section.get_data()
            return raw[: section.Misc_VirtualSize]
    return None


def read_manifest(data: bytes) -> bytes | None:
    """The embedded application manifest (resource type RT_MANIFEST), or None."""
    import pefile  # ~20 ms: only for commands that read or patch PE files

    pe = pefile.PE(data=data, fast_load=True)
    pe.parse_data_directories(directories=[pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_RESOURCE"]])
    resources = getattr(pe, "DIRECTORY_ENTRY_RESOURCE", None)
    for kind in resources.entries if resources else []:
        if kind.id != _RT_MANIFEST:
            continue
        for name in kind.directory.entries:
            for language in name.directory.entries:
                entry = language.data.struct
                manifest: bytes = pe.get_data(entry.OffsetToData, entry.Size)
                return manifest
    return None


def imported_dlls(data: bytes) -> dict[str, list[str]]:
    """DLL name (lower case) -> imported function names."""
    import pefile  # ~20 ms: only for commands that read or patch PE files

    pe = pefile.PE(data=data, fast_load=True)
    pe.parse_data_directories(directories=[pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_IMPORT"]])
    return {
        entry.dll.decode("ascii").lower(): [i.name.decode("ascii") for i in entry.imports if i.name]
        for entry in getattr(pe, "DIRECTORY_ENTRY_IMPORT", [])
    }


def _align(value: int, alignment: int) -> int:
    return (value + alignment - 1) // alignment * alignment


def add_section(data: bytes, name: str, payload: bytes) -> bytes:
    """Return ``data`` with a new read-only data section ``name`` holding ``payload``.

    The section is appended after the last one, headers are updated and the PE
    checksum is recomputed. Refuses if the headers have no room for one more
    section header (launcher stubs always have).
    """
    import pefile  # ~20 ms: only for commands that read or patch PE files

    if len(name) > 8:
        raise ValueError(f"section name {name!r} is longer than 8 bytes")
    pe = _parse(data)
    if pe.get_overlay_data_start_offset() is not None:
        raise ShimgenError("cannot add a section to an executable with appended data (an overlay)")
    file_alignment = pe.OPTIONAL_HEADER.FileAlignment
    section_alignment = pe.OPTIONAL_HEADER.SectionAlignment
    last = pe.sections[-1]
    header_offset = last.get_file_offset() + _SECTION_HEADER.size
    first_raw = min(s.PointerToRawData for s in pe.sections if s.PointerToRawData)
    if header_offset + _SECTION_HEADER.size > min(pe.OPTIONAL_HEADER.SizeOfHeaders, first_raw):
        raise ShimgenError("no room in the PE headers for another section")

    raw_offset = _align(len(data), file_alignment)
    raw_size = _align(len(payload), file_alignment)
    virtual_address = _align(
        last.VirtualAddress + max(last.Misc_VirtualSize, last.SizeOfRawData), section_alignment
    )
    pe.FILE_HEADER.NumberOfSections += 1
    pe.OPTIONAL_HEADER.SizeOfImage = _align(virtual_address + len(payload), section_alignment)
    pe.OPTIONAL_HEADER.SizeOfInitializedData += raw_size
    image = bytearray(pe.write())
    image[header_offset : header_offset + _SECTION_HEADER.size] = _SECTION_HEADER.pack(
        name.encode("ascii"), len(payload), virtual_address, raw_size, raw_offset, 0, 0, 0, 0, _READ_ONLY_DATA
    )
    image += b"\0" * (raw_offset - len(image)) + payload + b"\0" * (raw_size - len(payload))

    final = pefile.PE(data=bytes(image), fast_load=True)
    final.OPTIONAL_HEADER.CheckSum = final.generate_checksum()
    result: bytes = final.write()
    return result
