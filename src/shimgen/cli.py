"""The ``shimgen`` command line.

Exit codes, for scripts: 0 success; 1 shimgen could not do what was asked (the
message says what, to which path, and what to do); 2 bad usage (from click, or
no environment chosen); 3 ``inspect`` found a launcher that would fail to run,
or ``doctor`` found problems (after ``--fix``: problems it could not fix).
``run`` exits with its installer's status.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from shimgen import __version__
from shimgen.cli_common import echo_adoption, printable, store_options
from shimgen.cli_sync import run_command, shell_hook_command, sync_command
from shimgen.defaults import ARCHES, DEFAULT_KEEP, PLATFORM_TAGS, POSIX, WINDOWS
from shimgen.environment_choice import NoEnvironment
from shimgen.errors import ShimgenError

if TYPE_CHECKING:
    from shimgen.install import PreparedInstall
    from shimgen.store import Store
    from shimgen.wheelfile import WheelFile

# Each command imports what it needs when it runs: 'shimgen --version', '--help' and the
# option parsing of every command stay as quick as click allows (see benchmarks, start-up).

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_BROKEN_LAUNCHER = 3
EXIT_PROBLEMS = 3


class _Group(click.Group):
    """Turns ShimgenError (and any OSError) into one clear message and exit code 1, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NoEnvironment as error:
            click.echo(f"shimgen: error: {error}", err=True)
            sys.exit(EXIT_USAGE)
        except ShimgenError as error:
            click.echo(f"shimgen: error: {error}", err=True)
            sys.exit(EXIT_ERROR)
        except BrokenPipeError:
            # The reader went away ('shimgen list | head'): nothing to report, as for any Unix tool.
            # Point stdout at nothing, so Python's own flush at exit does not complain again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(EXIT_ERROR)
        except OSError as error:
            # Every expected failure is a ShimgenError; this is the safety net for the rest.
            where = f": {error.filename}" if error.filename else ""
            click.echo(f"shimgen: error: {error.strerror or error}{where}", err=True)
            click.echo(
                "  hint: every step is atomic, so the old state still works; 'shimgen doctor' shows "
                "what is left to do, and running the command again or 'doctor --fix' finishes it",
                err=True,
            )
            sys.exit(EXIT_ERROR)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="shimgen")
def main() -> None:
    """Keep Windows environments upgradable while their tools are running.

    shimgen puts small launchers in Scripts\\ that start the real program from a
    versioned store, so an upgrade never has to overwrite a running .exe.
    """


@main.command()
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
    from shimgen.entrypoints import load_entry_points
    from shimgen.generate import generate_launchers
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


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
def inspect(file: Path, as_json: bool) -> None:
    """Show what FILE is and, for a shimgen launcher, what it will run.

    Exit code 3 when FILE is a shimgen launcher that would fail (missing or
    invalid link record, missing target).
    """
    import json

    from shimgen.foreign import decode as decode_foreign
    from shimgen.launcher import FileKind, identify, resolve_launcher

    info = identify(file.read_bytes())
    report: dict[str, Any] = {
        "file": str(file),
        "kind": info.kind.value,
        "arch": info.arch.value if info.arch else None,
        "machine": f"0x{info.machine:04x}" if info.machine is not None else None,
        "subsystem": None if info.kind is FileKind.NOT_PE else ("gui" if info.gui else "console"),
    }
    broken = False
    if info.kind is FileKind.OTHER_PE:
        foreign = decode_foreign(file)
        if foreign is not None:
            report.update(
                foreign_launcher=foreign.kind,
                interpreter=foreign.interpreter,
                entry_point=f"{foreign.module}:{foreign.attr}" if foreign.module else None,
                notes=[
                    "'shimgen adopt' replaces it with a shimgen launcher"
                    if foreign.module
                    else "a proxy for a Python interpreter, not an entry point: 'shimgen adopt' leaves it"
                ],
            )
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
            click.echo(f"{key.replace('_', ' '):<{width}}  {printable(str(value))}")
    if broken:
        sys.exit(EXIT_BROKEN_LAUNCHER)


def _version_of(entry_name: str) -> str:
    return entry_name.rsplit("-", 1)[0]


