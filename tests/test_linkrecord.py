"""Link records and launcher config sections: the two small texts a launcher reads (the path rules
they apply: tests/test_paths.py)."""

from __future__ import annotations

import pytest

from shimgen.errors import RecordError
from shimgen.linkrecord import (
    MAX_RECORD_BYTES,
    LauncherConfig,
    LinkRecord,
)


def test_native_record_round_trip() -> None:
    record = LinkRecord(".shimgen/store/ruff/0.17.6-abc/ruff.exe")
    assert record.to_bytes() == b"shimgen-link 1\ntarget=.shimgen/store/ruff/0.17.6-abc/ruff.exe\n"
    assert LinkRecord.from_bytes(record.to_bytes()) == record


def test_python_record_round_trip_and_crlf() -> None:
    record = LinkRecord("Scripts/python.exe", ".shimgen/store/black/24.1-x/black-script.py")
    assert LinkRecord.from_bytes(record.to_bytes()) == record
    assert LinkRecord.from_bytes(record.to_bytes().replace(b"\n", b"\r\n")) == record


def test_unicode_paths_are_utf8() -> None:
    record = LinkRecord(".shimgen/store/outil/1.0-x/outil ✓.exe")
    assert "outil ✓".encode() in record.to_bytes()
    assert LinkRecord.from_bytes(record.to_bytes()) == record


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"hello\n", "not a shimgen-link record"),
        (b"shimgen-link 2\ntarget=x.exe\n", "format version '2'"),
        (b"shimgen-link 1\ntarget=a.exe\ntarget=b.exe\n", "given twice"),
        (b"shimgen-link 1\ncolour=blue\n", "unknown key 'colour'"),
        (b"shimgen-link 1\ntarget\n", "has no '='"),
        (b"shimgen-link 1\nscript=x.py\n", "no target"),
        (b"shimgen-link 1\ntarget=\xff.exe\n", "not UTF-8"),
        (b"shimgen-link 1\ntarget=a\x01.exe\n", "control character"),
        (b"shimgen-link 1\ntarget=" + b"x" * MAX_RECORD_BYTES + b"\n", "too large"),
        (b"shimgen-link 1\ntarget=../x.exe\n", "'..'"),
        (b"shimgen-link 1\ntarget=C:/x.exe\n", "reserved character"),
    ],
)
def test_invalid_records_are_refused_with_a_reason(data: bytes, message: str) -> None:
    with pytest.raises(RecordError, match=message.replace("(", r"\(")) as raised:
        LinkRecord.from_bytes(data, source="links/tool")
    assert raised.value.path == "links/tool"


def test_newer_version_says_to_upgrade() -> None:
    with pytest.raises(RecordError) as raised:
        LinkRecord.from_bytes(b"shimgen-link 7\ntarget=x\n")
    assert "upgrade shimgen" in str(raised.value)


def test_launcher_config_round_trip_ignores_nul_padding() -> None:
    config = LauncherConfig(command="tool", prefix="..\\..")
    assert config.to_bytes() == b"shimgen-launcher 1\ncommand=tool\nprefix=..\\..\n"
    assert LauncherConfig.from_bytes(config.to_bytes() + b"\0" * 300) == config
    with pytest.raises(RecordError):
        LauncherConfig.from_bytes(b"shimgen-link 1\ntarget=x\n")
