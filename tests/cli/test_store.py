"""The store's command line: the verbs, --prefix, --json, exit codes."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.helpers.cli import link, run
from tests.helpers.sandbox import Sandbox


def test_link_list_rollback_remove_gc_doctor(box: Sandbox) -> None:
    prefix = str(box.prefix)
    code, out, err = link(box, "1.0", "tool", "helper")
    assert code == 0, err
    assert out.startswith("published tool 1.0: .shimgen/store/tool/1.0-") and "commands: tool, helper" in out
    code, out, _ = link(box, "2.0", "tool", "helper")
    assert code == 0 and "switched from 1.0" in out and box.runs("helper") == "2.0"
    code, out, _ = link(box, "2.0", "tool", "helper")
    assert code == 0 and out.startswith("reused tool 2.0")
    code, out, _ = run("list", "--prefix", prefix)
    assert out == "tool 2.0  (previous: 1.0)  commands: tool, helper\n"
    code, out, _ = run("list", "--prefix", prefix, "--json")
    (row,) = json.loads(out)
    assert row["dist"] == "tool" and row["version"] == "2.0" and row["kept"] == ["1.0"]
    assert sorted(row["commands"]) == ["helper", "tool"] and row["problem"] is None
    assert run("rollback", "--prefix", prefix, "tool")[1] == "rolled back tool: 2.0 -> 1.0\n"
    assert box.runs("tool") == "1.0"
    assert run("rollback", "--prefix", prefix, "tool", "--to", "1.0")[1] == "tool already runs 1.0\n"
    code, out, err = run("rollback", "--prefix", prefix, "tool", "--to", "9.9")
    assert code == 1 and "no kept version '9.9' (kept: 2.0)" in err
    assert run("doctor", "--prefix", prefix) == (0, "0 problem(s), 0 remaining\n", "")
    code, out, _ = run("remove", "--prefix", prefix, "tool")
    assert code == 0 and out.startswith("removed tool; commands: ")
    code, out, _ = run("gc", "--prefix", prefix, "--json")
    assert code == 0 and len(json.loads(out)["removed"]) == 2
    assert run("gc", "--prefix", prefix) == (0, "nothing to collect\n", "")
    assert run("list", "--prefix", prefix) == (0, "no distributions\n", "")


def test_doctor_exit_codes_and_json(box: Sandbox) -> None:
    link(box, "1.0")
    # What a launcher reads is lost: the link record (Windows), the symlink that is one (POSIX).
    if box.windows:
        lost, kind, said = ".shimgen/links/tool", "link-record", "link record of tool (tool) is missing"
        fix = "rewrite it to run tool 1.0"
    else:
        lost, kind, said, fix = "bin/tool", "shim", "shim of tool (tool) is missing", "write the shim"
    os.unlink(box.prefix / lost)
    code, out, _ = run("doctor", "--prefix", str(box.prefix))
    assert code == 3
    assert f"PROBLEM: {lost}: {said}" in out and f"--fix will {fix}" in out, out
    code, out, _ = run("doctor", "--prefix", str(box.prefix), "--json")
    (finding,) = json.loads(out)
    assert code == 3 and finding["kind"] == kind and finding["fixed"] is False
    code, out, _ = run("doctor", "--prefix", str(box.prefix), "--fix")
    assert code == 0 and out.startswith(f"fixed: {lost}") and box.runs("tool") == "1.0"
    # Damage that needs a person keeps exit code 3 after --fix.
    program = box.resolved("tool")
    program.write_bytes(b"tampered")
    code, out, _ = run("doctor", "--prefix", str(box.prefix), "--fix")
    assert code == 3 and "tampered" in out and "needs you" in out


def test_bad_input_exits_1_with_the_path(tmp_path: Path) -> None:
    box = Sandbox(tmp_path, "windows")
    box.prefix.mkdir()
    text = tmp_path / "tool.exe"
    text.write_text("echo hi")
    code, _, err = run("link", "--prefix", str(box.prefix), "--arch", "x64", "tool", "1.0", str(text))
    assert code == 1 and "not a Windows program" in err and str(text) in err
    code, _, err = run("link", "--prefix", str(box.prefix), "--arch", "x64", "../x", "1.0", str(text))
    assert code == 1 and "invalid distribution name '../x'" in err
    program = box.program("tool", "1.0")
    code, _, err = run(
        "link", "--prefix", str(box.prefix), "--arch", "x64", "--gui", "nope", "t", "1", str(program)
    )
    assert code == 1 and "--gui names no given program: nope" in err
    assert not (box.prefix / ".shimgen").exists()
    code, _, err = run("remove", "--prefix", str(box.prefix), "tool")
    assert code == 1 and "not a shimgen environment" in err


def test_help_explains_each_verb() -> None:
    for verb, phrase in [
        ("link", "Publish native programs"),
        ("list", "current version"),
        ("rollback", "previous version"),
        ("remove", "Works while they run"),
        ("gc", "retried on the next run"),
        ("doctor", "Exit code 0"),
    ]:
        code, out, _ = run(verb, "--help")
        assert code == 0 and phrase in " ".join(out.split()) and "--prefix" in out, verb


def test_reading_commands_on_an_untouched_environment_agree(tmp_path: Path) -> None:
    """list and doctor exited 0 there, gc exited 1: one rule, nothing of shimgen's is nothing to do."""
    prefix = tmp_path / "plain venv"
    prefix.mkdir()
    assert run("list", "--prefix", str(prefix)) == (0, f"not a shimgen environment: {prefix}\n", "")
    assert run("gc", "--prefix", str(prefix)) == (
        0,
        f"nothing to collect: not a shimgen environment: {prefix}\n",
        "",
    )
    assert run("doctor", "--prefix", str(prefix))[0] == 0
    assert list(prefix.iterdir()) == []
