"""Launchers other tools put in ``Scripts``: recognised and decoded, so ``adopt`` can replace them.

Three kinds exist in the wild (the byte layouts were read from each project's
public source; no code is taken from them):

- distlib's (pip, installer): a launcher stub, then a ``#!<python>`` line,
  then a zip archive holding ``__main__.py``, simply concatenated.
- setuptools' (``easy_install``, old ``develop``): ``cli-64.exe`` copied as
  ``NAME.exe``, which runs ``NAME-script.py`` (or ``.pyw``) beside it.
- uv's trampolines: up to uv 0.9.8 a stub, a zip (for scripts), the Python
  path, its length (u32, little-endian) and a 4-byte tag ``UVSC``, ``UVPY``
  or ``UVUV`` at the very end; from uv 0.9.9 the same data as PE resources
  (RT_RCDATA ``UV_TRAMPOLINE_KIND``, ``UV_PYTHON_PATH``, ``UV_SCRIPT_DATA``).
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

from shimgen import pe

_EOCD = b"PK\x05\x06"
_UV_TAGS = (b"UVSC", b"UVPY", b"UVUV")
_RT_RCDATA = 10
# Horizontal white space only ([ \t], never \s, which spans lines): these run on text from
# untrusted files, and \s* at a line start made a file of blank lines take quadratic time.
_IMPORT = re.compile(r"^[ \t]*from[ \t]+(?P<module>[\w.]+)[ \t]+import[ \t]+(?P<head>\w+)[ \t]*\r?$", re.M)
_CALL = re.compile(r"sys\.exit\([ \t]*(?P<attr>[\w.]+)\(\)[ \t]*\)")
# A launcher's __main__.py or a -script.py is a few lines; what is larger is not one.
_MAX_SCRIPT_BYTES = 1 << 20
_EASY_INSTALL = re.compile(r"EASY-INSTALL-ENTRY-SCRIPT:\s*'[^']*','(?P<group>[^']+)','(?P<name>[^']+)'")


@dataclass(frozen=True)
class ForeignLauncher:
    """What a foreign launcher runs: a Python interpreter with an entry point, or just a Python."""

    kind: str  # "distlib", "setuptools", "uv"
    gui: bool
    interpreter: str | None  # as the launcher records it (absolute, or relative to the launcher)
    module: str | None = None
    attr: str | None = None
    script: Path | None = None  # setuptools: the NAME-script.py the launcher runs
    entry_point: tuple[str, str] | None = None  # setuptools: (group, name) to look up in entry_points.txt
    script_text: str | None = None  # the Python it runs (its __main__.py, or the -script.py), as found

    @property
    def describes(self) -> str:
        if self.module:
            target = f"{self.module}:{self.attr}"
        elif self.script_text is not None:
            target = "a script of its own (not a known template: kept as it is)"
        else:
            target = "Python"
        return f"{self.kind} launcher running {target} with {self.interpreter or 'python'}"


def decode(path: Path, data: bytes | None = None) -> ForeignLauncher | None:
    """Decode the foreign launcher at ``path``; None if it is not one."""
    if data is None:
        data = path.read_bytes()
    info = pe.read_pe_info(data[: 1 << 16]) if pe.is_pe(data) else None
    if info is None:
        return None
    return (
        _uv_trailer(data, info.gui)
        or _uv_resources(data, info.gui)
        or _distlib(data, info.gui)
        or _setuptools(path, data)
    )


# The scripts installers put behind their launchers, exactly (from each project's public source).
# Only a script that is one of these, to the character, is replaced by shimgen's own: anything
# else (a setup line, another call) is kept as it is, so adopting never changes what runs.
_TEMPLATES = [
    # pip 25 and later (its own template, without re)
    "import sys\nfrom {module} import {name}\nif __name__ == '__main__':\n"
    "    sys.argv[0] = sys.argv[0].removesuffix('.exe')\n    sys.exit({func}())\n",
    # pip before 25, and distlib before 0.3.9
    "import re\nimport sys\nfrom {module} import {name}\nif __name__ == '__main__':\n"
    "    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n    sys.exit({func}())\n",
    # distlib 0.3.9 and later (the import under the main guard)
    "import re\nimport sys\nif __name__ == '__main__':\n    from {module} import {name}\n"
    "    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n    sys.exit({func}())\n",
    # uv 0.5 and later
    'import sys\nfrom {module} import {name}\nif __name__ == "__main__":\n'
    '    if sys.argv[0].endswith("-script.pyw"):\n        sys.argv[0] = sys.argv[0][:-11]\n'
    '    elif sys.argv[0].endswith(".exe"):\n        sys.argv[0] = sys.argv[0][:-4]\n'
    "    sys.exit({func}())\n",
    # uv before 0.5
    'import re\nimport sys\nfrom {module} import {name}\nif __name__ == "__main__":\n'
    '    sys.argv[0] = re.sub(r"(-script\\.pyw|\\.exe)?$", "", sys.argv[0])\n    sys.exit({func}())\n',
]
_FIELDS = {
    "module": r"(?P<module>[A-Za-z_][\w.]*)",
    "name": r"(?P<name>[A-Za-z_]\w*)",
    "func": r"(?P<func>[A-Za-z_][\w.]*)",
}
_PATTERNS = [
    re.compile(
        "".join(
            _FIELDS[part[1:-1]] if part in ("{module}", "{name}", "{func}") else re.escape(part)
            for part in re.split(r"(\{module\}|\{name\}|\{func\})", template)
        )
    )
    for template in _TEMPLATES
]
_CODING = "# -*- coding: utf-8 -*-\n"


def _entry_point(main: str) -> tuple[str | None, str | None]:
    """(module, attribute) if ``main`` is exactly one of the known templates, else (None, None).

    A first ``#!`` line and a coding line are allowed before it; line ends may be CRLF.
    """
    text = main.replace("\r\n", "\n")
    if text.startswith("#!"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
    text = text.removeprefix(_CODING)
    if not text.endswith("\n"):
        text += "\n"
    for pattern in _PATTERNS:
        match = pattern.fullmatch(text)
        if match and match["func"].split(".")[0] == match["name"]:
            return match["module"], match["func"]
    return None, None


def _main_py(archive: bytes) -> str | None:
    """The ``__main__.py`` of an appended zip; None if there is none or it is not a small script.

    Its size is checked before it is inflated: a few KiB of zip must not become gigabytes.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as opened:
            if opened.getinfo("__main__.py").file_size > _MAX_SCRIPT_BYTES:
                return None
            return opened.read("__main__.py").decode("utf-8", "replace")
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError, NotImplementedError, RuntimeError):
        return None  # RuntimeError: encrypted; NotImplementedError: a compression zipfile lacks