@main.command()
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
        click.echo(f"switched from {_version_of(result.previous)} ({result.previous})")
    click.echo(f"commands: {', '.join(c.name for c in commands)}")


@main.command(name="list")
@store_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def list_(store: Store, as_json: bool) -> None:
    """List the distributions in the store: current version, kept versions, commands."""
    import json

    rows: list[dict[str, Any]] = []
    for name in store.dist_names():
        try:
            state = store.read_state(name)
        except ShimgenError as error:
            empty: dict[str, Any] = {
                "version": None,
                "entry": None,
                "kept": [],
                "kept_entries": [],
                "commands": [],
            }
            rows.append({"dist": name, **empty, "problem": error.message})
            continue
        if state is None:
            continue
        try:
            commands = [c.name for c in store.manifest(state.dist, state.current).commands]
            problem = None
        except ShimgenError as error:
            commands, problem = [], error.message
        rows.append(
            {
                "dist": state.dist,
                "version": _version_of(state.current),
                "entry": state.current,
                "kept": [_version_of(g) for g in state.generations[1:]],
                "kept_entries": list(state.generations[1:]),
                "commands": commands,
                "problem": problem,
            }
        )
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


@main.command()
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
    from shimgen.paths import normalize_dist

    _refuse_mixed_rollback(store, normalize_dist(dist), to)
    current, target = store.rollback(dist, to)
    if current == target:
        click.echo(f"{dist} already runs {_version_of(target)}")
    else:
        click.echo(f"rolled back {dist}: {_version_of(current)} -> {_version_of(target)}")


def _refuse_mixed_rollback(store: Store, dist: str, to: str | None) -> None:
    """A wheel-installed dist rolled back by its commands alone would run old scripts on new libraries."""
    from shimgen.environment import find_installed, scheme_for

    state = store.read_state(dist) if store.initialized else None
    if state is None or (to is None and len(state.generations) < 2):
        return  # Store.rollback explains what is wrong
    wanted = _version_of(to if to is not None else state.generations[1])
    installed = find_installed(scheme_for(store.prefix, store.layout()), dist)
    if installed is not None and installed.version != wanted:
        raise ShimgenError(
            f"{dist} {installed.version} is installed from a wheel: rolling back only its commands "
            f"to {wanted} would leave its library files at {installed.version}",
            path=installed.dist_info,
            hint=f"install the {dist} {wanted} wheel instead (shimgen install WHEEL)",
        )


@main.command()
@click.argument("dist")
@store_options
def remove(store: Store, dist: str) -> None:
    """Remove DIST's commands (shims and link records).

    Works while they run: running programs are left alone, and their store
    entries become garbage that 'shimgen gc' deletes once they have exited.
    """
    from shimgen.install import forget_commands

    with store.locked():
        commands = store.remove(dist)
        forget_commands(store, dist)  # a wheel-installed dist's RECORD no longer claims them
    click.echo(f"removed {dist}" + (f"; commands: {', '.join(commands)}" if commands else ""))


@main.command()
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


@main.command(name="doctor")
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


