"""Crash consistency of the library side: install, uninstall and adopt, interrupted at every filesystem
step in turn (tests/helpers/faults.py), each followed by one of the documented repairs, in rotation:
running the same command again, ``shimgen doctor --fix``, ``shimgen sync``.

After the crash: every shim that exists resolves to a complete store entry. After the repair:
exactly one ``.dist-info`` (with a true RECORD that follows shimgen's rule) or none, the command and
the library agree on the version, nothing of shimgen's is left behind (no temporaries, no journal),
and doctor finds nothing.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from shimgen import fsutil
from shimgen.adopt import adopt
from shimgen.doctor import PROBLEM, doctor
from shimgen.entry import verify_entry
from shimgen.errors import ShimgenError
from shimgen.install import install_wheel, uninstall
from shimgen.launcher import resolve_launcher
from shimgen.store import Store
from shimgen.sync import sync
from tests.helpers.faults import FaultInjector, SimulatedCrash
from tests.helpers.wheels import assert_record_follows_rule, build_wheel

# Two commands: their script (Windows) or the dispatcher (POSIX), and their launchers, are shared.
ENTRY_POINTS = "[console_scripts]\ntool = tool:main\ntool-cli = tool:main\n"


def tool_wheel(folder: Path, version: str, windows: bool) -> Path:
    program = (
        ("tool-native.exe", _stub(version))
        if windows
        else ("tool-native", f"#!/bin/sh\necho {version}\n".encode())
    )
    files = {
        "tool/__init__.py": f"VERSION = {version!r}\ndef main(): print(VERSION)\n".encode(),
        f"tool/only_{version.replace('.', '_')}.py": b"# a file one version has and the other has not\n",
        f"tool-{version}.data/scripts/{program[0]}": program[1],
    }
    folder.mkdir(parents=True, exist_ok=True)
    return build_wheel(folder, "tool", version, files, entry_points=ENTRY_POINTS)


def _stub(version: str) -> bytes:
    """A Windows program that is not a shimgen launcher: distlib's stub, with no script appended."""
    import distlib

    return (Path(distlib.__file__).parent / "t64.exe").read_bytes() + f"\nversion={version}".encode()


@dataclass
class Env:
    prefix: Path
    windows: bool
    wheels: Path

    @property
    def site(self) -> Path:
        return next(self.prefix.glob("**/site-packages"))

    def install(self, version: str) -> None:
        wheel = tool_wheel(self.wheels / version, version, self.windows)
        install_wheel(Store(self.prefix), wheel, platform="win_amd64" if self.windows else None)

    def install_foreign(self, version: str) -> None:
        """As pip leaves it: pypa/installer's own scripts (launchers on Windows) in Scripts (bin)."""
        from installer import install
        from installer.destinations import SchemeDictionaryDestination
        from installer.sources import WheelFile

        scripts = self.prefix / ("Scripts" if self.windows else "bin")
        scheme = {key: str(self.site) for key in ("purelib", "platlib")}
        scheme.update(scripts=str(scripts), headers=str(self.prefix / "include"), data=str(self.prefix))
        python = str(scripts / ("python.exe" if self.windows else "python"))
        destination = SchemeDictionaryDestination(scheme, python, "win-amd64" if self.windows else "posix")
        with WheelFile.open(tool_wheel(self.wheels / version, version, self.windows)) as source:
            install(source, destination, {"INSTALLER": b"pip\n"})

    def versions(self) -> list[str]:
        return sorted(p.name[len("tool-") : -len(".dist-info")] for p in self.site.glob("tool-*.dist-info"))

    def library_version(self) -> str | None:
        init = self.site / "tool" / "__init__.py"
        return init.read_text().split("'")[1] if init.is_file() else None

    def command_versions(self) -> set[str]:
        """The versions the commands run: of the store entries their shims resolve to."""
        found = set()
        store = Store(self.prefix)
        for shim in store.shims().present().values() if store.initialized else []:
            program = resolve_launcher(shim).target if self.windows else Path(os.path.realpath(shim))
            script = resolve_launcher(shim).script if self.windows else None
            entry = (script or program).parent if (script or program) else None
            manifest, problems = verify_entry(entry, deep=True) if entry else (None, ["unresolved"])
            assert manifest is not None and not problems, f"{shim} runs an incomplete entry: {problems}"
            found.add(manifest.version)
        return found


