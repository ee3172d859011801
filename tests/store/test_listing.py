"""What ``shimgen list`` shows: an unreadable state is a row with its problem."""

from __future__ import annotations

from tests.helpers.sandbox import Sandbox


def test_list_shows_an_unreadable_state_as_a_problem_row(sandbox: Sandbox) -> None:
    from click.testing import CliRunner

    from shimgen.cli import main

    sandbox.publish("tool", "1.0")
    sandbox.publish("other", "1.0")
    sandbox.store().state_path("other").write_text("{")
    result = CliRunner().invoke(main, ["list", "--prefix", str(sandbox.prefix)])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].startswith("other ?  PROBLEM: invalid dist state")
    assert result.stdout.splitlines()[1].startswith("tool 1.0")