@main.command()
@click.argument("wheels", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--platform",
    type=click.Choice(PLATFORM_TAGS),
    help="Prepare a Windows environment from any OS (cross-installation for images and tests). "
    "Default: the environment's layout once set up; before that, Windows on Windows or where the "
    "prefix has Scripts\\ and no bin/, else this OS.",
)
@store_options
def install(store: Store, wheels: tuple[Path, ...], platform: str | None) -> None:
    """Install or upgrade WHEELS, even while the environment's tools are running.

    Each wheel's scripts (native programs and entry points) go into a new
    store entry and their commands are switched to it; a running old version
    keeps running, and 'shimgen gc' deletes it once it has exited. Library
    files go to site-packages. RECORD lists everything, so 'pip list' and
    'pip uninstall' keep working.

    No dependency resolution: the wheels are installed exactly as given (let
    pip or uv choose them, for example with 'pip download'). Every wheel is
    checked first (its RECORD, that its tags fit the environment's Python and
    platform, that no two give the same command), so a bad one leaves the
    environment unchanged.
    """
    from shimgen.install import prepare_install, progress_total
    from shimgen.wheelfile import WheelFile

    for path in wheels:
        if not path.is_file():
            raise ShimgenError("no such wheel", path=path)
    with contextlib.ExitStack() as stack:
        opened = [stack.enter_context(WheelFile(path)) for path in wheels]
        _refuse_repeated_dists(opened)
        total = sum(progress_total(wheel) for wheel in opened)
        show = sys.stderr.isatty() and total > 8 * 1024 * 1024
        label = opened[0].path.name if len(opened) == 1 else f"{len(opened)} wheels"
        bar = stack.enter_context(
            click.progressbar(length=total, label=f"installing {label}", file=sys.stderr)
            if show
            else contextlib.nullcontext()
        )
        progress = bar.update if bar is not None else None
        prepared = []
        for checked in opened:  # every wheel is checked in full before the first is installed
            with _naming(checked):
                prepared.append(prepare_install(store, checked, platform=platform, progress=progress))
        _refuse_shared_commands(store, prepared)
        for ready in prepared:
            with _naming(ready.wheel):
                result = ready.run(progress)
            was = f" (was {result.previous})" if result.previous and result.previous != result.version else ""
            commands = f"; commands: {', '.join(result.commands)}" if result.commands else ""
            click.echo(f"installed {result.dist} {result.version}{was}{commands}")


@contextlib.contextmanager
def _naming(wheel: WheelFile) -> Iterator[None]:
    """Errors about one of several wheels say which one."""
    try:
        yield
    except ShimgenError as error:
        if error.path is None or wheel.path.name not in f"{error.message} {error.path}":
            error.message = f"{wheel.path.name}: {error.message}"
        raise


def _refuse_repeated_dists(wheels: list[WheelFile]) -> None:
    seen: dict[str, WheelFile] = {}
    for wheel in wheels:
        if wheel.dist in seen:
            raise ShimgenError(
                f"{wheel.dist} is given twice ({seen[wheel.dist].path.name} and {wheel.path.name})",
                path=wheel.path,
                hint="give one wheel per distribution",
            )
        seen[wheel.dist] = wheel


def _refuse_shared_commands(store: Store, prepared: list[PreparedInstall]) -> None:
    """No two of the wheels may bring the same command (as the environment's filesystem compares names)."""
    owners: dict[str, PreparedInstall] = {}
    for ready in prepared:
        key = store.command_keys(ready.installation.layout)
        for command in ready.installation.commands():
            other = owners.setdefault(key(command.name), ready)
            if other is not ready:
                raise ShimgenError(
                    f"both {other.wheel.path.name} and {ready.wheel.path.name} provide the command "
                    f"{command.name!r}",
                    path=ready.wheel.path,
                    hint="install one of them",
                )


@main.command()
@click.argument("dists", nargs=-1, required=True)
@store_options
def uninstall(store: Store, dists: tuple[str, ...]) -> None:
    """Uninstall DISTS (their files and commands), even while their tools are running.

    Running programs are left alone; their store entries become garbage that
    'shimgen gc' deletes once they have exited.
    """
    from shimgen.install import uninstall as uninstall_dist

    for dist in dists:
        name, version = uninstall_dist(store, dist)
        click.echo(f"uninstalled {name} {version}")


@main.command()
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@click.option(
    "--platform",
    type=click.Choice(PLATFORM_TAGS),
    help="For an environment not set up yet: a Windows one, from any OS. Default: as for install.",
)
@store_options
def adopt(store: Store, dry_run: bool, platform: str | None) -> None:
    """Make an environment installed by pip, uv or installer safe to upgrade while its tools run.

    Programs in Scripts\\ (or bin/) that an installed distribution owns move
    into the store and get launchers; launchers of distlib (pip), setuptools
    and uv are decoded and replaced; RECORD files are rewritten to match.
    Files owned by nothing are left alone and listed. Running it again
    changes nothing. Run it after every 'pip install' (see README), or use
    'shimgen sync'.
    """
    from shimgen.adopt import adopt as adopt_environment

    report = adopt_environment(store, dry_run=dry_run, platform=platform)
    echo_adoption(report, dry_run=dry_run)
    if not report.adoptions and not report.repairs:
        click.echo("nothing to adopt")


main.add_command(sync_command)
main.add_command(run_command)
main.add_command(shell_hook_command)
