"""doctor against site-packages, in the states pip and uv leave: uninstalled, a lost dist state, two
.dist-info folders, a missing interpreter."""

from __future__ import annotations

from pathlib import Path

from shimgen.doctor import doctor
from shimgen.store import Store
from tests.helpers.cli import run
from tests.helpers.environments import (
    assert_synced_and_clean,
    delete_as_an_installer,
    problems,
    shims,
)


def test_uninstalled_by_pip_doctor_fix_removes_the_commands_not_restores_them(installed_env: Path) -> None:
    """pip deleted what RECORD lists (the shims first); the store still has the commands."""
    delete_as_an_installer(installed_env, stop_at=None)
    assert shims(installed_env) == []
    assert problems(installed_env) == ["uninstalled"]
    code, out, _ = run("doctor", "--fix", "--prefix", installed_env)
    assert code == 0 and "fixed: .shimgen/dists/tool.json: tool is no longer installed" in out, out
    links = installed_env / ".shimgen" / "links"  # Windows; POSIX has only the symlinks
    assert shims(installed_env) == [] and not (links.is_dir() and list(links.iterdir()))


def test_lost_dist_state_is_rebuilt_not_its_commands_removed(installed_env: Path) -> None:
    (installed_env / ".shimgen" / "dists" / "tool.json").unlink()
    assert problems(installed_env) == ["installed-version"]
    code, out, _ = run("doctor", "--fix", "--prefix", installed_env)
    assert code == 0 and "fixed:" in out and "has no dist state" in out, out
    assert len(shims(installed_env)) == 2
    assert_synced_and_clean(installed_env)


def test_doctor_names_a_second_dist_info(installed_env: Path) -> None:
    site = next(installed_env.glob("**/site-packages"))
    second = site / "tool-0.9.dist-info"
    second.mkdir()
    (second / "METADATA").write_text("Metadata-Version: 2.1\nName: tool\nVersion: 0.9\n")
    findings = [f for f in doctor(Store(installed_env)) if f.kind == "two-dist-infos"]
    assert len(findings) == 1 and findings[0].fix is None
    assert (
        findings[0].message
        == "tool has more than one .dist-info: tool-0.9.dist-info (no RECORD), tool-1.0.dist-info"
    )


def test_posix_doctor_names_a_missing_interpreter(installed_env: Path) -> None:
    if (installed_env / "Scripts").is_dir():
        return  # Windows: the store-level check looks at Scripts/python.exe (shimgen.doctor.commands)
    (installed_env / "bin" / "python").unlink()
    findings = [f for f in doctor(Store(installed_env)) if f.kind == "missing-interpreter"]
    assert (
        len(findings) == 1 and "Python commands of 1 distribution(s) cannot run (tool)" in findings[0].message
    )
