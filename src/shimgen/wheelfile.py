"""Reading a wheel without trusting it: names, paths, RECORD and metadata are checked first.

Everything shimgen takes from a wheel ends up as a path in the environment or a
command name, so a wheel is validated before anything is written: its file
name (PEP 427), its one ``.dist-info`` folder, every member path (relative, no
``..``, no drive, no backslash), and every member's hash and size against
RECORD.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from shimgen.entrypoints import EntryPoint, from_entry_points_txt
from shimgen.errors import PathRefused, ShimgenError
from shimgen.paths import check_version, normalize_dist

_HASHES = {"sha256", "sha384", "sha512"}


@dataclass(frozen=True)
class RecordRow:
    path: str
    hash: str | None  # "sha256=<urlsafe base64, no padding>"
    size: int | None


class WheelFile:
    """An open wheel whose structure has been checked. Use as a context manager."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        dist, version, self.python_tag, self.abi_tag, self.platform = parse_wheel_name(self.path)
        self.dist = normalize_dist(dist)
        self.version = check_version(version)
        self.record: dict[str, RecordRow] = {}  # filled by _check, once RECORD is read
        self._verified = False
        self._hashed: set[str] = set()  # members whose bytes matched their RECORD hash
        try:
            self._zip = zipfile.ZipFile(self.path)
        except (OSError, zipfile.BadZipFile) as error:
            raise ShimgenError(f"cannot open wheel ({error})", path=self.path) from None
        try:
            self._check()
        except BaseException:
            self._zip.close()
            raise

    def __enter__(self) -> WheelFile:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._zip.close()

    def _check(self) -> None:
        self.members = [info.filename for info in self._zip.infolist() if not info.is_dir()]
        for name in self.members:
            check_member_path(name, self.path)
        info_dirs = {
            name.split("/", 1)[0] for name in self.members if name.split("/", 1)[0].endswith(".dist-info")
        }
        matching = [d for d in info_dirs if _dist_info_matches(d, self.dist, self.version)]
        if len(matching) != 1:
            raise ShimgenError(
                f"wheel has {len(matching)} .dist-info folders for {self.dist} {self.version} "
                f"(found: {', '.join(sorted(info_dirs)) or 'none'})",
                path=self.path,
            )
        self.dist_info = matching[0]
        self.data_dir = self.dist_info[: -len(".dist-info")] + ".data"
        # pip refuses a wheel with a second .dist-info too: it could plant or overwrite
        # another distribution's metadata, RECORD included, which uninstallers follow.
        for folder in sorted({name.split("/", 1)[0] for name in self.members if "/" in name}):
            own = folder in (self.dist_info, self.data_dir)
            if folder.lower().endswith((".dist-info", ".data")) and not own:  # Windows ignores case
                raise ShimgenError(
                    f"wheel carries {folder}/, which is not {self.dist} {self.version}'s own "
                    "(a wheel has one .dist-info and at most one .data folder)",
                    path=self.path,
                )
        wheel = parse_headers(self.read_text("WHEEL"))
        version = wheel.get("wheel-version", "").split(".")
        if version[0] != "1":
            raise ShimgenError(
                f"unsupported Wheel-Version {wheel.get('wheel-version')!r} (shimgen reads 1.x)",
                path=self.path,
            )
        self.root_is_purelib = wheel.get("root-is-purelib", "").strip().lower() == "true"
        self.record = self._read_record()

    def _read_record(self) -> dict[str, RecordRow]:
        rows: dict[str, RecordRow] = {}
        for fields in csv.reader(io.StringIO(self.read_text("RECORD"))):
            if not fields:
                continue
            if len(fields) != 3:
                raise ShimgenError(f"malformed RECORD row {fields!r}", path=self.path)
            path, digest, size = fields
            unhashed = path == f"{self.dist_info}/RECORD" or path.endswith((".jws", ".p7s"))
            if not unhashed and (not digest or not size):
                raise ShimgenError(
                    f"RECORD gives no hash or size for {path!r} (only RECORD itself may have none)",
                    path=self.path,
                )
            if size and not re.fullmatch(r"[0-9]+", size):
                raise ShimgenError(
                    f"malformed RECORD row {fields!r}: the size is not a number", path=self.path
                )
            rows[path] = RecordRow(path, digest or None, int(size) if size else None)
        record_name = f"{self.dist_info}/RECORD"
        for name in self.members:
            if name not in rows and name != record_name and not name.endswith((".jws", ".p7s")):
                raise ShimgenError(f"wheel member {name!r} is not listed in RECORD", path=self.path)
        return rows

    def info(self, name: str) -> zipfile.ZipInfo:
        return self._zip.getinfo(name)

    def read(self, name: str) -> bytes:
        """A member's bytes, checked against its RECORD hash and size.

        The size is compared before anything is decompressed, so a small wheel
        cannot make shimgen inflate gigabytes that RECORD never promised.
        """
        row = self.record.get(name)
        if row is not None and row.size is not None and row.size != self._zip.getinfo(name).file_size:
            raise ShimgenError(f"wheel member {name!r} has the wrong size for RECORD", path=self.path)
        try:
            data = self._zip.read(name)
        except (zipfile.BadZipFile, NotImplementedError, ValueError, EOFError) as error:
            raise ShimgenError(f"cannot read wheel member {name!r} ({error})", path=self.path) from None
        if row is not None:
            if row.size is not None and row.size != len(data):
                raise ShimgenError(f"wheel member {name!r} has the wrong size for RECORD", path=self.path)
            if row.hash is not None and name not in self._hashed:  # once per member; zipfile checks the CRC
                algorithm, _, expected = row.hash.partition("=")
                if algorithm not in _HASHES:
                    raise ShimgenError(
                        f"RECORD uses an unsafe hash ({algorithm}) for {name!r}", path=self.path
                    )
                actual = base64.urlsafe_b64encode(hashlib.new(algorithm, data).digest()).rstrip(b"=").decode()
                if actual != expected:
                    raise ShimgenError(
                        f"wheel member {name!r} does not match its RECORD hash", path=self.path
                    )
                self._hashed.add(name)
        return data

    def read_text(self, name: str, *, in_dist_info: bool = True) -> str:
        member = f"{self.dist_info}/{name}" if in_dist_info else name
        try:
            raw = self.read(member) if member in self.record else self._zip.read(member)
        except KeyError:
            raise ShimgenError(f"wheel has no {member}", path=self.path) from None
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ShimgenError(f"wheel member {member} is not UTF-8", path=self.path) from None

    def verify(self, progress: Callable[[int], None] | None = None) -> None:
        """Check every member against RECORD (hash and size); only once per open wheel.

        A member :meth:`read` has checked already is not read again (an install reads its
        scripts whole before this, so a 30 MiB program is inflated and hashed once, not
        twice); ``progress`` still counts it, so a caller's total stays the same.
        """
        if self._verified:
            return
        for name in self.members:
            size = self._zip.getinfo(name).file_size if name in self._hashed else len(self.read(name))
            if progress:
                progress(size)
        self._verified = True

    @property
    def uncompressed_size(self) -> int:
        return sum(self._zip.getinfo(name).file_size for name in self.members)

    def entry_points(self) -> list[EntryPoint]:
        if f"{self.dist_info}/entry_points.txt" not in self.members:
            return []
        return from_entry_points_txt(
            self.read_text("entry_points.txt"), source=f"{self.path.name}:{self.dist_info}/entry_points.txt"
        )

    def scripts(self) -> list[str]:
        """Members of ``<name>.data/scripts/``: files that pip would put in Scripts."""
        prefix = f"{self.data_dir}/scripts/"
        return [name for name in self.members if name.startswith(prefix)]


