"""Reading and extending PE files: sections, and garbage that is no PE file."""

from __future__ import annotations

import pytest

from shimgen.errors import ShimgenError
from shimgen.launcher import stub_bytes
from shimgen.pe import add_section, read_pe_info, read_section


def test_add_section_refuses_overlays_and_long_names() -> None:
    with pytest.raises(ShimgenError, match="overlay"):
        add_section(stub_bytes("x64") + b"zipdata", ".shimcfg", b"x")
    with pytest.raises(ValueError):
        add_section(stub_bytes("x64"), ".toolongname", b"x")
    assert read_section(add_section(stub_bytes("x86"), ".extra", b"hello"), ".extra") == b"hello"


def test_pe_info_of_garbage_is_none() -> None:
    assert read_pe_info(b"") is None
