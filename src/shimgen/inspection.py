"""What ``shimgen inspect`` says about a file: its kind, and for a launcher what it will run.

One flat mapping, so the text and the JSON output are the same facts: the CLI only prints it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shimgen.foreign import decode as decode_foreign
from shimgen.launcher import FileKind, identify, resolve_launcher


def inspect_file(file: Path) -> tuple[dict[str, Any], bool]:
    """The facts about ``file``, and whether it is a shimgen launcher that would fail to start."""
    info = identify(file.read_bytes())
    report: dict[str, Any] = {
        "file": str(file),
        "kind": info.kind.value,
        "arch": info.arch.value if info.arch else None,
        "machine": f"0x{info.machine:04x}" if info.machine is not None else None,
        "subsystem": None if info.kind is FileKind.NOT_PE else ("gui" if info.gui else "console"),
    }
    if info.kind is FileKind.OTHER_PE:
        report.update(_foreign_launcher(file))
    if info.kind is not FileKind.SHIMGEN_LAUNCHER:
        return report, False
    resolution = resolve_launcher(file)
    report.update(
        standard_stub=info.standard,
        config={"command": info.config.command, "prefix": info.config.prefix} if info.config else None,
        command=resolution.command,
        prefix=str(resolution.prefix),
        link_record=str(resolution.link_record),
        target=str(resolution.target) if resolution.target else None,
        script=str(resolution.script) if resolution.script else None,
        problems=resolution.problems,
        notes=resolution.notes,
    )
    return report, not resolution.ok


def _foreign_launcher(file: Path) -> dict[str, Any]:
    """What another tool's launcher (pip's, distlib's, uv's) starts, when it is one."""
    foreign = decode_foreign(file)
    if foreign is None:
        return {}
    return {
        "foreign_launcher": foreign.kind,
        "interpreter": foreign.interpreter,
        "entry_point": f"{foreign.module}:{foreign.attr}" if foreign.module else None,
        "notes": [
            "'shimgen adopt' replaces it with a shimgen launcher"
            if foreign.module
            else "a proxy for a Python interpreter, not an entry point: 'shimgen adopt' leaves it"
        ],
    }
