"""The wheel verbs: ``install``, ``uninstall`` and ``adopt``."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from shimgen.cli._common import command_list, echo_adoption, store_options
from shimgen.defaults import PLATFORM_TAGS
from shimgen.errors import ShimgenError

if TYPE_CHECKING:
    from shimgen.store import Store


@click.command()
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
    from shimgen.install import naming, prepare_installs, progress_total
    from shimgen.wheelfile import WheelFile

    for path in wheels:
        if not path.is_file():
            raise ShimgenError("no such wheel", path=path)
    with contextlib.ExitStack() as stack:
        opened = [stack.enter_context(WheelFile(path)) for path in wheels]
        total = sum(progress_total(wheel) for wheel in opened)
        show = sys.stderr.isatty() and total > 8 * 1024 * 1024
        label = opened[0].path.name if len(opened) == 1 else f"{len(opened)} wheels"
        bar = stack.enter_context(
            click.progressbar(length=total, label=f"installing {label}", file=sys.stderr)
            if show
            else contextlib.nullcontext()
        )
        progress = bar.update if bar is not None else None
        prepared = prepare_installs(store, opened, platform=platform, progress=progress)
        for ready in prepared:
            with naming(ready.wheel):
                result = ready.run(progress)
            was = f" (was {result.previous})" if result.previous and result.previous != result.version else ""
            commands = command_list(list(result.commands))
            click.echo(f"installed {result.dist} {result.version}{was}{commands}")


@click.command()
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


@click.command()
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
