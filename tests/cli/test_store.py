"""The store's command line: the verbs, --prefix, --json, exit codes, and two writers at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers.cli import link, run
from tests.helpers.sandbox import Sandbox


def shimgen(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    return subprocess.run(
        [sys.executable, "-m", "shimgen", *args], capture_output=True, text=True, timeout=60, **kwargs
    )


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


def test_prefix_defaults_to_the_active_virtual_environment(
    box: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    link(box, "1.0")
    code, out, _ = run("list", env={"VIRTUAL_ENV": str(box.prefix)})
    assert code == 0 and out.startswith("tool 1.0")
    # No environment named, none found from here, shimgen not in one: a usage error listing what was tried.
    monkeypatch.chdir(box.root)
    monkeypatch.setattr(sys, "prefix", sys.base_prefix)
    code, _, err = run("list", env={"VIRTUAL_ENV": ""})
    assert code == 2 and "no environment chosen; tried: --prefix (not given); VIRTUAL_ENV (not set)" in err
    assert f"a .venv in {box.root} or a folder above it (none)" in err and "pass --prefix DIR" in err
    # A project's .venv, from a folder below it.
    (box.root / ".venv").symlink_to(box.prefix)
    (box.prefix / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (box.root / "src").mkdir()
    monkeypatch.chdir(box.root / "src")
    code, out, _ = run("list", env={"VIRTUAL_ENV": ""})
    assert code == 0 and out.startswith("tool 1.0")
    code, _, err = run("gc", "--prefix", str(box.root / "nowhere"))
    assert code == 1 and "not an existing folder" in err and "nowhere" in err


def test_doctor_exit_codes_and_json(box: Sandbox) -> None:
    link(box, "1.0")
    os.unlink(box.prefix / ".shimgen" / "links" / "tool")
    code, out, _ = run("doctor", "--prefix", str(box.prefix))
    assert code == 3
    assert "PROBLEM: .shimgen/links/tool: link record of tool (tool) is missing" in out
    assert "--fix will rewrite it to run tool 1.0" in out
    code, out, _ = run("doctor", "--prefix", str(box.prefix), "--json")
    (finding,) = json.loads(out)
    assert code == 3 and finding["kind"] == "link-record" and finding["fixed"] is False
    code, out, _ = run("doctor", "--prefix", str(box.prefix), "--fix")
    assert code == 0 and out.startswith("fixed: .shimgen/links/tool") and box.runs("tool") == "1.0"
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


HOLD_LOCK = """
import sys, time
from shimgen.store import Store
with Store(sys.argv[1]).locked():
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _hold_lock(prefix: Path, seconds: float) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(prefix), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
    return holder


def test_second_writer_fails_clearly_when_the_lock_is_not_released(box: Sandbox) -> None:
    link(box, "1.0")
    before = box.snapshot()
    holder = _hold_lock(box.prefix, 30)
    try:
        program = box.program("tool", "2.0")
        started = time.monotonic()
        result = shimgen(
            "link", "--prefix", str(box.prefix), "--lock-timeout", "0.5", "tool", "2.0", str(program)
        )
        assert result.returncode == 1
        assert "another shimgen is changing this environment (waited 0.5 s for its lock)" in result.stderr
        assert str(box.prefix / ".shimgen" / "lock") in result.stderr
        assert time.monotonic() - started < 20
    finally:
        holder.kill()
        holder.wait()
    assert box.snapshot() == before and box.runs("tool") == "1.0"


def test_second_writer_waits_for_the_first(box: Sandbox) -> None:
    link(box, "1.0")
    holder = _hold_lock(box.prefix, 1.5)
    program = box.program("tool", "2.0")
    result = shimgen("link", "--prefix", str(box.prefix), "tool", "2.0", str(program))
    holder.wait()
    assert result.returncode == 0, result.stderr
    assert "waiting for another shimgen to finish" in result.stderr and box.runs("tool") == "2.0"


def test_many_writers_at_once_leave_a_consistent_store(box: Sandbox) -> None:
    link(box, "1.0", "a", "b")
    programs = {v: [str(box.program(n, v)) for n in ("a", "b")] for v in ("2.0", "3.0", "4.0", "5.0")}
    writers = [
        subprocess.Popen(
            [sys.executable, "-m", "shimgen", "link", "--prefix", str(box.prefix), "tool", v, *files],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for v, files in programs.items()
    ]
    results = [(w.wait(timeout=60), w.stderr.read() if w.stderr else "") for w in writers]
    assert all(code == 0 for code, _ in results), results
    assert box.runs("a") == box.runs("b") and box.runs("a") in programs
    assert run("doctor", "--prefix", str(box.prefix))[0] == 0


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


def test_lock_timeout_zero_fails_without_saying_it_waits(box: Sandbox) -> None:
    """It printed "waiting for another shimgen" and then failed at once."""
    link(box, "1.0")
    holder = _hold_lock(box.prefix, 30)
    try:
        code, _, err = run("remove", "--prefix", str(box.prefix), "--lock-timeout", "0", "tool")
        assert code == 1 and "another shimgen is changing this environment" in err and "waiting" not in err
    finally:
        holder.kill()
        holder.wait()


def test_an_invalid_link_record_says_why(box: Sandbox) -> None:
    link(box, "1.0")
    (box.prefix / ".shimgen" / "links" / "tool").write_bytes(b"shimgen-link 1\ntarget=../outside.exe\n")
    code, out, _ = run("doctor", "--prefix", str(box.prefix))
    assert code == 3 and "link record of tool (tool) is invalid (refused path '../outside.exe'" in out, out
