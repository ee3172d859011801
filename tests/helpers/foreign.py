"""Launchers other tools put in ``Scripts``, made for tests: distlib's (pip's) and uv's.

The distlib launchers are made by distlib itself (its own t64/w64 stubs). uv's trampolines are
built here from uv's documented format around a real PE stub: uv compiles its stubs into uv.exe,
so there is no file to take them from.
"""

from __future__ import annotations

import struct
import zipfile
from io import BytesIO
from pathlib import Path

import distlib
from distlib.scripts import ScriptMaker

DISTLIB = Path(distlib.__file__).parent
PYTHON = r"C:\Program Files\my venv\Scripts\python.exe"


class WindowsScriptMaker(ScriptMaker):
    """distlib's ScriptMaker as it behaves on Windows (pip's quoting of paths with spaces)."""

    def _get_launcher(self, kind: str) -> bytes:
        return (DISTLIB / f"{kind}64.exe").read_bytes()

    def _build_shebang(self, executable: bytes, post_interp: bytes) -> bytes:
        return b'#!"' + executable + b'"' + post_interp + b"\n"


def distlib_launcher(folder: Path, spec: str, gui: bool = False) -> Path:
    maker = WindowsScriptMaker(None, str(folder), add_launchers=True)
    maker._is_nt = True
    maker.executable = PYTHON  # distlib itself makes it pythonw.exe for GUI scripts
    maker.variants = {""}
    (path,) = maker.make(spec, {"gui": True} if gui else None)
    return Path(path)


def uv_trampoline(kind: bytes, python: str, main: str | None = None) -> bytes:
    archive = b""
    if main is not None:
        buffer = BytesIO()
        with zipfile.ZipFile(buffer, "w") as opened:
            opened.writestr("__main__.py", main)
        archive = buffer.getvalue()
    path = python.encode()
    return (DISTLIB / "t64.exe").read_bytes() + archive + path + struct.pack("<I", len(path)) + kind


# uv's own template (crates/uv-install-wheel, 0.5 and later), exactly.
UV_MAIN = (
    '# -*- coding: utf-8 -*-\nimport sys\nfrom uvtool.cli import main\nif __name__ == "__main__":\n'
    '    if sys.argv[0].endswith("-script.pyw"):\n        sys.argv[0] = sys.argv[0][:-11]\n'
    '    elif sys.argv[0].endswith(".exe"):\n        sys.argv[0] = sys.argv[0][:-4]\n    sys.exit(main())\n'
)


def zipped_main(main_py: bytes, compression: int = zipfile.ZIP_STORED) -> bytes:
    """A zip archive holding ``__main__.py``, as distlib appends to its launchers."""
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as opened:
        opened.writestr("__main__.py", main_py)
    return buffer.getvalue()