def _zip_start(data: bytes) -> int | None:
    """Where a zip appended to ``data`` begins, from its end-of-central-directory record."""
    eocd = data.rfind(_EOCD, max(0, len(data) - 65_558))
    if eocd < 0 or eocd + 22 > len(data):
        return None
    size, offset = struct.unpack_from("<II", data, eocd + 12)
    start = eocd - size - offset
    return start if 0 <= start < eocd else None


def parse_shebang(line: str) -> str | None:
    """The interpreter of a ``#!`` line as Windows launchers read it: quoted, or up to ``.exe``."""
    text = line[2:].strip() if line.startswith("#!") else ""
    if not text:
        return None
    if text.startswith('"'):
        end = text.find('"', 1)
        return text[1:end] if end > 0 else None
    match = re.match(r"^(.*?\.exe)(\s|$)", text, re.I)
    return match[1] if match else text.split()[0]


def _distlib(data: bytes, gui: bool) -> ForeignLauncher | None:
    start = _zip_start(data)
    if start is None:
        return None
    head = data[max(0, start - 512) : start]
    bang = head.rfind(b"#!")
    if bang < 0:
        return None
    line = head[bang:].split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8", "replace")
    main = _main_py(data[start:])
    if main is None:
        return None
    module, attr = _entry_point(main)
    interpreter = parse_shebang(line)
    gui = gui or bool(interpreter and interpreter.lower().endswith("pythonw.exe"))
    return ForeignLauncher("distlib", gui, interpreter, module, attr, script_text=main)


