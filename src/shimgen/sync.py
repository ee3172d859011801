"""``shimgen sync``: make the environment whole after pip or uv changed it, in named steps.

0. settle what was interrupted: files a killed ``shimgen run`` moved aside are put
   back, an install past its commit point is finished, one before it rolled back;
1. adopt: programs and foreign launchers that an installed distribution owns
   in Scripts (bin) go into the store and get launchers (see shimgen.adopt);
2. follow uninstalls: a distribution installed or adopted by shimgen whose
   metadata is gone loses its commands; its entries become garbage;
3. repair: dist states, link records and launchers of installed distributions
   that an installer deleted are rebuilt from what is left (shimgen.repair);
4. RECORDs follow the rule of shimgen.record;
5. gc.

Every step is idempotent, so a second sync changes nothing, and a sync that is
interrupted is finished by the next one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

from shimgen import repair
from shimgen.adopt import AdoptReport, adopt, records_to_repair, rewrite_record
from shimgen.entry import verify_entry
from shimgen.environment import (
    Installed,
    Scheme,
    all_installed,
    empty_dist_infos,
    judged,
    platform_layout,
    scheme_for,
)
from shimgen.errors import ShimgenError
from shimgen.install import RecoveredInstall, pending_installs, recover_install
from shimgen.linkrecord import LinkRecord
from shimgen.stash import put_back_pending
from shimgen.store import DEFAULT_KEEP, GcReport, Store


@dataclass
class SyncReport:
    adopted: AdoptReport = field(default_factory=AdoptReport)
    removed: list[tuple[str, list[str]]] = field(default_factory=list)  # dist, its commands
    repaired: list[repair.Outcome] = field(default_factory=list)  # done, or a problem left
    records: list[Installed] = field(default_factory=list)  # RECORDs rewritten by the rule
    collected: GcReport | None = None
    restored: list[Path] = field(default_factory=list)  # put back after a killed 'shimgen run'
    installs: list[RecoveredInstall] = field(default_factory=list)  # interrupted ones, settled
    emptied: list[Path] = field(default_factory=list)  # empty .dist-info folders removed

    @property
    def changed(self) -> bool:
        adopted = self.adopted.adoptions or self.adopted.repairs
        repaired = any(r.done for r in self.repaired)
        settled = self.restored or self.installs or self.emptied
        return bool(adopted or self.removed or repaired or self.records or settled)

    @property
    def problems(self) -> list[repair.Outcome]:
        return [r for r in self.repaired if r.problem]


def sync(store: Store, *, keep: int | None = DEFAULT_KEEP, platform: str | None = None) -> SyncReport:
    """Adopt, follow uninstalls, repair, fix RECORDs, collect garbage (``keep=None``: no gc).

    site-packages is read once, and again only if adopting rewrote RECORDs: a sync
    that finds nothing to do is the common case (after every pip install).
    """
    report = SyncReport()
    with store.locked(create=True):
        if store.initialized:
            report.restored = put_back_pending(store)
        report.installs = [recover_install(store, path) for path in pending_installs(store)]
        scheme = scheme_for(store.prefix, store.planned_layout(*platform_layout(platform)))
        site = all_installed(scheme)
        report.adopted = adopt(store, platform=platform, site=site, check_records=False)
        if not store.initialized:
            return report  # nothing adopted and nothing managed: nothing else to do
        if report.adopted.adoptions or report.restored or report.installs:
            site = all_installed(scheme)
        report.emptied = _remove_empty_dist_infos(scheme)
        installed = {dist: judged(versions) for dist, versions in site.items()}
        follow_uninstalls(store, installed, report)
        repair_installed(store, installed, report)
        fix_records(store, installed, report)
        if keep is not None:
            report.collected = store.gc(keep)
    return report


def _remove_empty_dist_infos(scheme: Scheme) -> list[Path]:
    """Empty ``.dist-info`` folders a killed installer left: no distribution, only a name in the way."""
    removed = []
    for folder in empty_dist_infos(scheme):
        with contextlib.suppress(OSError):  # not empty after all: left alone
            os.rmdir(folder)
            removed.append(folder)
    return removed


def follow_uninstalls(store: Store, installed: dict[str, Installed], report: SyncReport) -> None:
    """Drop the commands of distributions shimgen installed or adopted that pip or uv uninstalled.

    A state written by an older shimgen does not say whether it belongs to an
    installed distribution: it is marked as one while it is installed, and
    left alone otherwise (it may be a program published with ``link``).
    """
    for dist in store.dist_names():
        try:
            state = store.read_state(dist)
        except ShimgenError:
            continue  # doctor reports it
        if state is None:
            continue
        if dist not in installed:
            if state.installed:
                report.removed.append((dist, repair.drop_uninstalled(store, dist)))
        elif state.installed is None:
            store.write_state(dataclasses.replace(state, installed=True))


def repair_installed(store: Store, installed: dict[str, Installed], report: SyncReport) -> None:
    """Make every installed distribution that shimgen manages (or once did) run again."""
    traces = _dists_with_traces(store, installed)
    for dist, found in sorted(installed.items()):
        if dist not in traces:
            continue
        outcome = _repair_one(store, found)
        if outcome is not None:
            report.repaired.append(outcome)


def _repair_one(store: Store, installed: Installed) -> repair.Outcome | None:
    """Links and shims made to match the state when it runs the installed version; else rebuilt."""
    dist = installed.dist
    if installed.unfinished:
        return repair.Outcome(
            dist,
            problem=f"{installed.version} was not installed completely: {installed.unfinished}; "
            "its commands are left as they were",
            hint=repair.unfinished_hint(installed),
        )
    try:
        state = store.read_state(dist)
        if state is not None:
            manifest, problems = verify_entry(store.entry_dir(dist, state.current), deep=False)
            if manifest is not None and not problems and manifest.version == installed.version:
                changed = store.apply_state(dist)
                return (
                    repair.Outcome(dist, done=f"commands {', '.join(sorted(changed))} repaired")
                    if changed
                    else None
                )
        return repair.restore_state(store, installed)
    except ShimgenError as error:
        return repair.Outcome(dist, problem=error.message, hint=error.hint)


def _dists_with_traces(store: Store, installed: dict[str, Installed]) -> set[str]:
    """Distributions shimgen manages or managed here: a state, a store folder, a link record, or a
    RECORD an older shimgen wrote (it listed the store's files)."""
    found = set(store.dist_names())
    found |= {dist for dist, i in installed.items() if any("/.shimgen/" in row[0] for row in i.rows)}
    if store.is_real_folder(store.store_dir):
        found |= {p.name for p in store.store_dir.iterdir() if p.is_dir()}
    found |= {
        owner[0]
        for record in store.read_links().values()
        if isinstance(record, LinkRecord) and (owner := store.owner(record))
    }
    return found


def fix_records(store: Store, installed: dict[str, Installed], report: SyncReport) -> None:
    """Rewrite the RECORDs that do not follow the rule (after the steps above changed the shims)."""
    scheme = scheme_for(store.prefix, store.layout())
    for found in records_to_repair(store, installed):
        rewrite_record(store, scheme, found, dropped=set())
        report.records.append(found)
