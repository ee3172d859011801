"""The ``shimgen`` command line.

Exit codes, for scripts: 0 success; 1 shimgen could not do what was asked (the
message says what, to which path, and what to do); 2 bad usage (from click);
3 ``inspect`` found a launcher that would fail to run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from shimgen import __version__
from shimgen.errors import ShimgenError
from shimgen.launcher import FileKind, identify, resolve_launcher, write_launcher
from shimgen.pe import Arch

EXIT_ERROR = 1
EXIT_BROKEN_LAUNCHER = 3


class _Group(click.Group):
    """Turns ShimgenError into one clear message and exit code 1, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ShimgenError as error:
            click.echo(f"shimgen: error: {error}", err=True)
            sys.exit(EXIT_ERROR)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="shimgen")
def main() -> None:
    """Keep Windows environments upgradable while their tools are running.

    shimgen puts small launchers in Scripts\\ that start the real program from a
    versioned store, so an upgrade never has to overwrite a running .exe.
    """


@main.command()
@click.argument("name")
@click.option(
    "--arch",
    type=click.Choice([a.value for a in Arch]),
    required=True,
    help="Windows architecture of the launcher.",
)
@click.option("--gui", is_flag=True, help="GUI launcher: no console window; errors in a message box.")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="File to write (replaced atomically).",
)
@click.option(
    "--prefix",
    metavar="PATH",
    help="Environment prefix the launcher uses: absolute, or relative to the launcher's folder. "
    "Default: '..', the standard <prefix>\\Scripts\\NAME.exe layout.",
)
def generate(name: str, arch: str, gui: bool, out: Path, prefix: str | None) -> None:
    """Write a launcher for command NAME, for any Windows architecture, from any OS.

    In the standard layout (the file is <prefix>/Scripts/NAME.exe) the launcher
    is a byte copy of the shipped stub; otherwise a config section records NAME
    and the prefix. At run time the launcher reads
    <prefix>\\.shimgen\\links\\NAME and starts the file it names.
    """
    if not out.parent.is_dir():
        raise ShimgenError("output folder does not exist", path=out.parent, hint="create it first")
    data = write_launcher(out, arch, gui, command=name, prefix=prefix)
    layout = "standard layout, plain stub" if identify(data).standard else "config section"
    click.echo(f"wrote {out} ({len(data)} bytes, {arch} {'gui' if gui else 'console'}, {layout})")


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
def inspect(file: Path, as_json: bool) -> None:
    """Show what FILE is and, for a shimgen launcher, what it will run.

    Exit code 3 when FILE is a shimgen launcher that would fail (missing or
    invalid link record, missing target).
    """
    info = identify(file.read_bytes())
    report: dict[str, Any] = {
        "file": str(file),
        "kind": info.kind.value,
        "arch": info.arch.value if info.arch else None,
        "machine": f"0x{info.machine:04x}" if info.machine is not None else None,
        "subsystem": None if info.kind is FileKind.NOT_PE else ("gui" if info.gui else "console"),
    }
    broken = False
    if info.kind is FileKind.SHIMGEN_LAUNCHER:
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
        broken = not resolution.ok
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        width = max(len(key) for key in report)
        for key, value in report.items():
            if value is None or value == []:
                continue
            if isinstance(value, list):
                value = "; ".join(value)
            elif isinstance(value, dict):
                value = ", ".join(f"{k}={v}" for k, v in value.items() if v is not None)
            click.echo(f"{key.replace('_', ' '):<{width}}  {value}")
    if broken:
        sys.exit(EXIT_BROKEN_LAUNCHER)