def _uv_trailer(data: bytes, gui: bool) -> ForeignLauncher | None:
    if len(data) < 8 or data[-4:] not in _UV_TAGS:
        return None
    (length,) = struct.unpack_from("<I", data, len(data) - 8)
    path_start = len(data) - 8 - length
    if length > 32_768 or path_start < 0:
        return None
    interpreter = data[path_start : len(data) - 8].decode("utf-8", "replace")
    if data[-4:] == b"UVPY":
        return ForeignLauncher("uv", gui, interpreter)
    main = _main_py(data[:path_start][_zip_start(data[:path_start]) or 0 :])
    module, attr = _entry_point(main or "")
    return ForeignLauncher("uv", gui, interpreter, module, attr, script_text=main)


def _uv_resources(data: bytes, gui: bool) -> ForeignLauncher | None:
    if b"U\x00V\x00_\x00T\x00R\x00A\x00M\x00P" not in data:  # "UV_TRAMP..." in UTF-16: cheap pre-check
        return None
    import pefile  # only for uv's newer trampolines (a cheap check above found their marker)

    try:
        found = _rcdata_by_name(data)
    except (pefile.PEFormatError, AttributeError, IndexError, ValueError, TypeError):
        return None  # resources that do not have the shape uv writes: not a uv trampoline
    if "UV_TRAMPOLINE_KIND" not in found:
        return None
    interpreter = found.get("UV_PYTHON_PATH", b"").decode("utf-8", "replace") or None
    main = _main_py(found.get("UV_SCRIPT_DATA", b""))
    module, attr = _entry_point(main or "")
    return ForeignLauncher("uv", gui, interpreter, module, attr, script_text=main)


def _rcdata_by_name(data: bytes) -> dict[str, bytes]:
    """The named RT_RCDATA resources of a PE file (first language of each)."""
    import pefile

    image = pefile.PE(data=data, fast_load=True)
    image.parse_data_directories(directories=[pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_RESOURCE"]])
    found: dict[str, bytes] = {}
    directory = getattr(image, "DIRECTORY_ENTRY_RESOURCE", None)
    for kind in directory.entries if directory is not None else []:
        if kind.id != _RT_RCDATA:
            continue
        for named in kind.directory.entries:
            if named.name is None or not named.directory.entries:
                continue
            entry = named.directory.entries[0].data.struct
            found[str(named.name).upper()] = image.get_data(entry.OffsetToData, entry.Size)
    return found


def _setuptools(path: Path, data: bytes) -> ForeignLauncher | None:
    if b"Cannot find Python executable" not in data or b"-script.py" not in data:
        return None
    stem = path.name[:-4] if path.name.lower().endswith(".exe") else path.name
    for suffix, gui in (("-script.pyw", True), ("-script.py", False)):
        script = path.with_name(stem + suffix)
        if script.is_file():
            with open(script, "rb") as stream:
                text = stream.read(_MAX_SCRIPT_BYTES).decode("utf-8", "replace")
            interpreter = parse_shebang(text.split("\n", 1)[0].rstrip("\r"))
            module, attr = _entry_point(text)
            reference = _EASY_INSTALL.search(text)
            entry_point = (reference["group"], reference["name"]) if reference else None
            return ForeignLauncher("setuptools", gui, interpreter, module, attr, script, entry_point, text)
    return ForeignLauncher("setuptools", False, None)
