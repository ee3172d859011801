"""Crash consistency: every operation, interrupted at every filesystem step in turn.

A crash is simulated by raising from the os functions that change the
filesystem (create, write-flush, rename, delete, mkdir, symlink, chmod) at
step k. From that step on every such call raises too, the way a dead process
runs no cleanup. After each interruption:

- every shim that exists resolves to a complete, untampered store entry, and
  every command that existed before runs the old or the new version;
- doctor finds nothing lost (nothing it cannot fix);
- re-running the operation completes it, and then doctor finds nothing at all.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from shimgen import ShimgenError, fsutil
from shimgen.doctor import PROBLEM, doctor
from shimgen.entry import verify_entry
from shimgen.store import native_entry
from tests.helpers.faults import FaultInjector, SimulatedCrash
from tests.helpers.sandbox import Sandbox


@dataclass
class Scenario:
    name: str
    setup: Callable[[Sandbox], None]
    operation: Callable[[Sandbox], object]
    expected: dict[str, str | None]  # command -> version it runs once the operation is complete
    windows_only: bool = False


def _switch_to(version: str, *names: str, gui: tuple[str, ...] = ()) -> Callable[[Sandbox], object]:
    return lambda box: box.publish("tool", version, *names, gui=gui)


def _setup(*steps: tuple[str, tuple[str, ...]]) -> Callable[[Sandbox], None]:
    def run(box: Sandbox) -> None:
        for version, names in steps:
            box.publish("tool", version, *names)

    return run


def _gc_with_leftovers(box: Sandbox) -> None:
    _setup(("1.0", ("a",)), ("2.0", ("a",)), ("3.0", ("a",)))(box)
    store = box.store()
    (store.store_dir / "tool" / ".tmp-crashed").mkdir()
    (store.store_dir / "tool" / ".tmp-crashed" / "half").write_bytes(b"x")
    store.trash_dir.mkdir(exist_ok=True)
    (store.trash_dir / "old-launcher.exe").write_bytes(b"x")


SCENARIOS = [
    Scenario("first-publish", lambda box: None, _switch_to("1.0", "a", "b"), {"a": "1.0", "b": "1.0"}),
    Scenario(
        "switch",
        _setup(("1.0", ("a", "b", "old"))),
        _switch_to("2.0", "a", "b", "new"),
        {"a": "2.0", "b": "2.0", "old": None, "new": "2.0"},
    ),
    Scenario(
        "stub-change",
        _setup(("1.0", ("a",))),
        _switch_to("2.0", "a", gui=("a",)),
        {"a": "2.0"},
        windows_only=True,
    ),
    Scenario(
        "rollback",
        _setup(("1.0", ("a", "old")), ("2.0", ("a", "new"))),
        lambda box: box.store().rollback("tool", to="1.0"),
        {"a": "1.0", "old": "1.0", "new": None},
    ),
    Scenario(
        "remove", _setup(("1.0", ("a", "b"))), lambda box: box.store().remove("tool"), {"a": None, "b": None}
    ),
    Scenario("gc", _gc_with_leftovers, lambda box: box.store().gc(keep=0), {"a": "3.0"}),
]


def _snapshot_runs(box: Sandbox, commands: Iterator[str] | list[str]) -> dict[str, str | None]:
    return {command: box.runs(command) for command in commands}


def _check_consistent(box: Sandbox, before: dict[str, str | None], scenario: Scenario, step: str) -> None:
    store = box.store()
    shims = store.shims().present() if store.initialized else {}
    for command in shims:
        program = box.resolved(command)
        assert program is not None, f"{scenario.name}: crash at {step}: shim of {command} does not resolve"
        entry = program.parent
        assert verify_entry(entry, deep=True)[1] == [], (
            f"{scenario.name}: crash at {step}: {entry} is incomplete"
        )
    for command, version in before.items():
        now = box.runs(command)
        allowed = {version, scenario.expected.get(command)}
        assert now in allowed, (
            f"{scenario.name}: crash at {step}: {command} runs {now}, expected one of {allowed}"
        )
    lost = [f for f in doctor(store) if f.severity == PROBLEM and f.fix is None]
    assert lost == [], f"{scenario.name}: crash at {step}: doctor finds unfixable {lost}"


def _rerun(box: Sandbox, scenario: Scenario) -> None:
    try:
        scenario.operation(box)
    except ShimgenError as error:
        # Removing what is already completely removed says so; nothing else may fail.
        assert scenario.name == "remove" and "not installed" in str(error), str(error)


def _template(tmp_path: Path, layout: str, scenario: Scenario) -> Sandbox:
    box = Sandbox(tmp_path / "template", layout)
    box.prefix.mkdir(parents=True)
    scenario.setup(box)
    return box


def _count_steps(box: Sandbox, scenario: Scenario, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    with monkeypatch.context() as patch:
        injector = FaultInjector(patch, crash_at=None)
        scenario.operation(box)
    return injector.steps


CASES = [
    pytest.param(scenario, layout, id=f"{scenario.name}-{layout}")
    for scenario in SCENARIOS
    for layout in ("windows", "posix")
    if layout == "windows" or not scenario.windows_only  # POSIX has no launcher stubs to change
]


@pytest.mark.parametrize(("scenario", "layout"), CASES)
def test_crash_at_every_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout: str, scenario: Scenario, record_property
) -> None:
    # Windows has no syncfs: every file is fsynced as it is written. Test that path with the Windows
    # layout and the batched one (Linux) with the POSIX layout.
    monkeypatch.setattr(fsutil, "DEFER_FILE_SYNC", layout == "posix" and fsutil.DEFER_FILE_SYNC)
    template = _template(tmp_path, layout, scenario)
    commands = sorted(scenario.expected)
    before = _snapshot_runs(template, commands)
    # Programs for the operation are made once, outside the prefix, before counting.
    dry = Sandbox(tmp_path / "dry", layout)
    shutil.copytree(template.root, dry.root, symlinks=True)
    scenario.operation(dry)  # also creates the operation's source programs in dry's sources
    steps = _count_steps(_copy(template, tmp_path / "count"), scenario, monkeypatch)
    assert len(steps) >= 5, steps  # the operation really does filesystem work
    for k in range(1, len(steps) + 1):
        box = _copy(template, tmp_path / f"crash-{k}")
        with monkeypatch.context() as patch:
            FaultInjector(patch, crash_at=k)
            with pytest.raises(SimulatedCrash):
                scenario.operation(box)
        _check_consistent(box, before, scenario, f"step {k}/{len(steps)} ({steps[k - 1]})")
        _rerun(box, scenario)
        assert _snapshot_runs(box, commands) == scenario.expected, f"rerun after crash at step {k}"
        remaining = [f for f in doctor(box.store(), fix=True) if f.severity == PROBLEM and not f.fixed]
        assert remaining == [] and [f for f in doctor(box.store()) if f.severity == PROBLEM] == []
        shutil.rmtree(box.root)
    record_property("fault_points", len(steps))
    print(f"{scenario.name}/{layout}: {len(steps)} fault points")


def _copy(template: Sandbox, root: Path) -> Sandbox:
    shutil.copytree(template.root, root, symlinks=True)
    return Sandbox(root, template.layout)


def test_native_entry_reads_sources_outside_the_prefix(tmp_path: Path) -> None:
    """The scenarios' programs live outside the prefix, so crashes never touch them."""
    box = Sandbox(tmp_path, "posix")
    box.prefix.mkdir()
    program = box.program("a", "1.0")
    assert not program.is_relative_to(box.prefix)
    assert native_entry([program], layout=box.store().planned_layout("posix"))[1][0].name == "a"


def test_plain_rollback_interrupted_after_its_commit_is_finished_not_repeated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = Sandbox(tmp_path, "windows")
    box.prefix.mkdir()
    box.publish("tool", "1.0", "a")
    box.publish("tool", "2.0", "a")
    state_writes = 0

    def crash_after_commit(source, destination):  # type: ignore[no-untyped-def]
        nonlocal state_writes
        original(source, destination)
        if Path(destination).name == "tool.json":
            state_writes += 1
            raise SimulatedCrash("after the commit point")

    original = os.replace
    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", crash_after_commit)
        with pytest.raises(SimulatedCrash):
            box.store().rollback("tool")
    assert state_writes == 1 and box.runs("a") == "2.0"  # committed, not yet switched
    assert box.store().read_state("tool").pending == "rollback"
    box.store().rollback("tool")  # the re-run finishes it ...
    assert box.runs("a") == "1.0" and box.store().read_state("tool").pending is None
    box.store().rollback("tool")  # ... and only the next one rolls back again
    assert box.runs("a") == "2.0"
