"""The store, natively, in both layouts: publish, switch, rollback, remove, GC, conflicts, bad input."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from shimgen import ShimgenError, stub_bytes
from shimgen.entry import MANIFEST_NAME, Command, EntryFile
from shimgen.errors import PathRefused
from shimgen.store import Store, native_entry
from tests.helpers.sandbox import Sandbox


def test_publish_creates_entry_link_and_shim(sandbox: Sandbox) -> None:
    result = sandbox.publish("My.Tool", "1.0", "tool", "helper")
    assert result.dist == "my-tool" and result.created and result.previous is None
    assert result.entry.parent == sandbox.prefix / ".shimgen" / "store" / "my-tool"
    assert result.entry.name.startswith("1.0-") and (result.entry / MANIFEST_NAME).is_file()
    assert sandbox.runs("tool") == "1.0" and sandbox.runs("helper") == "1.0"
    # Siblings side by side: a tool looking next to itself finds the others.
    assert sandbox.resolved("tool").parent == sandbox.resolved("helper").parent == result.entry
    record = (sandbox.prefix / ".shimgen" / "links" / "tool").read_text()
    program = f".shimgen/store/my-tool/{result.entry.name}/{sandbox.resolved('tool').name}"
    assert record == f"shimgen-link 1\ntarget={program}\n"


def test_posix_shim_is_a_relative_symlink_that_runs(tmp_path: Path) -> None:
    box = Sandbox(tmp_path, "posix")
    box.prefix.mkdir()
    box.publish("tool", "1.0")
    shim = box.shim("tool")
    assert shim.is_symlink() and not os.readlink(shim).startswith("/")
    import subprocess

    assert subprocess.run([shim], capture_output=True, text=True, check=True).stdout == "tool 1.0\n"
    box.publish("tool", "2.0")
    assert subprocess.run([shim], capture_output=True, text=True, check=True).stdout == "tool 2.0\n"


def test_windows_launcher_is_the_plain_stub_and_never_rewritten(tmp_path: Path) -> None:
    box = Sandbox(tmp_path, "windows")
    box.prefix.mkdir()
    box.publish("tool", "1.0")
    launcher = box.shim("tool")
    assert launcher.read_bytes() == stub_bytes("x64")
    before = os.stat(launcher)
    box.publish("tool", "2.0")
    box.store().rollback("tool")
    after = os.stat(launcher)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert box.runs("tool") == "1.0"


def test_switch_keeps_previous_entry_and_republish_is_idempotent(sandbox: Sandbox) -> None:
    first = sandbox.publish("tool", "1.0")
    second = sandbox.publish("tool", "2.0")
    assert second.previous == first.entry.name and sandbox.runs("tool") == "2.0"
    assert first.entry.is_dir()  # kept for rollback and for whatever still runs it
    link = sandbox.prefix / ".shimgen" / "links" / "tool"
    before = link.stat().st_mtime_ns, sandbox.snapshot()
    again = sandbox.publish("tool", "2.0")
    assert not again.created and again.entry == second.entry
    assert (link.stat().st_mtime_ns, sandbox.snapshot()) == before


def test_rollback_swaps_current_and_previous(sandbox: Sandbox) -> None:
    sandbox.publish("tool", "1.0", "tool", "old-only")
    sandbox.publish("tool", "2.0", "tool", "new-only")
    assert sandbox.runs("new-only") == "2.0" and not os.path.lexists(sandbox.shim("old-only"))
    store = sandbox.store()
    current, previous = store.rollback("tool")
    assert current.startswith("2.0-") and previous.startswith("1.0-")
    assert sandbox.runs("tool") == "1.0" and sandbox.runs("old-only") == "1.0"
    assert not os.path.lexists(sandbox.shim("new-only"))
    store.rollback("tool")
    assert sandbox.runs("tool") == "2.0" and sandbox.runs("new-only") == "2.0"


def test_rollback_needs_an_intact_previous_entry(sandbox: Sandbox) -> None:
    store = sandbox.store()
    sandbox.publish("tool", "1.0")
    with pytest.raises(ShimgenError, match="no previous version"):
        store.rollback("tool")
    first = sandbox.publish("tool", "2.0").previous
    program = next(p for p in store.entry_dir("tool", first).iterdir() if p.name != MANIFEST_NAME)
    program.write_bytes(program.read_bytes() + b"tampered")
    before = sandbox.snapshot()
    with pytest.raises(ShimgenError, match=r"damaged.*tampered"):
        store.rollback("tool")
    assert sandbox.snapshot() == before and sandbox.runs("tool") == "2.0"
    with pytest.raises(ShimgenError, match="not installed"):
        store.rollback("other")


def test_remove_drops_shims_and_links_and_gc_collects(sandbox: Sandbox) -> None:
    store = sandbox.store()
    sandbox.publish("tool", "1.0", "a", "b")
    sandbox.publish("keep", "1.0")
    assert sorted(store.remove("tool")) == ["a", "b"]
    assert sandbox.resolved("a") is None and not os.path.lexists(sandbox.shim("a"))
    assert not (store.links_dir / "a").exists() and store.read_state("tool") is None
    assert sandbox.runs("keep") == "1.0"
    report = store.gc()
    assert [p.parent.name for p in report.removed] == ["tool"] and not report.in_use
    assert not (store.store_dir / "tool").exists()
    assert not any(store.trash_dir.iterdir())
    with pytest.raises(ShimgenError, match="not installed"):
        store.remove("tool")


def test_gc_keeps_current_and_previous_generations(sandbox: Sandbox) -> None:
    store = sandbox.store()
    entries = [sandbox.publish("tool", v).entry for v in ("1.0", "2.0", "3.0")]
    report = store.gc(keep=1)
    assert report.removed == [entries[0]] and report.trimmed == {"tool": [entries[0].name]}
    assert entries[1].is_dir() and entries[2].is_dir()
    assert store.read_state("tool").generations == (entries[2].name, entries[1].name)
    assert store.gc(keep=0).removed == [entries[1]] and sandbox.runs("tool") == "3.0"
    with pytest.raises(ShimgenError, match="no previous"):
        store.rollback("tool")
    assert store.gc().removed == []


def test_gc_never_removes_an_entry_a_link_record_uses(sandbox: Sandbox) -> None:
    store = sandbox.store()
    first = sandbox.publish("tool", "1.0").entry
    sandbox.publish("tool", "2.0")
    # A link left pointing at the old entry (as by a crash) keeps it alive.
    (store.links_dir / "tool").write_text(
        f"shimgen-link 1\ntarget=.shimgen/store/tool/{first.name}/{sandbox.resolved('tool').name}\n"
    )
    assert store.gc(keep=0).removed == [] and first.is_dir()


def test_gc_removes_crash_leftovers_and_empties_the_trash(sandbox: Sandbox) -> None:
    store = sandbox.store()
    sandbox.publish("tool", "1.0")
    leftovers = [
        store.store_dir / "tool" / ".tmp-abc123",
        store.links_dir / ".tool.x1y2.tmp",
        store.dists_dir / ".tool.json.q.tmp",
        store.trash_dir / "1-ab-tool.exe",
    ]
    leftovers[0].mkdir()
    (leftovers[0] / "half").write_bytes(b"x")
    for path in leftovers[1:]:
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"x")
    store.gc()
    assert not any(p.exists() for p in leftovers) and sandbox.runs("tool") == "1.0"


def test_commands_dropped_and_added_between_versions(sandbox: Sandbox) -> None:
    sandbox.publish("tool", "1.0", "a", "b")
    sandbox.publish("tool", "2.0", "b", "c")
    assert not os.path.lexists(sandbox.shim("a")) and not (sandbox.prefix / ".shimgen/links/a").exists()
    assert sandbox.runs("b") == "2.0" and sandbox.runs("c") == "2.0"


def test_command_owned_by_another_dist_is_refused_without_changes(sandbox: Sandbox) -> None:
    sandbox.publish("first", "1.0", "tool")
    before = sandbox.snapshot()
    with pytest.raises(ShimgenError, match="'tool' belongs to first") as error:
        sandbox.publish("second", "1.0", "tool")
    assert "shimgen remove first" in str(error.value)
    # The program file is created in sources/, outside the prefix: the prefix is unchanged.
    assert sandbox.snapshot() == before


def test_foreign_file_in_the_way_is_never_overwritten(sandbox: Sandbox) -> None:
    shim = sandbox.shim("tool")
    shim.parent.mkdir(parents=True)
    shim.write_bytes(b"a real program pip installed")
    before = sandbox.snapshot()
    with pytest.raises(ShimgenError, match="did not make") as error:
        sandbox.publish("tool", "1.0")
    assert str(shim) in str(error.value)
    assert sandbox.snapshot() == before  # not even .shimgen/ was created


def test_gui_program_gets_the_gui_launcher_swapped_in_by_rename(tmp_path: Path) -> None:
    box = Sandbox(tmp_path, "windows")
    box.prefix.mkdir()
    box.publish("tool", "1.0")
    store = box.store()
    launcher = box.shim("tool")
    old = launcher.stat()
    # Version 2 is a GUI program: its launcher must be the GUI stub.
    program = box.program("tool", "2.0", gui=True)
    files, commands = native_entry([program], layout=store.planned_layout())
    assert commands[0].gui
    store.publish("tool", "2.0", files, commands)
    assert launcher.read_bytes() == stub_bytes("x64", gui=True)
    assert launcher.stat().st_ino != old.st_ino  # a new file renamed over the name, not rewritten
    # (A running launcher cannot be replaced on Windows: tests/wine shows it renamed into the trash.)


def test_data_files_ride_along_without_commands(sandbox: Sandbox, tmp_path: Path) -> None:
    data = tmp_path / "tool.dll"
    data.write_bytes(b"library")
    result = sandbox.publish("tool", "1.0", extras=[data])
    assert (result.entry / "tool.dll").read_bytes() == b"library"
    assert not os.path.lexists(sandbox.shim("tool.dll"))


def test_publish_from_bytes_and_python_style_commands(tmp_path: Path) -> None:
    box = Sandbox(tmp_path, "windows")
    (box.prefix / "Scripts").mkdir(parents=True)
    (box.prefix / "Scripts" / "python.exe").write_bytes(stub_bytes("arm64"))
    store = box.store()
    files = [EntryFile("tool-script.py", b"print('hi')\n")]
    commands = [Command("tool", "tool-script.py", interpreter="Scripts/python.exe")]
    result = store.publish("tool", "1.0", files, commands)
    assert store.layout().arch.value == "arm64"  # taken from the environment's python.exe
    record = (store.links_dir / "tool").read_text()
    script = f".shimgen/store/tool/{result.entry.name}/tool-script.py"
    assert record == f"shimgen-link 1\ntarget=Scripts/python.exe\nscript={script}\n"


HOSTILE_DISTS = [
    "../evil",
    "a/b",
    "a\\b",
    "",
    "con",
    "NUL",
    "x" * 101,
    "-lead",
    "trail-",
    "sp ace",
    "ünïcode",
]


WINDOWS_ONLY_DISTS = {"con", "NUL"}  # device names: a POSIX environment holds them, as pip installs them


@pytest.mark.parametrize("dist", HOSTILE_DISTS)
def test_hostile_distribution_names_are_refused(sandbox: Sandbox, dist: str) -> None:
    before = sandbox.snapshot()
    if dist in WINDOWS_ONLY_DISTS and not sandbox.windows:
        sandbox.publish(dist, "1.0", "tool")
        return
    with pytest.raises(PathRefused, match=r"distribution name|Windows environment cannot hold"):
        sandbox.publish(dist, "1.0", "tool")
    assert sandbox.snapshot() == before


@pytest.mark.parametrize("version", ["../1", "1.0/..", "", "1.", ".1", "1 0", "1\n0", "v" * 101, "1:0"])
def test_hostile_versions_are_refused(sandbox: Sandbox, version: str) -> None:
    before = sandbox.snapshot()
    if version == "1." and not sandbox.windows:  # only Windows drops a trailing dot
        sandbox.publish("tool", version, "tool")
        return
    with pytest.raises(PathRefused, match=r"version|Windows environment cannot hold"):
        sandbox.publish("tool", version, "tool")
    assert sandbox.snapshot() == before


UNIVERSAL_BAD_NAMES = ["a:b", "x" * 201, "a\x01b"]
WINDOWS_BAD_NAMES = ["con", "CON.txt", "nul", "com1", "lpt9", "trailing.", "trailing ", "q?"]


@pytest.mark.parametrize("name", UNIVERSAL_BAD_NAMES + WINDOWS_BAD_NAMES)
@pytest.mark.parametrize("layout", ["windows", "posix"])
def test_hostile_command_names_are_refused(tmp_path: Path, name: str, layout: str) -> None:
    """Everywhere, or (Windows' own rules) where the layout is Windows: pip installs 'tool.' on POSIX."""
    box = Sandbox(tmp_path, layout)
    box.prefix.mkdir()
    store = box.store()
    before = box.snapshot()
    program = _pe() if layout == "windows" else b"x"
    publish = lambda: store.publish(  # noqa: E731
        "tool", "1.0", [EntryFile("tool", program)], [Command(name, "tool")],
        kind=layout, arch="x64" if layout == "windows" else None,
    )  # fmt: skip
    if name in WINDOWS_BAD_NAMES and layout == "posix":
        publish()
        assert os.path.lexists(box.prefix / "bin" / name)
        return
    with pytest.raises(PathRefused):
        publish()
    assert box.snapshot() == before


def _pe() -> bytes:
    from shimgen import stub_bytes

    return stub_bytes("x64")


@pytest.mark.parametrize("path", ["../escape", "/abs", "C:/x", "a/../../b", "a\\b", MANIFEST_NAME, "sub/./x"])
def test_hostile_entry_paths_are_refused(sandbox: Sandbox, path: str) -> None:
    store = sandbox.store()
    before = sandbox.snapshot()
    with pytest.raises(PathRefused):
        store.publish("tool", "1.0", [EntryFile(path, b"x")], [Command("tool", path)], kind="posix")
    assert sandbox.snapshot() == before


def test_unicode_names_and_paths_work(sandbox: Sandbox) -> None:
    sandbox.publish("tool", "1.0", "wërkzeug-工具")
    assert sandbox.runs("wërkzeug-工具") == "1.0"


def test_non_pe_and_wrong_architecture_programs_are_refused(tmp_path: Path) -> None:
    box = Sandbox(tmp_path, "windows")
    box.prefix.mkdir()
    store = box.store()
    script = tmp_path / "tool.exe"
    script.write_text("#!/bin/sh\necho not a Windows program\n")
    arm = box.program("arm", "1.0", arch="arm64")
    old = box.program("old", "1.0", arch="x86")
    before = box.snapshot()
    layout = store.planned_layout("windows", "x64")
    for program, message in ((script, "not a Windows program"), (arm, "built for arm64, which an x64")):
        files, commands = native_entry([program], layout=layout)
        with pytest.raises(ShimgenError, match=message) as error:
            store.publish("tool", "1.0", files, commands, kind="windows", arch="x64")
        assert str(program) in str(error.value)
    assert box.snapshot() == before
    files, commands = native_entry([old], layout=layout)  # x86 runs on x64
    store.publish("old", "1.0", files, commands, kind="windows", arch="x64")


def test_layout_is_fixed_at_first_use(tmp_path: Path) -> None:
    box = Sandbox(tmp_path, "posix")
    box.prefix.mkdir()
    box.publish("tool", "1.0")
    with pytest.raises(ShimgenError, match="already set up as posix"):
        box.store().planned_layout("windows", "x64")
    config = json.loads((box.prefix / ".shimgen" / "config.json").read_text())
    assert config == {"format": 1, "layout": "posix", "arch": None}


def test_windows_layout_from_another_os_needs_an_architecture(tmp_path: Path) -> None:
    (tmp_path / "Scripts").mkdir()
    with pytest.raises(ShimgenError, match="--arch"):
        Store(tmp_path).planned_layout()
    assert Store(tmp_path).planned_layout(arch="x86").kind == "windows"


def test_missing_program_file(sandbox: Sandbox, tmp_path: Path) -> None:
    with pytest.raises(ShimgenError, match="no such file") as error:
        native_entry(
            [tmp_path / "absent"], layout=sandbox.store().planned_layout(sandbox.layout, sandbox.arch)
        )
    assert "absent" in str(error.value)


def test_operations_on_a_prefix_that_is_not_shimgen_create_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path)
    for operation in (lambda: store.remove("tool"), lambda: store.rollback("tool"), lambda: store.gc()):
        with pytest.raises(ShimgenError, match="not a shimgen environment"):
            operation()
    assert list(tmp_path.iterdir()) == []


def test_a_state_file_must_name_its_own_dist(sandbox: Sandbox) -> None:
    sandbox.publish("tool", "1.0")
    store = sandbox.store()
    store.state_path("tool").rename(store.state_path("other"))
    with pytest.raises(ShimgenError, match="names 'tool', not 'other'"):
        store.read_state("other")