def _environment(root: Path, windows: bool) -> Env:
    prefix = root / "my env"
    if windows:
        (prefix / "Scripts").mkdir(parents=True)
        (prefix / "Scripts" / "python.exe").write_bytes(_stub("python"))  # a PE file: the layout's arch
        (prefix / "Lib" / "site-packages").mkdir(parents=True)
    else:
        (prefix / "bin").mkdir(parents=True)
        (prefix / "bin" / "python").symlink_to(
            os.path.realpath(shutil.which("python3") or "/usr/bin/python3")
        )
        (prefix / "pyvenv.cfg").write_text("home = /usr/bin\nversion_info = 3.11.7\n")
        (prefix / "lib" / "python3.11" / "site-packages").mkdir(parents=True)
    return Env(prefix, windows, root / "wheels")


@dataclass
class Scenario:
    name: str
    setup: Callable[[Env], None]
    operation: Callable[[Env], object]
    before: str | None  # the version installed before the operation (None: not installed)
    done: str | None  # and after it, complete: what re-running it must reach; doctor --fix and sync
    # finish or roll back, so they reach one or the other
    in_place: bool = False  # set up in each copy (what it installs records absolute paths)


SCENARIOS = [
    Scenario("first-install", lambda env: None, lambda env: env.install("1.0"), None, "1.0"),
    Scenario("upgrade", lambda env: env.install("1.0"), lambda env: env.install("2.0"), "1.0", "2.0"),
    Scenario("reinstall", lambda env: env.install("1.0"), lambda env: env.install("1.0"), "1.0", "1.0"),
    Scenario(
        "uninstall",
        lambda env: env.install("1.0"),
        lambda env: uninstall(Store(env.prefix), "tool"),
        "1.0",
        None,
    ),
    Scenario(
        "adopt",
        lambda env: env.install_foreign("1.0"),
        lambda env: adopt(Store(env.prefix), platform="win_amd64" if env.windows else None),
        "1.0",
        "1.0",
        in_place=True,
    ),
]


def _repair(env: Env, scenario: Scenario, how: str) -> None:
    if how == "rerun":
        try:
            scenario.operation(env)
        except ShimgenError as error:
            # Uninstalling what is already completely uninstalled says so; nothing else may fail.
            assert scenario.name == "uninstall" and "not installed" in error.message, str(error)
    elif how == "doctor":
        remaining = [f for f in doctor(Store(env.prefix), fix=True) if f.severity == PROBLEM and not f.fixed]
        assert remaining == [], remaining
    else:
        sync(Store(env.prefix))


def _check_repaired(env: Env, scenario: Scenario, how: str, step: str) -> None:
    where = f"{scenario.name}: crash at {step}, repaired by {how}"
    versions = env.versions()
    assert len(versions) <= 1, f"{where}: {versions}"
    installed = versions[0] if versions else None
    allowed = (scenario.done,) if how == "rerun" else (scenario.before, scenario.done)
    assert installed in allowed, f"{where}: {installed} not in {allowed}"
    if installed is None:
        assert env.library_version() is None and env.command_versions() == set(), where
    elif scenario.name == "adopt" and how == "doctor" and not env.command_versions():
        pass  # doctor does not adopt: the commands are still the installer's, untouched, and run 1.0
    else:
        assert assert_record_follows_rule(env.site / f"tool-{installed}.dist-info")
        assert env.library_version() == installed and env.command_versions() == {installed}, where
    leftovers = [p for p in env.prefix.rglob("*.tmp") if ".shimgen" not in p.parts]
    assert leftovers == [], f"{where}: {leftovers}"
    assert not list((env.prefix / ".shimgen").glob("installs/*.json")), where
    problems = [f for f in doctor(Store(env.prefix)) if f.severity == PROBLEM]
    assert problems == [], f"{where}: {problems}"


