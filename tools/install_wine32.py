#!/usr/bin/env python3
"""Install Debian's ``wine32`` (32-bit Wine) beside an installed ``wine``, reliably.

Why not just ``apt-get install wine32``: it brings about 120 i386 libraries, and most are
``Multi-Arch: same``, so each i386 copy must be exactly the version of the installed amd64
copy. apt keeps installed amd64 packages where they are and looks for that very version for
i386; when the i386 and amd64 indexes are not in step, it is not there and apt gives up
("Depends: liblzma5:i386 ... but it is not going to be installed"). Seen on this project's
machines: the security archive's i386 index never matches its signed Release file ("File has
unexpected size ... Mirror sync in progress?"), so apt drops it, and the machine's image holds
amd64 libraries that no index offers any more (liblzma5 5.4.1-1, libssl3 3.0.19, ...).

So this script chooses the versions itself, with apt's own tools and the standard archives:
  1. add the i386 architecture and run ``apt-get update`` (an index that fails is reported,
     not fatal: the archives that answer are enough);
  2. list the i386 packages wine32 needs (``apt-cache depends --recurse``, Depends and
     Pre-Depends, no recommends);
  3. for each installed for amd64 as ``Multi-Arch: same``: keep the installed version if i386
     offers it; else take the newest version offered for both architectures (an amd64 upgrade;
     a downgrade only when nothing newer is common, said on stderr), and move every installed
     package built from the same source along to the build of that source version (libssl-dev
     with libssl3), so that nothing has to be removed;
  4. install wine32 with all of these versions given explicitly, in one transaction,
     with ``--no-remove`` (apt fails rather than uninstall anything) and no recommends (3D
     drivers and sound plug-ins are not needed to run test programs).
Every failure exits non-zero with apt's own words: the tests need wine32 and never skip it.

Usage: python3 tools/install_wine32.py   (as root; ``./dev test`` runs it when wine32 is missing)
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass

APT_ENV = {**os.environ, "DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C"}


def run(*command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    if command[0] == "apt-get":  # wait for another apt or dpkg (unattended upgrades) to finish
        command = (command[0], "-o", "DPkg::Lock::Timeout=300", *command[1:])
    result = subprocess.run(command, env=APT_ENV, capture_output=True, text=True)
    if check and result.returncode != 0:
        sys.exit(f"install_wine32: '{' '.join(command)}' failed:\n{result.stdout}{result.stderr}")
    return result


def _compare(a: str, b: str) -> int:
    """Debian version order, by dpkg itself (epochs, tildes): nothing reimplemented to get wrong."""
    if a == b:
        return 0
    return -1 if run("dpkg", "--compare-versions", a, "lt", b, check=False).returncode == 0 else 1


newest = functools.partial(max, key=functools.cmp_to_key(_compare))


@dataclass(frozen=True)
class Installed:
    name: str
    arch: str  # amd64 or all
    version: str
    source: str
    multi_arch: str

    @property
    def query(self) -> str:
        """How apt names this package of this architecture."""
        return self.name if self.arch == "all" else f"{self.name}:{self.arch}"


def installed_packages() -> list[Installed]:
    fields = ["Package", "Architecture", "Version", "source:Package", "Multi-Arch", "db:Status-Abbrev"]
    output = run("dpkg-query", "-W", "-f", "\t".join(f"${{{field}}}" for field in fields) + "\n").stdout
    found = []
    for line in output.splitlines():
        name, arch, version, source, multi_arch, status = line.split("\t")
        if status.strip() == "ii" and arch in ("amd64", "all"):
            found.append(Installed(name, arch, version, source, multi_arch))
    return found


def i386_dependencies(package: str) -> set[str]:
    """Every i386 package ``package`` needs (Depends and Pre-Depends, recursively), by name."""
    output = run(
        "apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts",
        "--no-breaks", "--no-replaces", "--no-enhances", f"{package}:i386",
    ).stdout  # fmt: skip
    lines = output.splitlines()
    return {line.removesuffix(":i386") for line in lines if line.endswith(":i386") and line[0] != " "}


def offered(names: Iterable[str]) -> dict[tuple[str, str], set[str]]:
    """{(package, arch): versions some index offers} for ``name:arch`` names (one madison call)."""
    versions: dict[tuple[str, str], set[str]] = {}
    for line in run("apt-cache", "madison", *names, check=False).stdout.splitlines():
        parts = [part.strip() for part in line.split("|")]
        if len(parts) == 3 and parts[2].endswith(" Packages"):
            versions.setdefault((parts[0].split(":")[0], parts[2].split()[-2]), set()).add(parts[1])
    return versions


def source_versions(names: Iterable[str]) -> dict[tuple[str, str, str], str]:
    """{(package, arch, version): the source version it was built from}, from ``apt-cache show``."""
    built_from = {}
    for record in run("apt-cache", "show", *names, check=False).stdout.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in record.splitlines() if ": " in line and line[0] != " ")
        if "Package" in fields:
            version = fields["Version"]
            source = fields.get("Source", "").partition(" (")[2].rstrip(")") or version
            built_from[(fields["Package"], fields["Architecture"], version)] = source
    return built_from


def choose_versions(needed: set[str], installed: list[Installed]) -> tuple[list[str], bool]:
    """``name:arch=version`` arguments for apt, and whether any of them is a downgrade."""
    twins = {
        p.name: p for p in installed if p.arch == "amd64" and p.multi_arch == "same" and p.name in needed
    }
    offers = offered(f"{name}:{arch}" for name in twins for arch in ("amd64", "i386"))
    pins: list[str] = []
    moved: dict[str, Installed] = {}  # twins that change version, by source, at their new version
    downgrade = False
    for name, package in sorted(twins.items()):
        for_i386 = offers.get((name, "i386"), set())
        if package.version in for_i386:
            pins.append(f"{name}:i386={package.version}")
            continue
        for_amd64 = offers.get((name, "amd64"), set())
        common = for_i386 & for_amd64
        if not common:
            sys.exit(
                f"install_wine32: {name} is installed for amd64 at {package.version}, and no version is"
                f" offered for both amd64 {sorted(for_amd64)} and i386 {sorted(for_i386)}: the package"
                " indexes are out of step; try again after 'apt-get update'"
            )
        version = newest(common)
        if newest([version, package.version]) == package.version:
            downgrade = True
            print(
                f"install_wine32: {name}:amd64 goes down from {package.version} to {version},"
                " the newest version offered for i386 too",
                file=sys.stderr,
            )
        pins += [f"{name}:amd64={version}", f"{name}:i386={version}"]
        moved[package.source] = Installed(name, "amd64", version, package.source, "same")
    return pins + _move_siblings(moved, installed, twins), downgrade


def _move_siblings(
    moved: dict[str, Installed], installed: list[Installed], twins: dict[str, Installed]
) -> list[str]:
    """Pins for the other installed packages of each moved source, to that source version's build.

    Without them apt removes what depends on the exact old version (libssl-dev on libssl3).
    """
    siblings = [p for p in installed if p.source in moved and p.name not in twins]
    if not siblings:
        return []
    built_from = source_versions([*(p.query for p in siblings), *(p.query for p in moved.values())])
    wanted = {source: built_from.get((p.name, p.arch, p.version), p.version) for source, p in moved.items()}
    offers = offered(p.query for p in siblings)
    pins = []
    for package in siblings:
        matching = [
            version
            for version in offers.get((package.name, package.arch), set())
            if built_from.get((package.name, package.arch, version)) == wanted[package.source]
        ]
        if matching:
            pins.append(f"{package.query}={newest(matching)}")
    return pins


def main() -> int:
    if os.geteuid() != 0:
        sys.exit("install_wine32: run as root (it uses dpkg and apt-get)")
    if "i386" not in run("dpkg", "--print-foreign-architectures").stdout.split():
        run("dpkg", "--add-architecture", "i386")
    update = run("apt-get", "update", "-qq", check=False)
    if update.returncode != 0:  # one index may be mid-sync; the others may still be enough
        print(
            f"install_wine32: apt-get update complained, going on:\n{update.stderr.strip()}", file=sys.stderr
        )
    needed = i386_dependencies("wine32")
    if "wine32" not in needed:
        sys.exit(f"install_wine32: apt knows no wine32:i386 package\n{update.stderr}")
    pins, downgrade = choose_versions(needed, installed_packages())
    options = ["-y", "-q", "--no-install-recommends", "--no-remove"]
    if downgrade:
        options.append("--allow-downgrades")
    if "--simulate" in sys.argv:
        options.append("--simulate")
    result = run("apt-get", "install", *options, "wine32:i386", *pins, check=False)
    if "--simulate" in sys.argv:
        print(result.stdout)
    if result.returncode != 0:
        sys.exit(f"install_wine32: apt-get install failed:\n{result.stdout[-4000:]}{result.stderr}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
