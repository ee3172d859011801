"""``shimgen doctor``: check every shim, link record and store entry, and say what would fix it.

Checking changes nothing, and it holds the writer lock so that it never sees
a change half-done. Each finding names the path, what is wrong and what
``--fix`` would do, or why it cannot be fixed automatically (a tampered current
entry cannot be repaired, only re-published; a file written by a newer
shimgen is never rewritten). Fixing reuses
the store's own idempotent steps (``Store.apply_state``), so doctor finishes
exactly what an interrupted operation would have done.

Garbage (entries nothing needs, the trash, crash leftovers) is reported too,
but it is not a problem: ``shimgen gc`` removes it.

The checks, in the order :func:`diagnose` runs them: interrupted installs
(shimgen.install.journal), config.json (``config``), each distribution against
site-packages (``site``), each distribution in the store (``dists``), across
commands (``commands``), and garbage (``garbage``).
"""

from __future__ import annotations

from shimgen.doctor.commands import dangling_shims, missing_interpreters, orphan_links
from shimgen.doctor.config import config_problem
from shimgen.doctor.dists import View, check_dist
from shimgen.doctor.findings import GARBAGE, NOTE, PROBLEM, Finding
from shimgen.doctor.garbage import garbage
from shimgen.doctor.site import check_site, interrupted_installs
from shimgen.errors import ShimgenError
from shimgen.store import Store

__all__ = ["GARBAGE", "NOTE", "PROBLEM", "Finding", "diagnose", "doctor"]


def doctor(store: Store, *, fix: bool = False) -> list[Finding]:
    """Diagnose ``store``; with ``fix``, repair what can be repaired and diagnose again.

    Returns the findings of the first pass, with ``fixed`` set on those that are
    gone afterwards, plus any problem the second pass still sees.
    """
    if not store.root.is_dir():
        return []  # not a shimgen environment: nothing to check, and nothing to create
    with store.locked():
        findings = diagnose(store)
        if not fix:
            return findings
        for finding in findings:
            if finding.action is not None and (finding.severity == PROBLEM or finding.kind == "leftover"):
                try:
                    finding.action()
                except ShimgenError as error:
                    finding.hint = f"fix failed: {error}".replace("\n", " ")
        after = diagnose(store)
    remaining = {(f.kind, f.path) for f in after if f.severity == PROBLEM}
    for finding in findings:
        finding.fixed = finding.severity == PROBLEM and (finding.kind, finding.path) not in remaining
    known = {(f.kind, f.path) for f in findings}
    return findings + [f for f in after if f.severity == PROBLEM and (f.kind, f.path) not in known]


def diagnose(store: Store) -> list[Finding]:
    """Every finding, reading only: the steps in order, each a function of its own."""
    if not store.root.is_dir():
        return []
    interrupted = interrupted_installs(store)
    if not store.config_path.exists() and not store.dist_names() and not store.read_links():
        return interrupted  # set up was interrupted before anything was published: only that to settle
    config = config_problem(store)
    if config is not None:
        return [*interrupted, config]  # every other check would judge by the wrong layout
    view = View(store, store.read_links())
    site = check_site(store)
    for dist in site.claimed:
        view.claim(dist)  # judged against site-packages, fixed by its own repair
    findings = [*interrupted, *site.findings]
    for dist in store.dist_names():
        if dist not in site.claimed:
            findings += check_dist(view, dist)
    findings += missing_interpreters(view)
    findings += orphan_links(view)
    findings += dangling_shims(view, site.listed)
    findings += garbage(store, view.links)
    return findings