CASES = [
    pytest.param(scenario, layout, id=f"{scenario.name}-{layout}")
    for scenario in SCENARIOS
    for layout in ("windows", "posix")
]


@pytest.mark.parametrize(("scenario", "layout"), CASES)
def test_library_side_crash_at_every_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scenario: Scenario, layout: str
) -> None:
    windows = layout == "windows"
    monkeypatch.setattr(fsutil, "DEFER_FILE_SYNC", not windows and fsutil.DEFER_FILE_SYNC)
    template = _environment(tmp_path / "template", windows)
    if not scenario.in_place:
        scenario.setup(template)
    for version in ("1.0", "2.0"):  # the wheels exist before counting: only the operation writes
        tool_wheel(template.wheels / version, version, windows)
    counting = _copy(template, tmp_path / "count", setup=scenario.setup if scenario.in_place else None)
    with monkeypatch.context() as patch:
        injector = FaultInjector(patch, crash_at=None)
        scenario.operation(counting)
    steps = injector.steps
    assert len(steps) >= 10, steps
    if scenario.done is not None:  # what writes commands crashes on the shared files' every step
        shared = "link " if windows else "symlink "  # one script (and launcher) per entry, or the dispatcher
        assert any(step.startswith(shared) for step in steps), steps
    for k in range(1, len(steps) + 1):
        env = _copy(template, tmp_path / f"crash-{k}", setup=scenario.setup if scenario.in_place else None)
        with monkeypatch.context() as patch:
            FaultInjector(patch, crash_at=k)
            with pytest.raises(SimulatedCrash):
                scenario.operation(env)
        env.command_versions()  # every shim that exists resolves to a complete entry
        how = ("rerun", "doctor", "sync")[k % 3]
        _repair(env, scenario, how)
        _check_repaired(env, scenario, how, f"step {k}/{len(steps)} ({steps[k - 1]})")
        shutil.rmtree(env.prefix.parent)
    print(f"{scenario.name}/{layout}: {len(steps)} fault points")


def _copy(template: Env, root: Path, setup: Callable[[Env], None] | None = None) -> Env:
    shutil.copytree(template.prefix.parent, root, symlinks=True)
    env = Env(root / "my env", template.windows, template.wheels)
    if setup is not None:
        setup(env)
    return env


@pytest.mark.parametrize("layout", ["windows", "posix"])
def test_a_links_folder_that_refuses_writes_leaves_one_version_each_repair_finishes(
    tmp_path: Path, layout: str
) -> None:
    """The issue's report: links refuse writes (chattr +i) during an upgrade. It used to exit 1 saying the
    old state still works, with a RECORD-less second .dist-info beside the old one. The link records
    are files in .shimgen/links on Windows, and the symlinks in bin on POSIX."""
    env = _environment(tmp_path, windows=layout == "windows")
    env.install("1.0")
    links = env.prefix / (".shimgen/links" if env.windows else "bin")
    os.system(f"chattr +i '{links}'")
    try:
        assert not os.access(links, os.W_OK) or _refuses_writes(links), "chattr +i is needed for this test"
        with pytest.raises(ShimgenError) as caught:
            env.install("2.0")
        assert (
            "tool 2.0 is installed halfway" in caught.value.message
            and "run the same command again" in caught.value.hint
        )
        findings = {f.kind for f in doctor(Store(env.prefix)) if f.severity == PROBLEM}
        assert "interrupted-install" in findings
    finally:
        os.system(f"chattr -i '{links}'")
    sync(Store(env.prefix))
    assert env.versions() == ["2.0"] and env.library_version() == "2.0" and env.command_versions() == {"2.0"}
    assert [f for f in doctor(Store(env.prefix)) if f.severity == PROBLEM] == []


def _refuses_writes(folder: Path) -> bool:
    try:
        (folder / ".probe").touch()
    except OSError:
        return True
    (folder / ".probe").unlink()
    return False
