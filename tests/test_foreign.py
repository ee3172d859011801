"""Launchers other tools make, decoded: distlib's, uv's, setuptools'; hostile ones neither hang,
exhaust memory nor end in a traceback."""

from __future__ import annotations

import struct
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from shimgen import stub_bytes
from shimgen.foreign import decode, parse_shebang
from tests.helpers.cli import run
from tests.helpers.foreign import (
    DISTLIB,
    PYTHON,
    UV_MAIN,
    distlib_launcher,
    uv_trampoline,
    zipped_main,
)


def test_decode_each_kind(tmp_path: Path) -> None:
    console = decode(distlib_launcher(tmp_path, "black = black.sub:main.run"))
    assert console is not None and (console.kind, console.gui, console.interpreter) == (
        "distlib",
        False,
        PYTHON,
    )
    assert (console.module, console.attr) == ("black.sub", "main.run")
    gui = decode(distlib_launcher(tmp_path, "blackgui = black:gui", gui=True))
    assert gui is not None and gui.gui and gui.interpreter.endswith("pythonw.exe")
    uv = tmp_path / "uvtool.exe"
    uv.write_bytes(uv_trampoline(b"UVSC", "python.exe", UV_MAIN))
    decoded = decode(uv)
    assert decoded is not None and (decoded.kind, decoded.module, decoded.attr) == (
        "uv",
        "uvtool.cli",
        "main",
    )
    proxy = tmp_path / "python3.exe"
    proxy.write_bytes(uv_trampoline(b"UVPY", "C:\\py\\python.exe"))
    assert decode(proxy).module is None
    assert decode_bytes(stub_bytes("x64")) is None and decode_bytes(b"not a program") is None


def decode_bytes(data: bytes):  # type: ignore[no-untyped-def]
    return decode(Path("x.exe"), data)


@pytest.mark.parametrize(
    ("line", "interpreter"),
    [
        ('#!"C:\\Program Files\\v\\python.exe" -E', "C:\\Program Files\\v\\python.exe"),
        ("#!C:\\Program Files\\v\\python.exe", "C:\\Program Files\\v\\python.exe"),
        ("#!C:\\v\\python.exe -E", "C:\\v\\python.exe"),
        ("#!python", "python"),
        ("no shebang", None),
    ],
)
def test_parse_shebang(line: str, interpreter: str | None) -> None:
    assert parse_shebang(line) == interpreter


def test_a_main_py_of_blank_lines_decodes_in_linear_time(tmp_path: Path) -> None:
    """\\s* at a line start made the import pattern quadratic: a million newlines took minutes.
    Run in a child with a generous timeout, so a regression fails instead of hanging the suite."""
    launcher = tmp_path / "slow.exe"
    main_py = b"\n" * 1_000_000 + b"fro\nfrom black import main\nsys.exit(main())\n"  # under the 1 MiB cap
    launcher.write_bytes(
        (DISTLIB / "t64.exe").read_bytes()
        + b"#!C:\\v\\python.exe\n"
        + zipped_main(main_py, zipfile.ZIP_DEFLATED)
    )
    code = f"import pathlib, shimgen.foreign as f; print(f.decode(pathlib.Path({str(launcher)!r})))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "kind='distlib'" in result.stdout and "module=None" in result.stdout  # not a template


def test_a_zip_bomb_in_a_launcher_is_not_inflated(tmp_path: Path) -> None:
    """A 100 KiB launcher whose __main__.py inflates to 200 MiB used 3 GB to be inspected."""
    launcher = tmp_path / "bomb.exe"
    bomb = zipped_main(b"#" * (200 << 20), zipfile.ZIP_DEFLATED)
    launcher.write_bytes((DISTLIB / "t64.exe").read_bytes() + b"#!C:\\v\\python.exe\n" + bomb)
    tracemalloc.start()
    try:
        decoded = decode(launcher)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert decoded is None
    assert peak < 20 << 20, f"{peak} bytes allocated"


def resources_pointing_nowhere(image: bytes, name: str) -> bytes:
    """``image`` with a resource tree of one named RT_RCDATA entry whose data RVA is out of the image."""
    import pefile

    from shimgen import pe

    probe = pe.add_section(image, ".rsrc2", bytes(4096))
    section = pefile.PE(data=probe, fast_load=True).sections[-1].VirtualAddress
    directory = struct.pack("<IIHHHH", 0, 0, 0, 0, 0, 1)  # header: no named entries, one by id
    tree = directory + struct.pack("<II", 10, 0x80000000 | 0x18)  # RT_RCDATA -> the name level
    tree += struct.pack("<IIHHHH", 0, 0, 0, 0, 1, 0) + struct.pack(
        "<II", 0x80000000 | 0x58, 0x80000000 | 0x30
    )
    tree += directory + struct.pack("<II", 0x409, 0x48)  # the language level -> the data entry
    tree += struct.pack("<IIII", 0x7FFFFFF0, 16, 0, 0)  # the data entry: an RVA far outside
    tree += struct.pack("<H", len(name)) + name.encode("utf-16-le")  # at 0x58: the name
    patched = pefile.PE(data=pe.add_section(image, ".rsrc2", tree + bytes(4096 - len(tree))), fast_load=True)
    patched.OPTIONAL_HEADER.DATA_DIRECTORY[2].VirtualAddress = section
    patched.OPTIONAL_HEADER.DATA_DIRECTORY[2].Size = len(tree)
    return bytes(patched.write())


@pytest.mark.parametrize(
    "broken",
    [
        "compression",  # a compression method zipfile does not know
        "resources",  # uv-like resources whose data RVA points nowhere
    ],
)
def test_a_malformed_launcher_is_not_a_traceback(tmp_path: Path, broken: str) -> None:
    if broken == "compression":
        archive = bytearray(zipped_main(b"from black import main\n"))
        for header in (b"PK\x03\x04", b"PK\x01\x02"):  # the method field in both headers: 99
            at = archive.find(header)
            offset = 8 if header == b"PK\x03\x04" else 10
            archive[at + offset : at + offset + 2] = struct.pack("<H", 99)
        data = (DISTLIB / "t64.exe").read_bytes() + b"#!C:\\v\\python.exe\n" + bytes(archive)
    else:
        data = resources_pointing_nowhere((DISTLIB / "t64.exe").read_bytes(), "UV_TRAMPOLINE_KIND")
    launcher = tmp_path / "odd.exe"
    launcher.write_bytes(data)
    assert decode(launcher) is None
    code, _, err = run("inspect", launcher)
    assert code == 0 and "Traceback" not in err
