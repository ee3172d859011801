"""The versioned store: publish, switch, roll back, remove and collect garbage, crash-safely.

Layout inside an environment prefix (the names: shimgen.paths)::

    .shimgen/config.json              layout (windows or posix) and, for Windows, the architecture
    .shimgen/store/<dist>/<entry>/    immutable entries (see shimgen.entry)
    .shimgen/dists/<dist>.json        the dist's generations: current entry first, then kept ones
    .shimgen/links/<command>          link records, read by the launchers
    .shimgen/installs/<dist>.json     journals of installs under way (shimgen.install.journal)
    .shimgen/trash/                   what was renamed aside because it may be running
    .shimgen/lock                     one writer at a time; launchers never take it

The modules: ``store`` (the Store class: files, lock, publish as plan, build
and make-current, rollback, remove), ``switch`` (the second phase, in named
steps), ``reader`` (the read-only views), ``commands`` (which command belongs to whom),
``rollback``, ``gc``, ``layout``, ``state``, ``listing`` (what ``list`` prints),
``native`` (what ``link`` publishes).
Everything callers use is re-exported here.
"""

from shimgen.defaults import DEFAULT_KEEP, DEFAULT_LOCK_TIMEOUT, POSIX, WINDOWS, LayoutKind
from shimgen.errors import NewerFormat
from shimgen.paths import ENTRY_NAME
from shimgen.store.gc import GcReport, leftover_folders, needed_entries, readable_states
from shimgen.store.layout import RUNS_ON, Layout, detect_layout, make_shims
from shimgen.store.listing import dist_rows
from shimgen.store.native import native_entry
from shimgen.store.state import ROLLBACK, DistState, version_of
from shimgen.store.store import PublishPlan, PublishResult, Store

__all__ = [
    "DEFAULT_KEEP",
    "DEFAULT_LOCK_TIMEOUT",
    "ENTRY_NAME",
    "POSIX",
    "ROLLBACK",
    "RUNS_ON",
    "WINDOWS",
    "DistState",
    "GcReport",
    "Layout",
    "LayoutKind",
    "NewerFormat",
    "PublishPlan",
    "PublishResult",
    "Store",
    "detect_layout",
    "dist_rows",
    "leftover_folders",
    "make_shims",
    "native_entry",
    "needed_entries",
    "readable_states",
    "version_of",
]
