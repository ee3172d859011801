"""``generate`` and ``inspect``: launchers as files, made for any Windows architecture, and read."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from shimgen.cli._common import EXIT_BROKEN_LAUNCHER, printable
from shimgen.defaults import ARCHES
from shimgen.errors import ShimgenError


@click.command()
@click.argument("name", required=False)
@click.option(
    "--arch",
    type=click.Choice(ARCHES),
    required=True,
    help="Windows architecture of the launcher.",
)
@click.option("--gui", is_flag=True, help="GUI launcher: no console window; errors in a message box.")
@click.option(
    "--from",
    "source",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read the commands from a wheel, a pyproject.toml or an entry_points.txt "
    "(console_scripts and gui_scripts) instead of naming one.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path),
    required=True,
    help="File to write (replaced atomically); with --from, the folder to write NAME.exe files into.",
)
@click.option(
    "--prefix",
    metavar="PATH",
    help="Environment prefix the launcher uses: absolute, or relative to the launcher's folder. "
    "Default: '..', the standard <prefix>\\Scripts\\NAME.exe layout.",
)
def generate(
    name: str | None, arch: str, gui: bool, source: Path | None, out: Path, prefix: str | None
) -> None:
    """Write launchers for any Windows architecture, from any OS.

    Either one launcher for command NAME (written to the file --out), or, with
    --from, one per entry point of a wheel, a pyproject.toml or an
    entry_points.txt (written as NAME.exe into the folder --out; GUI scripts
    get the GUI launcher). In the standard layout (the file is
    <prefix>/Scripts/NAME.exe) a launcher is a byte copy of the shipped stub;
    otherwise a config section records NAME and the prefix. At run time the
    launcher reads <prefix>\\.shimgen\\links\\NAME and starts the file it names.
    """
    from shimgen.generate import generate_launchers, load_entry_points
    from shimgen.launcher import identify, write_launcher

    if (name is None) == (source is None):
        raise click.UsageError("give either NAME or --from SOURCE")
    if source is not None:
        if gui:
            raise click.UsageError("--gui applies to NAME; with --from, gui_scripts get the GUI launcher")
        if not source.is_file():
            raise ShimgenError("no such file", path=source)
        if out.exists() and not out.is_dir():
            raise ShimgenError(
                "--out is a file, and with --from it is the folder to write NAME.exe into",
                path=out,
                hint="give a folder (it must exist)",
            )
        written = generate_launchers(load_entry_points(source), out, arch=arch, prefix=prefix)
        if not written:
            click.echo(f"{source} has no console or GUI scripts: nothing written")
        for path in written.values():
            click.echo(f"wrote {path} ({arch})")
        return
    assert name is not None
    if out.is_dir():
        raise ShimgenError(
            "--out is a folder, and the launcher is a file",
            path=out,
            hint=f"give its file name: --out {out / name}.exe",
        )
    if not out.parent.is_dir():
        raise ShimgenError("--out's folder does not exist", path=out.parent, hint="create it first")
    data = write_launcher(out, arch, gui, command=name, prefix=prefix)
    layout = "standard layout, plain stub" if identify(data).standard else "config section"
    click.echo(f"wrote {out} ({len(data)} bytes, {arch} {'gui' if gui else 'console'}, {layout})")


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
def inspect(file: Path, as_json: bool) -> None:
    """Show what FILE is and, for a shimgen launcher, what it will run.

    Exit code 3 when FILE is a shimgen launcher that would fail (missing or
    invalid link record, missing target).
    """
    import json

    from shimgen.inspection import inspect_file

    report, broken = inspect_file(file)
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
            click.echo(f"{key.replace('_', ' '):<{width}}  {printable(str(value))}")
    if broken:
        sys.exit(EXIT_BROKEN_LAUNCHER)
