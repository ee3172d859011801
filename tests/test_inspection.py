"""What ``shimgen inspect`` says about a file (shimgen.inspection): a shimgen launcher and whether it
would start, another tool's launcher and what it runs, any other file."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers.cli import run
from tests.helpers.foreign import PYTHON, distlib_launcher


def test_inspect_json_and_broken_exit_code(tmp_path: Path) -> None:
    scripts = tmp_path / "env" / "Scripts"
    scripts.mkdir(parents=True)
    run("generate", "tool", "--arch", "x86", "--out", str(scripts / "tool.exe"))
    code, stdout, _ = run("inspect", "--json", str(scripts / "tool.exe"))
    assert code == 3
    report = json.loads(stdout)
    assert report["kind"] == "shimgen launcher" and report["arch"] == "x86" and report["standard_stub"]
    assert report["problems"] == [f"link record missing: {tmp_path / 'env/.shimgen/links/tool'}"]
    code, stdout, _ = run("inspect", str(scripts / "tool.exe"))
    assert code == 3 and "link record missing" in stdout


def test_inspect_other_files(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("hi")
    code, stdout, _ = run("inspect", "--json", str(tmp_path / "a.txt"))
    assert code == 0 and json.loads(stdout)["kind"] == "not a Windows executable"


def test_inspect_reports_foreign_launchers(tmp_path: Path) -> None:
    launcher = distlib_launcher(tmp_path, "black = black.sub:main.run")
    code, out, _ = run("inspect", "--json", str(launcher))
    import json

    report = json.loads(out)
    assert (
        code == 0
        and report["foreign_launcher"] == "distlib"
        and report["entry_point"] == "black.sub:main.run"
    )
    assert report["interpreter"] == PYTHON
