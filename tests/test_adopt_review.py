"""Regressions from a security review of adopt and the foreign-launcher decoders.

Each test is a defect a reviewer reproduced: launchers for another Python replaced silently,
hostile launchers that hung or exhausted memory, one odd file aborting the whole adoption, and
an interrupted adoption that a re-run did not finish.
"""

from __future__ import annotations

import struct
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from shimgen.doctor import PROBLEM, doctor
from shimgen.foreign import decode
from shimgen.store import Store
from tests.helpers.cli import run
from tests.helpers.foreign import DISTLIB, WindowsScriptMaker, zipped_main
from tests.helpers.wheels import assert_record_follows_rule
from tests.test_adopt import dist_info, pip_style_environment


def launcher_for(folder: Path, spec: str, python: str) -> Path:
    maker = WindowsScriptMaker(None, str(folder), add_launchers=True)
    maker._is_nt = True
    maker.executable = python
    maker.variants = {""}
    (path,) = maker.make(spec)
    return Path(path)


def test_a_launcher_for_another_python_is_left_alone_and_listed(tmp_path: Path) -> None:
    """pip's launcher for a base Python (C:\\Python311\\python.exe) must not become one for
    Scripts\\python.exe; and an environment without Scripts\\python.exe gets no Python launchers."""
    prefix = tmp_path / "env"
    scripts, site = prefix / "Scripts", prefix / "Lib" / "site-packages"
    scripts.mkdir(parents=True)
    site.mkdir(parents=True)
    base = launcher_for(scripts, "base = black:main", r"C:\Python311\python.exe")
    other_venv = launcher_for(scripts, "other = black:main", r"C:\elsewhere\venv\Python\python.exe")
    dist_info(site, "black", "24.1", [base, other_venv])
    before = {p.name: p.read_bytes() for p in scripts.iterdir()}

    code, out, err = run("adopt", "--prefix", prefix, "--platform", "win_amd64")
    assert code == 0, err
    assert "skipped base.exe: this environment has no Scripts/python.exe" in out
    assert {p.name: p.read_bytes() for p in scripts.iterdir()} == before

    (scripts / "python.exe").write_bytes((DISTLIB / "t64.exe").read_bytes() + b"a stand-in")
    code, out, err = run("adopt", "--prefix", prefix, "--platform", "win_amd64")
    assert code == 0, err
    # The path as the user would type it: one backslash each (it was printed doubled, by repr).
    assert "skipped base.exe: it runs 'C:\\Python311\\python.exe', not this environment's Python" in out
    assert "skipped other.exe: it runs" in out and "nothing to adopt" in out
    assert base.read_bytes() == before["base.exe"] and other_venv.read_bytes() == before["other.exe"]


def test_one_odd_launcher_is_skipped_alone(tmp_path: Path) -> None:
    """A launcher whose name cannot be a command, or whose entry point cannot be one, used to
    abort the adoption of every distribution."""
    prefix = pip_style_environment(tmp_path)
    scripts, site = prefix / "Scripts", prefix / "Lib" / "site-packages"
    hidden = scripts / ".hidden.exe"
    hidden.write_bytes((DISTLIB / "t64.exe").read_bytes() + b"a native program")
    relative = scripts / "rel.exe"
    relative.write_bytes(
        (DISTLIB / "t64.exe").read_bytes()
        + b"#!C:\\v\\Scripts\\python.exe\n"
        + zipped_main(b"import sys\nfrom .cli import main\nsys.exit(main())\n")
    )
    dist_info(site, "odd", "1.0", [hidden, relative])
    code, out, err = run("adopt", "--prefix", prefix, "--platform", "win_amd64")
    assert code == 0, err
    assert "skipped .hidden.exe: invalid command name '.hidden': starts with a dot" in out
    # Not a known template: adopted with its script as it is (it used to be refused as an entry point).
    assert (
        "rel.exe: distlib launcher running a script of its own (not a known template: kept as it is)" in out
    )
    assert "adopted black 24.1:" in out and "adopted uvtool 0.1:" in out


def test_an_unreadable_record_is_listed_not_dropped_in_silence(tmp_path: Path) -> None:
    prefix = pip_style_environment(tmp_path)
    site = prefix / "Lib" / "site-packages"
    record = site / "black-24.1.dist-info" / "RECORD"
    record.write_text(record.read_text() + "../../../../outside.txt,,\n")
    code, out, err = run("adopt", "--prefix", prefix, "--platform", "win_amd64", "--dry-run")
    assert code == 0, err
    # Named by its distribution (it said "skipped RECORD"), the path as written, without repr's quoting.
    assert (
        "skipped black-24.1.dist-info/RECORD: black 24.1: RECORD names a file outside the environment: "
        "'../../../../outside.txt'" in out
    )
    assert "its files are treated as owned by nothing" in out
    assert "left alone (owned by no distribution): black.exe" in out


def test_an_interrupted_adoption_is_finished_by_running_it_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed after black's publish and before its RECORD was rewritten: the re-run used to see
    shimgen launchers, plan nothing, and leave black's RECORD untrue for good."""
    import shimgen.adopt

    prefix = pip_style_environment(tmp_path)
    original = shimgen.adopt.rewrite_record

    def crash(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(shimgen.adopt, "rewrite_record", crash)
    with pytest.raises(KeyboardInterrupt):
        shimgen.adopt.adopt(Store(prefix), platform="win_amd64")
    monkeypatch.setattr(shimgen.adopt, "rewrite_record", original)

    code, out, err = run("adopt", "--prefix", prefix, "--dry-run")
    assert code == 0 and "would rewrite the RECORD of black 24.1: its launchers first" in out, err
    code, out, err = run("adopt", "--prefix", prefix)
    assert code == 0, err
    for info in (prefix / "Lib" / "site-packages").glob("*.dist-info"):
        paths = assert_record_follows_rule(info)
        if info.name.startswith("black"):
            assert paths[:2] == ["../../Scripts/black.exe", "../../Scripts/blackgui.exe"]
    assert [f for f in doctor(Store(prefix)) if f.severity == PROBLEM] == []
    code, out, _ = run("adopt", "--prefix", prefix)
    assert (code, out) == (0, "nothing to adopt\n")


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


def test_control_characters_from_a_launcher_do_not_reach_the_terminal(tmp_path: Path) -> None:
    path = "C:\\v\\\x1b[31mred\x07\\python.exe"
    launcher = tmp_path / "ansi.exe"
    launcher.write_bytes(
        (DISTLIB / "t64.exe").read_bytes()
        + f"#!{path}\n".encode()
        + zipped_main(b"from black import main\nsys.exit(main())\n")
    )
    code, out, _ = run("inspect", launcher)
    assert code == 0 and "\x1b" not in out and "\x07" not in out
    assert "\\x1b[31mred\\x07" in out
