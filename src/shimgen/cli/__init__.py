"""The ``shimgen`` command line.

Exit codes, for scripts: 0 success; 1 shimgen could not do what was asked (the
message says what, to which path, and what to do); 2 bad usage (from click, or
no environment chosen); 3 ``inspect`` found a launcher that would fail to run,
or ``doctor`` found problems (after ``--fix``: problems it could not fix).
``run`` exits with its installer's status.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from shimgen import __version__
from shimgen.cli._common import EXIT_ERROR, EXIT_USAGE
from shimgen.cli.beside import run_command, shell_hook_command, sync_command
from shimgen.cli.launchers import generate, inspect
from shimgen.cli.store import doctor_, gc, link, list_, remove, rollback
from shimgen.cli.wheels import adopt, install, uninstall
from shimgen.environment_choice import NoEnvironment
from shimgen.errors import ShimgenError

# The verbs live in modules by family (launchers, store, wheels, beside uv and pip); each
# imports what it needs when it runs, so 'shimgen --version', '--help' and the option parsing
# of every command stay as quick as click allows (see benchmarks, start-up).


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


main.add_command(generate)
main.add_command(inspect)
main.add_command(link)
main.add_command(list_)
main.add_command(rollback)
main.add_command(remove)
main.add_command(gc)
main.add_command(doctor_)
main.add_command(install)
main.add_command(uninstall)
main.add_command(adopt)
main.add_command(sync_command)
main.add_command(run_command)
main.add_command(shell_hook_command)
