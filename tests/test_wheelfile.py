"""Reading a wheel without trusting it: members, RECORD's hashes and sizes, the dist-info folders."""

from __future__ import annotations

import tracemalloc
import zipfile
from pathlib import Path

import pytest

from shimgen.errors import PathRefused, ShimgenError
from shimgen.wheelfile import WheelFile, parse_headers
from tests.helpers.cli import run
from tests.helpers.wheels import (
    build_wheel,
    record_hash,
)


def _rewrite(wheel: Path, member: str, data: bytes) -> None:
    with zipfile.ZipFile(wheel) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members[member] = data
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)


def test_tampered_wheels_are_refused(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path, "tool", "1.0", {"tool/__init__.py": b"x = 1\n"})
    _rewrite(wheel, "tool/__init__.py", b"x = 2\n")
    with WheelFile(wheel) as opened, pytest.raises(ShimgenError, match="does not match its RECORD hash"):
        opened.verify()


@pytest.mark.parametrize("member", ["../evil.py", "/abs.py", "C:/x.py", "a\\b.py", "a/./b.py"])
def test_wheel_members_that_could_escape_are_refused(tmp_path: Path, member: str) -> None:
    wheel = build_wheel(tmp_path, "tool", "1.0", {member: b""})
    with pytest.raises(PathRefused, match="could escape"):
        WheelFile(wheel)


def test_structurally_broken_wheels(tmp_path: Path) -> None:
    unlisted = build_wheel(tmp_path, "tool", "1.0", extra_members={"tool/sneaky.py": b""})
    with pytest.raises(ShimgenError, match="not listed in RECORD"):
        WheelFile(unlisted)
    bad_name = tmp_path / "tool.whl"
    bad_name.write_bytes(b"")
    with pytest.raises(ShimgenError, match="not a wheel file name"):
        WheelFile(bad_name)
    not_zip = tmp_path / "tool-1.0-py3-none-any.whl"
    not_zip.write_bytes(b"not a zip")
    with pytest.raises(ShimgenError, match="cannot open wheel"):
        WheelFile(not_zip)
    wrong_info = build_wheel(tmp_path, "other", "1.0")
    wrong_info.rename(tmp_path / "tool-2.0-py3-none-any.whl")
    with pytest.raises(ShimgenError, match=r"0 \.dist-info folders for tool 2\.0"):
        WheelFile(tmp_path / "tool-2.0-py3-none-any.whl")


def test_a_wheel_with_a_second_dist_info_is_refused(tmp_path: Path) -> None:
    evil = build_wheel(
        tmp_path, "evil", "1.0", {"evil/__init__.py": b"", "tool-2.0.dist-info/METADATA": b"Name: tool\n"}
    )
    with pytest.raises(ShimgenError, match=r"carries tool-2\.0\.dist-info/"):
        WheelFile(evil)


def test_a_record_size_that_is_not_a_number_is_a_clear_error(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path, "demo", "1.0", {"demo.py": b"x"})
    with zipfile.ZipFile(wheel) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    record = "demo-1.0.dist-info/RECORD"
    members[record] = members[record].replace(
        f"{record_hash(b'x')},1".encode(), f"{record_hash(b'x')},1x".encode()
    )
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    (tmp_path / "env").mkdir()
    code, _, err = run("install", "--prefix", tmp_path / "env", wheel)
    assert code == 1 and "the size is not a number" in err and "Traceback" not in err


