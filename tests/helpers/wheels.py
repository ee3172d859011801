"""Build small wheels for tests, exactly as a build backend would (WHEEL, METADATA, RECORD with hashes);
the two tools the install tests install; and the checks of RECORD."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import stat
import zipfile
from collections.abc import Mapping
from pathlib import Path


def record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def record_rows(dist_info: Path) -> dict[str, list[str]]:
    """RECORD's rows by path (the csv module, as pip reads it)."""
    text = (dist_info / "RECORD").read_text(encoding="utf-8")
    return {row[0]: row for row in csv.reader(io.StringIO(text))}


def assert_record_is_true(dist_info: Path) -> dict[str, list[str]]:
    """Every file RECORD lists exists, with the hash and size it says; returns the rows."""
    rows = record_rows(dist_info)
    site = dist_info.parent
    for relative, row in rows.items():
        path = Path(os.path.normpath(site / relative))
        assert path.exists() or path.is_symlink(), (dist_info.name, relative)
        if row[1]:
            data = path.read_bytes()
            assert (row[1], int(row[2])) == (record_hash(data), len(data)), (dist_info.name, relative)
    return rows


def assert_record_follows_rule(dist_info: Path) -> list[str]:
    """RECORD by shimgen's rule (shimgen.record): true, no row for shimgen's own files, and the
    command shims (rows naming bin/, or an .exe in Scripts/: a Windows layout's other scripts are
    files like the library's) before every other row; returns its paths in order."""
    assert_record_is_true(dist_info)
    with open(dist_info / "RECORD", newline="", encoding="utf-8") as stream:
        paths = [row[0] for row in csv.reader(stream) if row]
    assert not [p for p in paths if "/.shimgen/" in f"/{p}"], paths
    shims = [
        i
        for i, p in enumerate(paths)
        if p.startswith("..")
        and (
            p.split("/")[-2:-1] == ["bin"]
            or (p.split("/")[-2:-1] == ["Scripts"] and p.lower().endswith(".exe"))
        )
    ]
    assert shims == list(range(len(shims))), paths
    return paths


def build_wheel(
    folder: Path,
    dist: str,
    version: str,
    files: Mapping[str, bytes] | None = None,
    *,
    entry_points: str | None = None,
    platform: str = "any",
    purelib: bool = True,
    extra_members: Mapping[str, bytes] | None = None,
) -> Path:
    """A wheel with ``files`` (paths inside the wheel), its dist-info and a true RECORD.

    ``extra_members`` are added to the zip but not to RECORD, to build broken wheels.
    """
    info = f"{dist}-{version}.dist-info"
    members = dict(files or {})
    members[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n".encode()
    members[f"{info}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: shimgen-tests\nRoot-Is-Purelib: {str(purelib).lower()}\n"
        f"Tag: py3-none-{platform}\n"
    ).encode()
    if entry_points is not None:
        members[f"{info}/entry_points.txt"] = entry_points.encode()
    record = "".join(f"{name},{record_hash(data)},{len(data)}\n" for name, data in members.items())
    members[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    path = folder / f"{dist}-{version}-py3-none-{platform}.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in {**members, **(extra_members or {})}.items():
            member = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            # Scripts are executable, as wheel builders mark them (pip keeps the mode it is given).
            member.external_attr = (stat.S_IFREG | (0o755 if ".data/scripts/" in name else 0o644)) << 16
            archive.writestr(member, data)
    return path


# The two small tools the install tests install: ``tooly`` (a console and a GUI entry point, and
# optionally a native program and a module only one version has) and ``tool`` (one entry point).
TOOLY_ENTRY_POINTS = "[console_scripts]\ntooly = tooly:main\n[gui_scripts]\ntooly-gui = tooly:main\n"
TOOL_POINTS = "[console_scripts]\ntool = tool:main\n"


def tooly_wheel(
    folder: Path, version: str, *, native: bytes | None = None, extra_module: bool = False
) -> Path:
    files = {"tooly/__init__.py": f"def main():\n    print('tooly {version}')\n".encode()}
    if extra_module:
        files["tooly/old_only.py"] = b"# only in this version\n"
    if native is not None:
        files[
            f"tooly-{version}.data/scripts/{'tooly-native.exe' if native[:2] == b'MZ' else 'tooly-native'}"
        ] = native
    folder.mkdir(parents=True, exist_ok=True)
    return build_wheel(folder, "tooly", version, files, entry_points=TOOLY_ENTRY_POINTS)


def tool_wheel(folder: Path, version: str, files: dict[str, bytes] | None = None, **kwargs: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    body = {"tool/__init__.py": f"def main():\n    print('tool {version}')\n".encode(), **(files or {})}
    return build_wheel(folder, "tool", version, body, entry_points=TOOL_POINTS, **kwargs)  # type: ignore[arg-type]
