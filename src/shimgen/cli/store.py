"""The store's own verbs: ``link``, ``list``, ``rollback``, ``remove``, ``gc`` and ``doctor``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from shimgen.cli._common import EXIT_PROBLEMS, command_list, store_options
from shimgen.defaults import ARCHES, DEFAULT_KEEP, POSIX, WINDOWS
from shimgen.paths import version_of

if TYPE_CHECKING:
    from shimgen.store import Store


@click.command()
@click.argument("dist")
@click.argument("version")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--gui", "gui", multiple=True, metavar="NAME", help="Give command NAME the GUI launcher (Windows)."
)
@click.option(
    "--extra",
    "extras",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Put FILE in the entry beside the programs (a DLL, data) without a command of its own.",
)
@click.option(
    "--platform",
    type=click.Choice([WINDOWS.value, POSIX.value]),
    help="On first use: make a Windows layout (Scripts\\*.exe launchers) or a POSIX one (bin/ symlinks). "
    "Default: Windows on Windows, or when the prefix has Scripts\\ and no bin/.",
)
@click.option(
    "--arch",
    type=click.Choice(ARCHES),
    help="On first use, for a Windows layout: the launchers' architecture. Default: that of "
    "Scripts\\python.exe, or of the running Windows.",
)
@store_options
def link(
    store: Store,
    dist: str,
    version: str,
    files: tuple[Path, ...],
    gui: tuple[str, ...],
    extras: tuple[Path, ...],
    platform: str | None,
    arch: str | None,
) -> None:
    """Publish native programs FILES as VERSION of DIST and point their commands at them.

    The low-level verb: each FILE becomes a command named after it (without
    .exe); all of them, and every --extra file, go into one new store entry
    side by side. The previous version's entry is kept for rollback and for
    anything still running from it; 'shimgen gc' removes what is no longer
    needed. Publishing the same content again changes nothing.
    """
    from shimgen.store import native_entry

    layout = store.planned_layout(platform, arch)
    entry_files, commands = native_entry(files, gui, extras, layout=layout)
    result = store.publish(dist, version, entry_files, commands, kind=platform, arch=arch)
    relative = result.entry.relative_to(store.prefix)
    action = "published" if result.created else "reused"
    click.echo(f"{action} {result.dist} {result.version}: {relative}")
    if result.previous and result.previous != result.entry.name:
        click.echo(f"switched from {version_of(result.previous)} ({result.previous})")
    click.echo(command_list([c.name for c in commands]).removeprefix("; "))


@click.command(name="list")
@store_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def list_(store: Store, as_json: bool) -> None:
    """List the distributions in the store: current version, kept versions, commands."""
    import json

    from shimgen.store import dist_rows

    rows = dist_rows(store)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no distributions" if store.initialized else f"not a shimgen environment: {store.prefix}")
        return
    for row in rows:
        kept = f"  (previous: {', '.join(row['kept'])})" if row["kept"] else ""
        detail = (
            f"  PROBLEM: {row['problem']}" if row["problem"] else f"  commands: {', '.join(row['commands'])}"
        )
        click.echo(f"{row['dist']} {row['version'] or '?'}{kept}{detail}")


@click.command()
@click.argument("dist")
@click.option("--to", metavar="VERSION", help="Roll back to this kept version (see 'shimgen list').")
@store_options
def rollback(store: Store, dist: str, to: str | None) -> None:
    """Switch every command of DIST back to its previous version.

    Each command switches atomically. Without --to, the current and previous
    versions swap places, so rolling back twice returns to where you started;
    with --to, running the same command again changes nothing.

    For programs published with 'shimgen link'. A distribution installed from
    a wheel is refused: its library files would stay at the installed
    version; install the wheel of the version you want instead.
    """
    from shimgen.install import refuse_mixed_rollback
    from shimgen.paths import normalize_dist

    refuse_mixed_rollback(store, normalize_dist(dist), to)
    current, target = store.rollback(dist, to)
    if current == target:
        click.echo(f"{dist} already runs {version_of(target)}")
    else:
        click.echo(f"rolled back {dist}: {version_of(current)} -> {version_of(target)}")


@click.command()
@click.argument("dist")
@store_options
def remove(store: Store, dist: str) -> None:
    """Remove DIST's commands (shims and link records).

    Works while they run: running programs are left alone, and their store
    entries become garbage that 'shimgen gc' deletes once they have exited.
    """
    from shimgen.install import remove_commands

    commands = remove_commands(store, dist)
    click.echo(f"removed {dist}" + command_list(list(commands)))


@click.command()
@click.option(
    "--keep",
    type=click.IntRange(min=0),
    default=DEFAULT_KEEP,
    show_default=True,
    help="Previous versions to keep per distribution for rollback.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@store_options
def gc(store: Store, keep: int, as_json: bool) -> None:
    """Delete store entries nothing needs any more, and empty the trash.

    What is still running is left and retried on the next run; that is not an
    error (exit code 0).
    """
    import json

    if not store.initialized:  # as list and doctor: nothing of shimgen's here is nothing to do
        click.echo(f"nothing to collect: not a shimgen environment: {store.prefix}")
        return
    report = store.gc(keep)
    if as_json:
        body = {
            "removed": [str(p) for p in report.removed],
            "in_use": [str(p) for p in report.in_use],
            "dropped_from_rollback": report.trimmed,
        }
        click.echo(json.dumps(body, indent=2))
        return
    for path in report.removed:
        click.echo(f"removed {path.relative_to(store.prefix)}")
    for path in report.in_use:
        click.echo(f"in use, left for next time: {path.relative_to(store.prefix)}")
    if not report.removed and not report.in_use:
        click.echo("nothing to collect")


@click.command(name="doctor")
@click.option("--fix", is_flag=True, help="Repair what can be repaired, then check again.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@store_options
def doctor_(store: Store, fix: bool, as_json: bool) -> None:
    """Check every shim, link record and store entry; say what --fix would do.

    Exit code 0 when nothing is wrong (garbage for 'shimgen gc' is not a
    problem), 3 when problems remain.
    """
    import json

    from shimgen.doctor import GARBAGE, NOTE, PROBLEM, doctor

    findings = doctor(store, fix=fix)
    remaining = [f for f in findings if f.severity == PROBLEM and not f.fixed]
    if as_json:
        click.echo(json.dumps([f.as_dict() for f in findings], indent=2))
    else:
        if not store.root.is_dir():
            click.echo(f"not a shimgen environment: {store.prefix}")
        for finding in findings:
            where = (
                finding.path.relative_to(store.prefix)
                if finding.path.is_relative_to(store.prefix)
                else finding.path
            )
            if finding.severity == GARBAGE:
                click.echo(f"garbage: {where}: {finding.message} ({finding.fix})")
                continue
            if finding.severity == NOTE:
                click.echo(f"note: {where}: {finding.message}")
                continue
            status = "fixed" if finding.fixed else "PROBLEM"
            click.echo(f"{status}: {where}: {finding.message}")
            if not finding.fixed:
                action = f"--fix will {finding.fix}" if finding.fix and not fix else "needs you"
                click.echo(f"    {action}" + (f"; {finding.hint}" if finding.hint else ""))
        problems = sum(f.severity == PROBLEM for f in findings)
        click.echo(f"{problems} problem(s), {len(remaining)} remaining")
    if remaining:
        sys.exit(EXIT_PROBLEMS)
