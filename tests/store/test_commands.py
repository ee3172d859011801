"""Which commands a dist may have: none another dist owns, none a foreign file blocks, never the
environment's own interpreter."""

from __future__ import annotations

from pathlib import Path

import pytest

from shimgen import ShimgenError
from tests.helpers.cli import run
from tests.helpers.environments import site_of
from tests.helpers.sandbox import Sandbox
from tests.helpers.wheels import build_wheel


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


def test_a_command_named_like_the_interpreter_is_refused_as_such(tmp_path: Path, venv: Path) -> None:
    """Its hint used to tell the user to remove the file in the way: the environment's own Python."""
    wheel = build_wheel(tmp_path, "evil", "1.0", {"evil.py": b"def main(): pass\n"},
                        entry_points="[console_scripts]\npython = evil:main\n")  # fmt: skip
    code, _, err = run("install", "--prefix", venv, wheel)
    assert code == 1 and "command 'python' would replace python, the environment's own interpreter" in err, (
        err
    )
    assert "no distribution may provide this command" in err
    assert not list(site_of(venv).glob("evil*")) and (venv / "bin" / "python").exists()