def test_a_member_larger_than_record_says_is_refused_before_it_is_inflated(tmp_path: Path) -> None:
    """A zip bomb: 50 MiB of zeros compress to 50 KiB; RECORD promises 10 bytes."""
    wheel = build_wheel(tmp_path, "bomb", "1.0", {"bomb.py": b"0123456789"})
    with zipfile.ZipFile(wheel) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["bomb.py"] = bytes(50 << 20)
    with zipfile.ZipFile(wheel, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    del members
    tracemalloc.start()
    try:
        with WheelFile(wheel) as opened, pytest.raises(ShimgenError, match="wrong size for RECORD"):
            opened.verify()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 << 20, f"{peak} bytes allocated"


def test_a_record_row_without_a_hash_is_refused(tmp_path: Path) -> None:
    """Only RECORD itself (and signatures) may go unhashed; otherwise any bytes would pass."""
    wheel = build_wheel(tmp_path, "demo", "1.0", {"demo.py": b"x"})
    with zipfile.ZipFile(wheel) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    record = "demo-1.0.dist-info/RECORD"
    members[record] = members[record].replace(f"demo.py,{record_hash(b'x')},1".encode(), b"demo.py,,")
    members["demo.py"] = b"anything at all"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(ShimgenError, match=r"RECORD gives no hash or size for 'demo\.py'"):
        WheelFile(wheel)


@pytest.mark.parametrize(
    ("name", "why"),
    [
        # pip 25.3 and later refuse a version that is not PEP 440 in a file name (pypa/pip#12938)
        ("password_strength-0.0.1_1-py2.py3-none-any.whl", "invalid version"),
        ("tool-1.0.dev-r123-py3-none-any.whl", "Invalid build number"),
        ("tool-1.0-x1-py3-none-any.whl", "Invalid build number"),  # a build tag starts with a digit
        ("tool-1.0-py3-none.whl", "wrong number of parts"),
        ("tool__x-1.0-py3-none-any.whl", "Invalid project name"),  # PEP 427 escapes runs as one _
        ("tool-1.0-py3-none-any.zip", "extension"),
    ],
)
def test_wheel_file_names_pip_refuses_are_refused(tmp_path: Path, name: str, why: str) -> None:
    """packaging's parse_wheel_filename decides, as it does for pip; shimgen says so its own way."""
    wheel = build_wheel(tmp_path, "tool", "1.0").rename(tmp_path / name)
    with pytest.raises(ShimgenError, match="not a wheel file name") as refused:
        WheelFile(wheel)
    assert (
        why in refused.value.message and "PEP 440" in refused.value.hint and refused.value.path == str(wheel)
    )


def test_wheel_file_names_pip_takes_are_taken(tmp_path: Path) -> None:
    built = build_wheel(tmp_path, "My_Tool", "1.0rc1", {"tool/__init__.py": b""})
    for name, tags in [
        ("My_Tool-1.0rc1-py3-none-any.whl", ("py3", "none", "any")),
        ("My_Tool-1.0rc1-1-py2.py3-none-any.whl", ("py2.py3", "none", "any")),  # a build tag
        ("My_Tool-1.0rc1-12abc-cp311-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
         ("cp311", "abi3", "manylinux_2_17_x86_64.manylinux2014_x86_64")),
    ]:  # fmt: skip
        built = built.rename(tmp_path / name)
        with WheelFile(built) as opened:
            assert (opened.dist, opened.version) == ("my-tool", "1.0rc1")  # the version as written
            assert (opened.python_tag, opened.abi_tag, opened.platform) == tags


WHEEL_TEXTS = [
    "Wheel-Version: 1.0\nGenerator: bdist_wheel (0.43.0)\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    "Wheel-Version: 1.0\r\nRoot-Is-Purelib: false\r\nTag: cp313-cp313-win_amd64\r\n",
    "wheel-version:1.9\nROOT-IS-PURELIB:   True  \n",
    "Wheel-Version: 1.0\nTag: py2-none-any\nTag: py3-none-any\nWheel-Version: 2.0\n",
    "Wheel-Version: 1.0\nGenerator: a generator\n  whose name is folded\nRoot-Is-Purelib: true\n",
    "Wheel-Version: 1.0\n\nRoot-Is-Purelib: true\n",
    "Wheel-Version: 1.0\nthis line is not a field\nRoot-Is-Purelib: true\n",
    "Wheel-Version : 1.0\nRoot-Is-Purelib: true\n",
    "",
    "\n\nWheel-Version: 1.0\n",
]


@pytest.mark.parametrize("text", WHEEL_TEXTS)
def test_wheel_fields_are_read_as_email_parser_reads_them(text: str) -> None:
    from email.parser import Parser

    message = Parser().parsestr(text)
    ours = parse_headers(text)
    for field in ("Wheel-Version", "Root-Is-Purelib", "Generator", "Tag"):
        assert _words(ours.get(field.lower())) == _words(message.get(field)), (field, text)


def _words(value: str | None) -> str | None:
    """A field's value with its folding undone (email keeps the line breaks; shimgen reads words)."""
    return None if value is None else " ".join(value.split())


def test_verify_does_not_read_again_a_member_read_and_checked_already(tmp_path: Path) -> None:
    """An install holds its scripts whole, read (and checked) before verify: a big program is
    inflated and hashed once."""
    wheel = build_wheel(
        tmp_path, "tool", "1.0", {"tool/__init__.py": b"x = 1\n", "tool-1.0.data/scripts/big": b"B" * 4096}
    )
    with WheelFile(wheel) as opened:
        inflated: list[str] = []
        read = opened._zip.read
        opened._zip.read = lambda name, *args: (inflated.append(name), read(name, *args))[1]  # type: ignore[method-assign]
        opened.read("tool-1.0.data/scripts/big")
        counted: list[int] = []
        opened.verify(counted.append)
        assert inflated.count("tool-1.0.data/scripts/big") == 1 and "tool/__init__.py" in inflated
        assert sum(counted) == opened.uncompressed_size  # the progress a caller expects is unchanged
