"""The verbs that live beside uv and pip: ``sync``, ``run`` and ``shell-hook``."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from shimgen.cli._common import EXIT_ERROR, echo_adoption, printable, store_options
from shimgen.defaults import DEFAULT_KEEP

if TYPE_CHECKING:
    from shimgen.run import RunReport
    from shimgen.store import Store
    from shimgen.sync import SyncReport

EXIT_NOT_FOUND = 127  # as shells say it
KEEP_HELP = "Previous versions to keep per distribution for rollback (as for gc)."


@click.command(name="sync")
@click.option("--keep", type=click.IntRange(min=0), default=DEFAULT_KEEP, show_default=True, help=KEEP_HELP)
@store_options
def sync_command(store: Store, keep: int) -> None:
    """Make the environment whole after 'uv pip install', 'uv sync' or 'pip install'.

    Adopts what they installed (programs and foreign launchers in Scripts\\ or
    bin/ go into the store and get launchers), removes the commands of
    distributions they uninstalled, rebuilds link records and launchers they
    deleted, makes every RECORD follow shimgen's rule, and collects garbage.
    A second sync changes nothing. Exit code 1 when something could not be
    repaired (the message says what to do).
    """
    from shimgen.sync import sync

    report = sync(store, keep=keep)
    echo_sync(report)
    if not report.changed and not report.problems:
        click.echo("in sync: nothing to adopt or repair")
    if report.problems:
        sys.exit(EXIT_ERROR)


def echo_sync(report: SyncReport, echo: Callable[[str], None] = click.echo) -> None:
    """A sync's report, in the words of ``adopt`` for what it adopted."""
    for path in report.restored:
        echo(f"put back (a killed 'shimgen run' had moved it aside): {path}")
    for folder in report.emptied:
        echo(f"removed an empty .dist-info folder an installer left: {folder.name}")
    for settled in report.installs:
        if settled.finished:
            what = "uninstall" if settled.uninstalled else "install"
            echo(f"finished the interrupted {what} of {settled.dist} {settled.finished}")
        else:
            deleted = f"{settled.temporaries} temporaries deleted"
            echo(f"rolled back an interrupted install of {settled.dist} ({deleted})")
    echo_adoption(report.adopted, echo=echo)
    for dist, commands in report.removed:
        echo(
            f"removed {dist} (no longer installed)"
            + (f": commands {', '.join(commands)}" if commands else "")
        )
    for outcome in report.repaired:
        if outcome.done:
            echo(f"repaired {outcome.dist}: {printable(outcome.done)}")
        if outcome.problem:
            echo(f"PROBLEM: {outcome.dist}: {printable(outcome.problem)}")
            if outcome.hint:
                echo(f"  hint: {outcome.hint}")
    for installed in report.records:
        echo(
            f"rewrote the RECORD of {installed.dist} {installed.version}: its launchers first, "
            "without shimgen's own files"
        )
    collected = report.collected
    if collected is not None and (collected.removed or collected.in_use):
        echo(f"collected {len(collected.removed)} entries; {len(collected.in_use)} in use, left for later")


@click.command(
    name="run",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@click.option("--keep", type=click.IntRange(min=0), default=DEFAULT_KEEP, show_default=True, help=KEEP_HELP)
@click.option(
    "--only-installs",
    is_flag=True,
    help="Go through shimgen only for subcommands that change an environment (uv pip install, uv sync, "
    "pip install, ...); run anything else directly. For cmd.exe's doskey (see 'shimgen shell-hook').",
)
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@store_options
def run_command(store: Store, keep: int, only_installs: bool, command: tuple[str, ...]) -> None:
    """Run an installer COMMAND with the environment made safe for it, then sync.

    \b
      shimgen run -- uv pip install -U ruff
      shimgen run -- python -m pip install -U black

    Before COMMAND: sync, then move this environment's running files (launchers,
    loaded DLLs and extension modules) out of its way, so it can delete and
    replace what it wants. If COMMAND is a launcher of this environment (uv or
    pip installed in it), its target runs directly. COMMAND owns the console,
    its output and Ctrl-C. After it, whatever it did: what it did not replace
    is put back, and the environment is synced.

    Exit status: COMMAND's; 1 if COMMAND succeeded and the sync after it failed;
    127 if COMMAND was not found.
    """
    from shimgen.errors import ShimgenError
    from shimgen.run import CommandNotFound, RunReport, finish, installer_argv, prepare, run_installer
    from shimgen.shellhook import changes_environment

    if only_installs and not changes_environment(command):
        from shimgen.run import find_command

        found = find_command(command[0])
        sys.exit(run_installer([str(found) if found else command[0], *command[1:]]))
    report = RunReport()
    with store.locked(create=True):
        stash = prepare(store, report)
        _echo_before(report)
        try:
            report.argv = installer_argv(store, command)
            report.status = run_installer(report.argv)
        except CommandNotFound as error:
            _to_stderr(f"error: {error}")
            report.status = EXIT_NOT_FOUND
        finally:
            try:
                finish(store, stash, report, keep)
            except ShimgenError as error:
                click.echo(f"shimgen: error: the sync after {command[0]} failed: {error}", err=True)
                sys.exit(report.status or EXIT_ERROR)
    assert report.after is not None
    echo_sync(report.after, echo=_to_stderr)
    for path in report.restored:
        _to_stderr(f"put back (the installer left it): {os.path.relpath(path, store.prefix)}")
    status = report.status or 0
    if status == 0 and report.after.problems:
        status = EXIT_ERROR
    sys.exit(_exit_code(status))


def _echo_before(report: RunReport) -> None:
    if report.before is not None:
        echo_sync(report.before, echo=_to_stderr)
    if report.moved:
        _to_stderr(
            f"moved {len(report.moved)} running file(s) out of the installer's way (into .shimgen/trash)"
        )


def _to_stderr(line: str) -> None:
    click.echo(f"shimgen: {line}", err=True)


def _exit_code(status: int) -> int:
    """A Windows exit code of 2**31 or more (0xC000013A: Ctrl-C) goes to sys.exit as its signed twin."""
    return status - (1 << 32) if status >= 1 << 31 else status


@click.command(name="shell-hook")
@click.argument("shell", type=click.Choice(["bash", "zsh", "powershell", "cmd"]))
def shell_hook_command(shell: str) -> None:
    """Print what makes 'uv' and 'pip' in SHELL go through 'shimgen run' when they install.

    \b
      bash/zsh (~/.bashrc):      eval "$(shimgen shell-hook bash)"
      PowerShell ($PROFILE):     shimgen shell-hook powershell | Out-String | Invoke-Expression
      cmd.exe:                   shimgen shell-hook cmd > %USERPROFILE%\\shimgen.cmd
                                 (then: cmd /k %USERPROFILE%\\shimgen.cmd, or an AutoRun entry)

    Only subcommands that change an environment (uv pip install/uninstall/sync,
    uv sync/add/remove, pip install/uninstall) go through shimgen; 'uv --version'
    or 'pip list' run as they are.
    """
    from shimgen.shellhook import hook

    click.echo(hook(shell), nl=False)
