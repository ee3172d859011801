"""``shimgen install`` / ``uninstall``: wheels into an environment, safe while its tools run.

Where pip copies a wheel's scripts into ``Scripts`` (and fails on a running
``.exe``), shimgen puts every script of the wheel, native binaries from
``<name>.data/scripts/`` and generated entry-point scripts alike, into one new
store entry and points the commands at it (see shimgen.store). Library files
go to site-packages as usual, each written through a temporary file and a
rename; one that Windows refuses to replace because a running process has it
mapped (an extension module) is renamed into the trash first.

RECORD stays true, so pip can list and uninstall what shimgen installed: it
lists the library files and the launchers (or symlinks), the shims first, and
none of shimgen's own files (the rule and why: shimgen.record).
Nothing resolves dependencies: wheels are installed exactly as given.
"""

from shimgen.install.installation import Installation, InstallResult
from shimgen.install.journal import INSTALLER_NAME
from shimgen.install.journal import Recovered as RecoveredInstall
from shimgen.install.journal import pending as pending_installs
from shimgen.install.journal import recover as recover_install
from shimgen.install.lifecycle import forget_commands, refuse_mixed_rollback, remove_commands, uninstall
from shimgen.install.prepare import (
    PreparedInstall,
    Progress,
    check_fits,
    install_wheel,
    naming,
    prepare_install,
    prepare_installs,
    progress_total,
)

__all__ = [
    "INSTALLER_NAME",
    "InstallResult",
    "Installation",
    "PreparedInstall",
    "Progress",
    "RecoveredInstall",
    "check_fits",
    "forget_commands",
    "install_wheel",
    "naming",
    "pending_installs",
    "prepare_install",
    "prepare_installs",
    "progress_total",
    "recover_install",
    "refuse_mixed_rollback",
    "remove_commands",
    "uninstall",
]