def parse_wheel_name(wheel: Path) -> tuple[str, str, str, str, str]:
    """A wheel file name's distribution, version and tag sets (python, abi, platform), as written.

    packaging's ``parse_wheel_filename`` decides, as it does for pip: the name escaped (PEP 427),
    a PEP 440 version (pip 25.3 and later refuse a legacy one in a file name), a build tag that
    starts with a digit, three tag sets. The parts are returned as the file name spells them (the
    version is matched against the .dist-info folder's, which uses the same spelling); the
    distribution and version then pass shimgen's own checks for names that become folders.
    """
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    try:
        parse_wheel_filename(wheel.name)
    except InvalidWheelFilename as error:
        raise ShimgenError(
            f"not a wheel file name: {error}",
            path=wheel,
            hint="a wheel is named name-version[-build]-python-abi-platform.whl, with a PEP 440 version "
            "(PEP 427; pip refuses other names too)",
        ) from None
    parts = wheel.name[: -len(".whl")].split("-")
    return parts[0], parts[1], parts[-3], parts[-2], parts[-1]


def check_member_path(name: str, wheel: Path) -> str:
    """A wheel member name that stays inside whatever folder it is installed to; PathRefused otherwise."""
    parts = name.split("/")
    if (
        not name
        or name.startswith("/")
        or "\\" in name
        or re.match(r"^[A-Za-z]:", name)
        or any(part in ("..", ".", "") for part in parts)
        or any(ord(c) < 0x20 for c in name)
    ):
        raise PathRefused(f"wheel member path {name!r} could escape the install folder", path=wheel)
    return name


def _dist_info_matches(folder: str, dist: str, version: str) -> bool:
    name, _, folder_version = folder[: -len(".dist-info")].rpartition("-")
    try:
        return normalize_dist(name) == dist and folder_version == version
    except ShimgenError:
        return False


def parse_headers(text: str) -> dict[str, str]:
    """The fields of a ``WHEEL`` file, keys in lower case: the first of each, as email.parser
    reads them (RFC 822 headers, a folded line joined to its field, the end at the first line
    that is blank or not a field).

    Written out because the email package, with what it imports, costs every install a few
    milliseconds for two fields; tests/test_wheelfile.py holds the answers equal to email's.
    """
    fields: dict[str, list[str]] = {}
    current: list[str] | None = None  # the lines of the field being read; None: a repeated one
    for line in text.splitlines():
        if line[:1] in (" ", "\t") and line.strip():
            if current is not None:
                current.append(line)
            continue
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.rstrip() or " " in name:
            break
        current = None if name.lower() in fields else fields.setdefault(name.lower(), [value])
    return {key: "\n".join(lines).strip() for key, lines in fields.items()}
