"""What the command modules share: the environment options, and the words reports are printed in."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from shimgen.defaults import DEFAULT_LOCK_TIMEOUT

if TYPE_CHECKING:
    from shimgen.adopt import AdoptReport

F = TypeVar("F", bound=Callable[..., Any])

EXIT_ERROR = 1
EXIT_USAGE = 2  # bad usage (click's own code), or no environment chosen
EXIT_BROKEN_LAUNCHER = 3  # inspect: a launcher that would fail to run
EXIT_PROBLEMS = 3  # doctor: problems remain

PREFIX_HELP = (
    "Environment prefix (a virtual environment's folder). Default: $VIRTUAL_ENV, else the project's "
    ".venv (or $UV_PROJECT_ENVIRONMENT) from the current folder upward, else the virtual environment "
    "shimgen runs in."
)


def store_options(function: F) -> F:
    """``--prefix`` and ``--lock-timeout``, turned into a ``store`` (shimgen.environment_choice chooses)."""

    @click.option("--prefix", type=click.Path(file_okay=False, path_type=Path), help=PREFIX_HELP)
    @click.option(
        "--lock-timeout",
        type=click.FloatRange(min=0),
        default=DEFAULT_LOCK_TIMEOUT,
        show_default=True,
        metavar="SECONDS",
        help="How long to wait while another shimgen changes the same environment.",
    )
    @functools.wraps(function)
    def wrapper(prefix: Path | None, lock_timeout: float, **kwargs: Any) -> Any:
        from shimgen.environment_choice import choose_environment
        from shimgen.store import Store

        chosen = choose_environment(prefix).prefix
        return function(store=Store(chosen, lock_timeout=lock_timeout, on_wait=_waiting), **kwargs)

    return wrapper  # type: ignore[return-value]


def printable(text: str) -> str:
    """Text read from a file (a decoded launcher), safe for a terminal: control characters escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


SHOWN_COMMANDS = 10


def command_list(names: list[str]) -> str:
    """``; commands: a, b, c``, the first ten of many and how many more: a wheel with a thousand
    entry points should not print a thousand names (``shimgen list`` shows them all)."""
    if not names:
        return ""
    shown = ", ".join(names[:SHOWN_COMMANDS])
    more = len(names) - SHOWN_COMMANDS
    return f"; commands: {shown}" + (f" and {more} more ('shimgen list' shows them all)" if more > 0 else "")


def _waiting(lock: Path) -> None:
    click.echo(f"shimgen: waiting for another shimgen to finish with {lock}", err=True)


def echo_adoption(
    report: AdoptReport, *, dry_run: bool = False, echo: Callable[[str], None] = click.echo
) -> None:
    """What adopt did (or would do), in the words both ``adopt`` and ``sync`` use."""
    verb = "would adopt" if dry_run else "adopted"
    for adoption in report.adoptions:
        installed = adoption.installed
        echo(f"{verb} {installed.dist} {installed.version}:")
        for line in adoption.described:
            echo(f"  {printable(line)}")
    for installed in report.repairs:
        verb_record = "would rewrite" if dry_run else "rewrote"
        echo(
            f"{verb_record} the RECORD of {installed.dist} {installed.version}: its launchers first, "
            "without shimgen's own files"
        )
    for path, why in report.skipped:
        where = f"{path.parent.name}/{path.name}" if path.name == "RECORD" else path.name
        echo(f"skipped {where}: {printable(why)}")
    for path in report.unowned:
        echo(f"left alone (owned by no distribution): {path.name}")
