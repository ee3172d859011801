"""config.json: a lost one is a problem; one contradicting the environment is rewritten by what it shows."""

from __future__ import annotations

from pathlib import Path

from shimgen.doctor import doctor
from tests.helpers.cli import run
from tests.helpers.environments import (
    problems,
    shims,
)
from tests.helpers.sandbox import Sandbox


def test_missing_config_is_a_problem(sandbox: Sandbox) -> None:
    sandbox.publish("tool", "1.0")
    (sandbox.prefix / ".shimgen" / "config.json").unlink()
    (finding,) = doctor(sandbox.store())
    assert finding.kind == "config" and finding.path == sandbox.prefix / ".shimgen" / "config.json"


def test_a_config_that_contradicts_the_environment_is_repaired_by_what_it_shows(installed_env: Path) -> None:
    """A POSIX environment whose config.json says windows: doctor --fix wrote Scripts\\*.exe beside the
    stale bin/ symlinks and reported 0 remaining."""
    if (installed_env / "Scripts").is_dir():
        return  # the other way round is the same code; this is the reported case
    config = installed_env / ".shimgen" / "config.json"
    config.write_text('{"format": 1, "layout": "windows", "arch": "x64"}\n')
    assert problems(installed_env) == ["config"]
    code, out, _ = run("doctor", "--fix", "--prefix", installed_env)
    assert code == 0 and "config.json says windows, but the shims and the interpreter show a posix" in out, (
        out
    )
    assert '"layout": "posix"' in config.read_text() and not (installed_env / "Scripts").exists()
    assert problems(installed_env) == [] and shims(installed_env) == ["tool", "tool-native"]
